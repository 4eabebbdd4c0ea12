"""`channels pull`: bring in channel orders, idempotently and resumably.

Each adapter batch (a dropped file, or one API page) is one transaction; the channel's
cursor is saved in that same transaction, so a pull killed half-way resumes where the
last committed batch ended. A channel order seen before is found by its (channel,
external id) key and never creates orders twice; if its content changed upstream, our
orders are updated:
- cancelled on the channel: cancelled (refunded if paid), or refused once shipped;
- otherwise, an order that has not gone to the supplier (status matching, unmatched, held
  or queue, and not received by the supplier) takes the new delivery fields, shipping
  method, line quantities, prices and titles, and lines added or removed (when the channel
  order is one order of ours and an added line is for its supplier, or it has no supplier
  yet), with one `updated_by_channel` audit event per field (field, old, new);
- an order that has gone to the supplier (open, dispatched, cancelled, or received), or
  whose added lines cannot be applied, is not changed: a `channel_change_ignored` event
  names the fields and why, the pull reports it, and `status` lists it under
  `channel_changes_not_applied` until a ticket is raised for the order.
Changes to the reference, placed_at or notes alone are stored in the content hash only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from avasam_cli.core.channels import Batch, adapter_for
from avasam_cli.core.csvfile import FileFormatError
from avasam_cli.core.errors import AvasamError, NotAllowed, no_channel
from avasam_cli.core.incoming import IncomingLine, IncomingOrder
from avasam_cli.core.lifecycle import (
    CHANGE_IGNORED,
    CancelReason,
    Status,
    check_direct_cancel,
    display_id,
    record_event,
)
from avasam_cli.core.models import (
    Channel,
    ChannelProblem,
    Order,
    OrderEvent,
    OrderLine,
    SourceOrder,
)
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.services.cancellation import cancel_locked
from avasam_cli.core.services.intake import create_orders, insert_sources, line_row
from avasam_cli.core.services.lookup import get_channel, lock_order
from avasam_cli.core.services.matching import shipping_map
from avasam_cli.core.services.pull_summary import PullSummary
from avasam_cli.core.services.sku_links import SkuResolver
from avasam_cli.core.statuses import EDITED
from avasam_cli.core.workspace import Workspace

EDITABLE = (Status.MATCHING, Status.UNMATCHED, Status.HELD, Status.QUEUE)
# What storing a value the checks did not catch can raise: a file holding one is rejected.
UNSTORABLE = (DataError, ValueError, OverflowError, RecursionError, UnicodeError)


def channels_to_pull(ws: Workspace, names: list[str], every: bool) -> list[str]:
    with ws.uow(read_only=True) as uow:
        query = (
            select(Channel.name, Channel.enabled)
            .where(Channel.removed_at.is_(None), Channel.type != "manual")
            .order_by(Channel.name)
        )
        known = {name: enabled for name, enabled in uow.session.execute(query)}
    if every or not names:
        return [name for name, enabled in known.items() if enabled]
    for name in names:
        if name not in known:
            raise no_channel(name)
        if not known[name]:
            raise NotAllowed(f"channel {name} is disabled; `avasam channels enable {name}`")
    return names


def pull_channel(
    ws: Workspace, name: str, since: datetime | None, progress: Progress = SILENT
) -> PullSummary:
    """Pull one channel; `progress` counts the orders read (the total is never known)."""
    summary = PullSummary(name)
    progress.start(None)
    try:
        _pull(ws, name, since, summary, progress)
    except AvasamError as exc:
        summary.error = str(exc)
    except Exception as exc:  # one channel's failure never stops the others
        # Only the type: the message of a database error holds SQL parameters (addresses).
        summary.error = (
            f"unexpected failure ({type(exc).__name__}); the batch being read was not saved"
        )
    _keep_problems(ws, name, summary)
    return summary


def _keep_problems(ws: Workspace, name: str, summary: PullSummary) -> None:
    """Rejected files and refused API orders stay listed (`channels errors`) after the
    terminal or cron's mail is gone."""
    problems = summary.problems + ([summary.error] if summary.error else [])
    if not problems:
        return
    with ws.uow() as uow:
        channel_id = get_channel(uow.session, name).id
        uow.session.add_all(
            ChannelProblem(channel_id=channel_id, at=ws.now(), problem=problem[:1000])
            for problem in problems
        )
        uow.commit()


