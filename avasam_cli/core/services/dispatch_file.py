"""A supplier's dispatch file fetched by an import feed, applied in one transaction.

Rows are taken in batches of FILE_BATCH: the batch's orders are read (row-locked, in
ascending id like every writer holding several orders) as plain rows, each row is checked
by the same rules as `orders dispatch` (dispatch.check_dispatch) and moved with
`lifecycle.move_row`, and the batch is written with three bulk statements: the orders, their
audit events, their channel updates. Fifty thousand rows take seconds, where one ORM object
per order took most of a minute on PostgreSQL. A supplier's cancel (a refund: several
writes) goes through the ORM in a savepoint, as `dispatches import` does it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from avasam_cli.core.batches import batched
from avasam_cli.core.errors import AvasamError, InvalidInput, NotFound
from avasam_cli.core.lifecycle import Shipping, Status, move_row
from avasam_cli.core.models import ChannelUpdate, Order, OrderEvent
from avasam_cli.core.services.dispatch import (
    check_dispatch,
    check_supplier_cancel,
    dispatch_details,
    file_status,
    shipped,
    supplier_cancel,
)
from avasam_cli.core.services.lookup import lock_order
from avasam_cli.core.services.order_ids import NUMBER
from avasam_cli.core.services.outbox import OrderFacts, Outbox
from avasam_cli.core.statuses import DispatchFileStatus, UpdateKind

FILE_BATCH = 500  # rows whose orders are read (and row-locked) together
KEPT_PROBLEMS = 1000  # problem rows kept per file: a file of junk must not fill the memory
COLUMNS = (
    Order.id,
    Order.number,
    Order.channel_reference,
    Order.status,
    Order.tracking_number,
    Order.source_order_id,
    Order.channel_id,
    Order.cancel_reason,
)


@dataclass
class FileReport:
    """What one dispatch file did: rows that changed an order, rows already applied, and
    the rows that could not apply (line, order reference, why)."""

    changed: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str | None, str]] = field(default_factory=list)
    problem_count: int = 0  # all of them; `problems` keeps the first KEPT_PROBLEMS

    def problem(self, line: int, ref: str | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append((line, ref, message))


def apply_dispatch_file(
    session: Session,
    supplier_id: int,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    source: str,
    actor: str,
    at: datetime,
) -> FileReport:
    """A supplier's dispatch file in the caller's transaction (one per file): each good row
    dispatches or cancels its order; a row that cannot apply is listed and changes nothing.
    Rows name the supplier's own orders only, by order number or channel reference."""
    report = FileReport()
    for batch in batched(rows, FILE_BATCH):
        _Batch(session, supplier_id, source, actor, at).run(batch, report)
    return report


