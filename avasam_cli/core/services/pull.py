"""`channels pull`: bring in channel orders, idempotently and resumably.

Each adapter batch (a dropped file, or one API page) is one transaction; the channel's
cursor is saved in that same transaction, so a pull killed half-way resumes where the
last committed batch ended. A channel order seen before is found by its (channel,
external id) key and never creates orders twice; if its content changed upstream (e.g.
cancelled on the channel), our orders are updated and audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from avasam_cli.core.channels import adapter_for
from avasam_cli.core.csvfile import FileFormatError
from avasam_cli.core.errors import AvasamError, NotAllowed, NotFound
from avasam_cli.core.incoming import IncomingOrder
from avasam_cli.core.lifecycle import CancelReason, Status, check_direct_cancel, record_event
from avasam_cli.core.models import Channel, Order, SourceOrder
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.services.cancellation import cancel_locked
from avasam_cli.core.services.intake import create_orders, insert_sources
from avasam_cli.core.services.lookup import get_channel, lock_order
from avasam_cli.core.services.matching import shipping_map
from avasam_cli.core.services.sku_links import SkuResolver
from avasam_cli.core.workspace import Workspace

EDITABLE = (Status.MATCHING, Status.UNMATCHED, Status.HELD, Status.QUEUE)
# What storing a value the checks did not catch can raise: a file holding one is rejected.
UNSTORABLE = (DataError, ValueError, OverflowError, RecursionError, UnicodeError)


@dataclass
class PullSummary:
    channel: str
    new: int = 0
    updated: int = 0
    skipped: int = 0
    matched: int = 0
    waiting: int = 0
    held: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def seen(self) -> int:
        return self.new + self.updated + self.skipped


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
            raise NotFound(f"no channel {name!r}; see `avasam channels list`")
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
    return summary


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
                batch.rejected(exc)
                summary.problems.append(f"{batch.label} rejected: {exc}")
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
                batch.rejected(FileFormatError(None, problem))
                summary.problems.append(f"{batch.label} rejected: the file {problem}")
                continue
            batch.after_commit()
    finally:
        summary.problems += adapter.problems


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
        for order_id in order_ids:
            order = lock_order(self.session, order_id)
            if incoming.cancelled:
                self._cancel(order)
            elif order.status in EDITABLE:
                changed = _apply_delivery(order, incoming)
                if changed:
                    record_event(
                        self.session,
                        order,
                        "updated_by_channel",
                        actor=self.actor,
                        at=self.now,
                        details={"changed": ", ".join(changed)},
                    )
            else:
                record_event(
                    self.session,
                    order,
                    "channel_update_ignored",
                    actor=self.actor,
                    at=self.now,
                    details={"why": f"the order is {order.status}"},
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


def _apply_delivery(order: Order, incoming: IncomingOrder) -> list[str]:
    changed = []
    for key, value in vars(incoming.delivery).items():
        if getattr(order, key) != value:
            setattr(order, key, value)
            changed.append(key)
    return changed