def _pull(
    ws: Workspace, name: str, since: datetime | None, summary: PullSummary, progress: Progress
) -> None:
    with ws.uow(read_only=True) as uow:
        channel = get_channel(uow.session, name)
        channel_id, cursor = channel.id, channel.cursor
        adapter = adapter_for(channel.type, json.loads(channel.config), ws.settings)
    try:
        for batch in adapter.batches(cursor, since):
            try:
                with ws.uow() as uow:
                    ingest = Ingest(uow.session, channel_id, ws.actor, ws.now(), summary)
                    for chunk in batch.chunks:
                        seen = summary.seen
                        ingest.add(chunk)
                        progress.advance(summary.seen - seen)
                    if batch.cursor:
                        uow.session.get_one(Channel, channel_id).cursor = batch.cursor
                    uow.commit()
            except FileFormatError as exc:
                if batch.rejected is None:
                    raise
                _reject(batch, exc, summary)
                continue
            except IntegrityError:
                raise AvasamError(
                    f"channel {name} is being pulled by another process; "
                    "nothing was lost, pull again when it has finished"
                ) from None
            except UNSTORABLE as exc:
                # A value the checks in core/incoming.py missed and the database refused.
                # Only the type: the message of a database error holds SQL parameters.
                problem = f"holds a value that cannot be stored ({type(exc).__name__})"
                if batch.rejected is None:
                    raise AvasamError(f"{batch.label} {problem}; nothing of it was saved") from None
                _reject(batch, FileFormatError(None, problem), summary)
                continue
            batch.after_commit()
    finally:
        summary.problems += adapter.problems


def _reject(batch: Batch, exc: FileFormatError, summary: PullSummary) -> None:
    """The file goes to rejected/ with its reason, and the pull reports it."""
    assert batch.rejected is not None
    batch.rejected(exc)
    summary.problems.append(f"{batch.label} rejected: {exc}")