class _Batch:
    def __init__(
        self, session: Session, supplier_id: int, source: str, actor: str, at: datetime
    ) -> None:
        self.session, self.supplier_id = session, supplier_id
        self.source, self.actor, self.at = source, actor, at
        self.changed: dict[int, dict[str, Any]] = {}  # order id -> its row, to write
        self.events: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []

    def run(self, batch: list[tuple[int, dict[str, str]]], report: FileReport) -> None:
        refs = {raw["OrderNumber"].strip() for _, raw in batch if raw["OrderNumber"].strip()}
        self.found = self._orders(refs)
        rows = {row["id"]: row for rows in self.found.values() for row in rows}
        self.outbox = Outbox(
            self.session, [row["source_order_id"] for row in rows.values()], list(rows)
        )
        for line, raw in batch:
            ref = raw["OrderNumber"].strip()
            try:
                outcome = self._apply(ref, raw)
            except AvasamError as exc:
                report.problem(line, ref or None, str(exc))
                continue
            if outcome:
                report.changed += 1
            else:
                report.unchanged += 1
        self._write()

    def _apply(self, ref: str, raw: dict[str, str]) -> bool:
        """Apply one row; False when it changes nothing (applied before)."""
        order = self._order_of(ref)
        shown = order["number"] or order["channel_reference"] or f"#{order['id']}"
        if file_status(raw["Status"]) == DispatchFileStatus.CANCELLED:
            if not check_supplier_cancel(order["status"], shown):
                return False
            with self.session.begin_nested():  # a refund is several writes: all or none
                supplier_cancel(
                    self.session, lock_order(self.session, order["id"]), self.actor, self.at,
                    self.source,
                )  # fmt: skip
            order["status"] = Status.CANCELLED
            return True
        tracking, carrier = shipped(raw)
        tracking = tracking.strip()
        if not check_dispatch(order["status"], order["tracking_number"], shown, tracking):
            return False
        details = dispatch_details(tracking, carrier, self.source)
        self.events.append(
            move_row(order, Status.DISPATCHED, actor=self.actor, at=self.at, details=details)
        )
        order.update(
            shipping_status=Shipping.SHIPPED,
            dispatched_at=self.at,
            tracking_number=tracking,
            carrier=carrier,
        )
        self.changed[order["id"]] = order
        update_row = self.outbox.row(
            OrderFacts(
                order["id"],
                order["source_order_id"],
                order["channel_id"],
                tracking,
                carrier,
                order["cancel_reason"],
            ),
            UpdateKind.DISPATCH,
            self.at,
        )
        if update_row is not None:  # the channel hears of it later (channels push)
            self.updates.append(update_row)
        return True

    def _write(self) -> None:
        written = ("status", "shipping_status", "dispatched_at", "tracking_number", "carrier")
        if self.changed:
            self.session.execute(
                update(Order),
                [
                    {"id": row["id"], "updated_at": row["updated_at"]}
                    | {name: row[name] for name in written}
                    for row in self.changed.values()
                ],
            )
        if self.events:
            self.session.execute(insert(OrderEvent), self.events)
        if self.updates:
            self.session.execute(insert(ChannelUpdate), self.updates)

    def _orders(self, refs: set[str]) -> dict[str, list[dict[str, Any]]]:
        """The supplier's orders the references name (number, or channel reference), by
        each name they answer to."""
        # A reference shaped like an order number names that order (as `_order_of` reads
        # it): only the others are looked up as channel references.
        numbers = [ref.upper() for ref in refs if NUMBER.match(ref)]
        others = [ref for ref in refs if not NUMBER.match(ref)]
        named = [Order.number.in_(numbers)] if numbers else []
        named += [Order.channel_reference.in_(others)] if others else []
        if not named:
            return {}
        # By the names' own indexes only: with `supplier_id = ?` beside them, SQLite
        # (without ANALYZE statistics) walks all the supplier's orders instead. Another
        # supplier's order is left out here, so the row says "no order of this supplier".
        rows = self.session.execute(
            select(*COLUMNS, Order.supplier_id)
            .where(or_(*named))
            .order_by(Order.id)
            .with_for_update(of=Order)
        )
        found: dict[str, list[dict[str, Any]]] = {}
        for row in rows.mappings():
            order = dict(row)
            if order.pop("supplier_id") != self.supplier_id:
                continue
            for name in {order["number"], order["channel_reference"]} - {None, ""}:
                found.setdefault(name, []).append(order)
        return found

    def _order_of(self, ref: str) -> dict[str, Any]:
        if not ref:
            raise InvalidInput("column OrderNumber: is empty")
        candidates = self.found.get(ref.upper() if NUMBER.match(ref) else ref, [])
        if not candidates:
            raise NotFound(f"column OrderNumber: no order {ref!r} of this supplier")
        if len(candidates) > 1:
            numbers = ", ".join(str(order["number"]) for order in candidates)
            raise InvalidInput(
                f"column OrderNumber: {ref!r} is the reference of several orders ({numbers}); "
                "use the order number"
            )
        return candidates[0]
