"""Dispatch: one order by hand, or the supplier's dispatch file.

The file is processed row by row, each row its own transaction: a bad row is reported
with its line number and does not stop the good ones; re-importing changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from avasam_cli.core.batches import batched
from avasam_cli.core.csvfile import open_csv
from avasam_cli.core.errors import AvasamError, InvalidInput, NotAllowed, NotFound
from avasam_cli.core.lifecycle import (
    CancelReason,
    Shipping,
    Status,
    display_id,
    transition,
)
from avasam_cli.core.models import Order
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.services.cancellation import cancel_locked
from avasam_cli.core.services.lookup import find_order_id, lock_order
from avasam_cli.core.services.order_ids import NUMBER
from avasam_cli.core.services.outbox import Outbox
from avasam_cli.core.statuses import DispatchFileStatus, UpdateKind
from avasam_cli.core.workspace import Workspace

COLUMNS = ["OrderNumber", "Status", "TrackingNumber", "Carrier"]


@dataclass
class RowResult:
    line: int
    order: str
    outcome: str  # dispatched | cancelled | unchanged | error
    detail: str


def dispatch_order(
    ws: Workspace, ident: str, tracking: str, carrier: str | None
) -> tuple[int, str]:
    """Mark one order dispatched; returns its id and what happened ('dispatched' or
    'unchanged')."""
    with ws.uow() as uow:
        order = lock_order(uow.session, find_order_id(uow.session, ident))
        outcome = dispatch_locked(uow.session, order, tracking, carrier, ws.actor, ws.now())
        uow.commit()
        return order.id, outcome


def dispatch_locked(
    session: Session,
    order: Order,
    tracking: str,
    carrier: str | None,
    actor: str,
    at: datetime,
    source: str | None = None,
    outbox: Outbox | None = None,
) -> str:
    """Dispatch a row-locked order; `source` (a feed's file) goes into its audit event;
    `outbox`: the file's, prepared for its batch of orders."""
    tracking = tracking.strip()
    if not tracking:
        raise InvalidInput("a tracking number is needed to dispatch an order")
    if order.status == Status.DISPATCHED:
        if order.tracking_number == tracking:
            return "unchanged"
        raise NotAllowed(
            f"order {display_id(order)} was already dispatched with tracking "
            f"{order.tracking_number}"
        )
    if order.status != Status.OPEN:
        raise NotAllowed(
            f"order {display_id(order)} is {order.status}; only an open order can be dispatched"
        )
    transition(
        session,
        order,
        Status.DISPATCHED,
        actor=actor,
        at=at,
        details={"tracking": tracking, "carrier": carrier} | ({"source": source} if source else {}),
    )
    order.shipping_status, order.dispatched_at = Shipping.SHIPPED, at
    order.tracking_number, order.carrier = tracking, carrier
    # the channel hears of it later
    (outbox or Outbox(session, [order])).queue(order, UpdateKind.DISPATCH, at)
    return "dispatched"


def import_dispatches(
    ws: Workspace, path: Path, progress: Progress = SILENT
) -> Iterator[RowResult]:
    with open_csv(path, COLUMNS, progress) as rows:
        for line, raw in rows:
            number = raw["OrderNumber"]
            try:
                outcome = _import_row(ws, raw["Status"].upper(), number, raw)
            except AvasamError as exc:
                yield RowResult(line, number, "error", str(exc))
                continue
            yield RowResult(line, number, outcome, raw["TrackingNumber"] or "")


def _import_row(ws: Workspace, status: str, number: str, raw: dict[str, str]) -> str:
    _file_status(raw["Status"])
    if not number:
        raise InvalidInput("column OrderNumber: is empty")
    with ws.uow() as uow:
        session = uow.session
        order_id = session.scalar(select(Order.id).where(Order.number == number.upper()))
        if order_id is None:
            raise NotFound(f"column OrderNumber: no order {number!r}")
        order = lock_order(session, order_id)
        outcome = _apply_row(session, order, raw, ws.actor, ws.now(), None)
        uow.commit()
        return outcome


def _file_status(text: str) -> DispatchFileStatus:
    """The Status column: SHIPPED (or DISPATCHED) or CANCELLED (or CANCELED), any case."""
    status = {"DISPATCHED": "SHIPPED", "CANCELED": "CANCELLED"}.get(text.upper(), text.upper())
    if status not in tuple(DispatchFileStatus):
        raise InvalidInput(f"column Status: {text!r} must be SHIPPED or CANCELLED")
    return DispatchFileStatus(status)


def _apply_row(
    session: Session,
    order: Order,
    raw: dict[str, str],
    actor: str,
    at: datetime,
    source: str | None,
    outbox: Outbox | None = None,
) -> str:
    """One row of a dispatch file, on its row-locked order: 'dispatched', 'cancelled' or
    'unchanged'; raises AvasamError (nothing changed) for a row that cannot apply."""
    if _file_status(raw["Status"]) == DispatchFileStatus.SHIPPED:
        tracking, carrier = raw["TrackingNumber"], raw.get("Carrier") or None
        if not tracking:
            raise InvalidInput("column TrackingNumber: is empty for a SHIPPED order")
        for column, value in (("TrackingNumber", tracking), ("Carrier", carrier)):
            if value is not None and (len(value) > 100 or not value.isprintable()):
                raise InvalidInput(f"column {column}: must be plain text of up to 100 characters")
        return dispatch_locked(session, order, tracking, carrier, actor, at, source, outbox)
    return _supplier_cancel(session, order, actor, at, source)


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
        if len(self.problems) < KEPT_PROBLEMS:  # a file of junk must not fill the memory
            self.problems.append((line, ref, message))


KEPT_PROBLEMS = 1000


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
        refs = {raw["OrderNumber"].strip() for _, raw in batch if raw["OrderNumber"].strip()}
        found = _supplier_orders(session, supplier_id, refs)
        outbox = Outbox(session, [o for orders in found.values() for o in orders])
        for line, raw in batch:
            ref = raw["OrderNumber"].strip()
            try:
                order = _order_of(found, ref)
                if _file_status(raw["Status"]) == DispatchFileStatus.CANCELLED:
                    with session.begin_nested():  # a refund is several writes: all or none
                        outcome = _apply_row(session, order, raw, actor, at, source)
                else:
                    with session.no_autoflush:  # the batch is flushed at its end
                        outcome = _apply_row(session, order, raw, actor, at, source, outbox)
            except AvasamError as exc:
                report.problem(line, ref or None, str(exc))
                continue
            if outcome == "unchanged":
                report.unchanged += 1
            else:
                report.changed += 1
        session.flush()
    return report


FILE_BATCH = 500  # rows whose orders are read (and row-locked) together


def _supplier_orders(session: Session, supplier_id: int, refs: set[str]) -> dict[str, list[Order]]:
    """The supplier's orders the references name (number, or channel reference), locked in
    ascending id order like every writer that holds several orders."""
    numbers = [ref.upper() for ref in refs if NUMBER.match(ref)]
    ids = select(Order.id).where(
        Order.supplier_id == supplier_id,
        or_(Order.number.in_(numbers), Order.channel_reference.in_(list(refs))),
    )
    orders = session.scalars(
        select(Order)
        .where(Order.id.in_(ids))
        .order_by(Order.id)
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )
    found: dict[str, list[Order]] = {}
    for order in orders:
        if order.number:
            found.setdefault(order.number, []).append(order)
        if order.channel_reference:
            found.setdefault(order.channel_reference, []).append(order)
    return found


def _order_of(found: dict[str, list[Order]], ref: str) -> Order:
    if not ref:
        raise InvalidInput("column OrderNumber: is empty")
    candidates = found.get(ref.upper() if NUMBER.match(ref) else ref, [])
    if not candidates:
        raise NotFound(f"column OrderNumber: no order {ref!r} of this supplier")
    if len(candidates) > 1:
        numbers = ", ".join(str(order.number) for order in candidates)
        raise InvalidInput(
            f"column OrderNumber: {ref!r} is the reference of several orders ({numbers}); "
            "use the order number"
        )
    return candidates[0]


def _supplier_cancel(
    session: Session, order: Order, actor: str, at: datetime, source: str | None = None
) -> str:
    if order.status == Status.CANCELLED:
        return "unchanged"
    if order.status != Status.OPEN:
        raise NotAllowed(
            f"order {display_id(order)} is {order.status}; the supplier can "
            "only cancel an open order"
        )
    cancel_locked(
        session,
        order,
        CancelReason.SUPPLIER_CANCELLED,
        actor=actor,
        at=at,
        note=f"cancelled by the supplier in {source}"
        if source
        else "cancelled by the supplier in their dispatch file",
    )
    return "cancelled"