class Ingest:
    """Adds chunks of incoming orders to one transaction."""

    def __init__(
        self, session: Session, channel_id: int, actor: str, now: datetime, summary: PullSummary
    ) -> None:
        self.session, self.channel_id, self.actor, self.now = session, channel_id, actor, now
        self.summary = summary
        self.resolver = SkuResolver(session, channel_id)
        self.shipping = shipping_map(session, channel_id)

    def add(self, chunk: list[IncomingOrder]) -> None:
        latest = {order.external_id: order for order in chunk}  # the last copy wins
        known = {
            row.external_id: row
            for row in self.session.execute(
                select(SourceOrder.id, SourceOrder.external_id, SourceOrder.content_hash).where(
                    SourceOrder.channel_id == self.channel_id,
                    SourceOrder.external_id.in_(list(latest)),
                )
            )
        }
        fresh = [order for key, order in latest.items() if key not in known]
        self.summary.skipped += len(chunk) - len(latest)
        self._create(fresh)
        for key, order in latest.items():
            if key not in known:
                continue
            if known[key].content_hash == order.content_hash():
                self.summary.skipped += 1
            else:
                self._update(known[key].id, order)
                self.summary.updated += 1

    def _create(self, orders: list[IncomingOrder]) -> None:
        if not orders:
            return
        self.resolver.prefetch(line.channel_sku for order in orders for line in order.lines)
        for order in orders:
            for line in order.lines:
                line.product = self.resolver.get(line.channel_sku)
            order.shipping_service = self.shipping.get(order.channel_shipping_method or "")
        source_ids = insert_sources(self.session, self.channel_id, orders, self.now)
        created = create_orders(
            self.session,
            self.channel_id,
            list(zip(source_ids, orders, strict=True)),
            actor=self.actor,
            now=self.now,
        )
        self.summary.new += len(orders)
        for item in created:
            if item.status == Status.QUEUE:
                self.summary.matched += 1
            elif item.status == Status.MATCHING:
                self.summary.waiting += 1
            else:
                self.summary.held += 1
        for source_id, order in zip(source_ids, orders, strict=True):
            if order.cancelled:
                self._apply_update(source_id, order)

    def _update(self, source_id: int, order: IncomingOrder) -> None:
        source = self.session.get_one(SourceOrder, source_id)
        source.content_hash = order.content_hash()
        self._apply_update(source_id, order)

    def _apply_update(self, source_id: int, incoming: IncomingOrder) -> None:
        order_ids = self.session.scalars(
            select(Order.id).where(Order.source_order_id == source_id).order_by(Order.id)
        ).all()
        orders = [lock_order(self.session, order_id) for order_id in order_ids]
        if incoming.cancelled:
            for order in orders:
                self._cancel(order)
            return
        lines = {
            order.id: list(
                self.session.scalars(
                    select(OrderLine)
                    .where(OrderLine.order_id == order.id)
                    .order_by(OrderLine.line_no)
                )
            )
            for order in orders
        }
        added, removed = _line_set_changes(
            [line for order in orders for line in lines[order.id]], incoming
        )
        lines_differ = bool(added or removed)
        for order in orders:
            changes = (
                self._delivery_changes(order, incoming)
                + self._shipping_changes(order, incoming)
                + _line_changes(lines[order.id], incoming)
            )
            if not changes and not lines_differ:
                continue
            if order.status not in EDITABLE or order.received_by_supplier_at is not None:
                why = (
                    "the supplier has received it"
                    if order.received_by_supplier_at is not None
                    else f"the order is {order.status}"
                )
                self._flag(order, changes, why, with_supplier=True)
                continue
            if lines_differ:
                refusal = self._why_lines_cannot_change(orders, added)
                if refusal:
                    self._flag(order, changes, refusal, with_supplier=False)
                    continue
                changes += self._change_lines(order, lines[order.id], added, removed)
            for target, key, old, new, details in changes:
                if target is not None:
                    setattr(target, key, new)
                record_event(
                    self.session,
                    order,
                    "updated_by_channel",
                    actor=self.actor,
                    at=self.now,
                    details={**details, "old": old, "new": new},
                )
            order.item_count = sum(line.quantity for line in lines[order.id])

    def _delivery_changes(self, order: Order, incoming: IncomingOrder) -> list[Change]:
        """The channel's delivery values that differ from the order's, except the fields
        the seller corrected with `orders edit`: the channel still sends its old values
        (its address has the typo), and must not undo the correction."""
        changes = [
            (order, key, getattr(order, key), value, {"field": key})
            for key, value in vars(incoming.delivery).items()
            if getattr(order, key) != value
        ]
        if not changes:
            return changes
        edited = {
            json.loads(details or "{}").get("field")
            for details in self.session.scalars(
                select(OrderEvent.details).where(
                    OrderEvent.order_id == order.id, OrderEvent.event == EDITED
                )
            )
        }
        return [change for change in changes if change[1] not in edited]

    def _shipping_changes(self, order: Order, incoming: IncomingOrder) -> list[Change]:
        """A changed shipping method, and the service it maps to now (processing holds
        or releases the order on it, as for a new order)."""
        method = incoming.channel_shipping_method
        if order.channel_shipping_method == method:
            return []
        service = self.shipping.get(method or "")
        changes: list[Change] = [
            (
                order,
                "channel_shipping_method",
                order.channel_shipping_method,
                method,
                {"field": "shipping_method"},
            )
        ]
        if service != order.shipping_service:
            changes.append(
                (
                    order,
                    "shipping_service",
                    order.shipping_service,
                    service,
                    {"field": "shipping_service"},
                )
            )
        return changes

    def _why_lines_cannot_change(
        self, orders: list[Order], added: list[IncomingLine]
    ) -> str | None:
        """Why lines added or removed on the channel cannot be applied; None if they can:
        the channel order is one order of ours, and an added line is for its supplier (or
        the order has no supplier yet: matching will split it)."""
        if len(orders) != 1:
            return "lines were added or removed on an order split between suppliers"
        order = orders[0]
        if order.status in (Status.MATCHING, Status.UNMATCHED):
            return None
        for line in added:
            product = self.resolver.get(line.channel_sku)
            if product is None or product.supplier_id != order.supplier_id:
                return (
                    f"the line {line.channel_sku} added on the channel is not linked to "
                    "a product of this order's supplier"
                )
        return None

    def _change_lines(
        self,
        order: Order,
        lines: list[OrderLine],
        added: list[IncomingLine],
        removed: list[OrderLine],
    ) -> list[Change]:
        """Remove and add lines (in `lines`, too); one audit change each."""
        changes: list[Change] = []
        for line in removed:
            lines.remove(line)
            self.session.delete(line)
            changes.append(
                (
                    None,
                    "",
                    f"{line.channel_sku} x {line.quantity}",
                    None,
                    {"field": "line", "line": line.line_no, "sku": line.channel_sku},
                )
            )
        next_no = max((line.line_no for line in lines), default=0) + 1
        for n, incoming_line in enumerate(added, start=next_no):
            incoming_line.product = self.resolver.get(incoming_line.channel_sku)
            new = OrderLine(**line_row(order.id, n, incoming_line))
            self.session.add(new)
            lines.append(new)
            changes.append(
                (
                    None,
                    "",
                    None,
                    f"{incoming_line.channel_sku} x {incoming_line.quantity}",
                    {"field": "line", "line": n, "sku": incoming_line.channel_sku},
                )
            )
        return changes

    def _flag(self, order: Order, changes: list[Change], why: str, *, with_supplier: bool) -> None:
        """A channel change we do not apply: audited, listed by `status` (see
        status.py, `channel_changes_not_applied`) and reported by the pull."""
        fields = ", ".join(_label(details) for *_, details in changes) or "lines"
        record_event(
            self.session,
            order,
            CHANGE_IGNORED,
            actor=self.actor,
            at=self.now,
            details={"why": why, "changed": fields},
        )
        shown = display_id(order)
        hint = (
            f"tell the supplier with `avasam tickets raise {shown}`"
            if with_supplier
            else f"see `avasam orders show {shown}`; cancel it and add it again if needed"
        )
        self.summary.problems.append(
            f"order {shown}: changed on the channel ({fields}) but not updated: {why}; {hint}"
        )

    def _cancel(self, order: Order) -> None:
        if order.status == Status.CANCELLED:
            return
        try:
            check_direct_cancel(order)
        except NotAllowed as exc:
            record_event(
                self.session,
                order,
                "channel_cancel_refused",
                actor=self.actor,
                at=self.now,
                details={"why": str(exc)},
            )
            self.summary.problems.append(
                f"order {order.channel_reference}: cancelled on the channel but {exc}"
            )
            return
        cancel_locked(
            self.session,
            order,
            CancelReason.CHANNEL_CANCELLED,
            actor=self.actor,
            at=self.now,
            note="cancelled on the sales channel",
        )


# (object to set, attribute, old value, new value, audit details naming the field)
Change = tuple[Any, str, Any, Any, dict[str, Any]]


def _line_changes(lines: list[OrderLine], incoming: IncomingOrder) -> list[Change]:
    """Changes to the lines this order holds, matched to the channel's by SKU (the n-th
    line of a SKU to its n-th line on the channel)."""
    by_sku: dict[str, list[IncomingLine]] = {}
    for theirs in incoming.lines:
        by_sku.setdefault(theirs.channel_sku, []).append(theirs)
    changes: list[Change] = []
    for line in lines:
        candidates = by_sku.get(line.channel_sku)
        if not candidates:
            continue  # removed on the channel: the caller sees the SKUs differ
        new = candidates.pop(0)
        where = {"line": line.line_no, "sku": line.channel_sku}
        if line.quantity != new.quantity:
            changes.append(
                (line, "quantity", line.quantity, new.quantity, {"field": "quantity", **where})
            )
        if line.channel_unit_price_pence != new.channel_unit_price_pence:
            changes.append(
                (
                    line,
                    "channel_unit_price_pence",
                    line.channel_unit_price_pence,
                    new.channel_unit_price_pence,
                    {"field": "unit_price_pence", **where},
                )
            )
        title = new.title or new.channel_sku
        if line.product_id is None and line.title != title:
            changes.append((line, "title", line.title, title, {"field": "title", **where}))
    return changes


def _line_set_changes(
    ours: list[OrderLine], incoming: IncomingOrder
) -> tuple[list[IncomingLine], list[OrderLine]]:
    """Lines added on the channel, and our lines removed there (matched by SKU, the n-th
    line of a SKU to the n-th)."""
    left = list(ours)
    added = []
    for theirs in incoming.lines:
        match = next((line for line in left if line.channel_sku == theirs.channel_sku), None)
        if match is None:
            added.append(theirs)
        else:
            left.remove(match)
    return added, left


def _label(details: dict[str, Any]) -> str:
    if "line" in details:
        return f"line {details['line']} {details['field']}"
    return str(details["field"])
