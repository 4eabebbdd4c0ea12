"""The write-back outbox: what the sales channel must be told about an order.

`queue_update` is called inside the transaction that dispatches or cancels an order, so
the update exists exactly when the change does; `channels push` (core/services/push.py)
sends it later, never inside that transaction. A manual order has no channel to tell, and
a cancel that came from the channel itself needs no answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.models import Channel, ChannelUpdate, Order, SourceOrder
from avasam_cli.core.services.lookup import MANUAL_CHANNEL
from avasam_cli.core.statuses import CancelReason, UpdateKind, UpdateStatus


def queue_update(session: Session, order: Order, kind: UpdateKind, at: datetime) -> None:
    """Record that `order`'s channel must hear of its dispatch or cancel (once)."""
    Outbox(session, [order]).queue(order, kind, at)


class Outbox:
    """Queues the updates of many orders (a supplier's dispatch file): what it needs of
    their channels and their earlier updates is read in two queries, not two per order."""

    def __init__(self, session: Session, orders: list[Order]) -> None:
        self.session = session
        self.channels: dict[int, tuple[str, str]] = {
            source_id: (channel_type, external_id)
            for source_id, channel_type, external_id in session.execute(
                select(SourceOrder.id, Channel.type, SourceOrder.external_id)
                .join(Channel, SourceOrder.channel_id == Channel.id)
                .where(SourceOrder.id.in_({order.source_order_id for order in orders}))
            )
        }
        self.keys: set[str] = set(
            session.scalars(
                select(ChannelUpdate.dedupe_key).where(
                    ChannelUpdate.order_id.in_({order.id for order in orders})
                )
            )
        )

    def queue(self, order: Order, kind: UpdateKind, at: datetime) -> None:
        if kind == UpdateKind.CANCEL and order.cancel_reason == CancelReason.CHANNEL_CANCELLED:
            return
        channel_type, external_id = self.channels[order.source_order_id]
        if channel_type == MANUAL_CHANNEL:
            return
        key = f"{kind}:{order.id}:{order.tracking_number or ''}"
        if key in self.keys:
            return
        self.keys.add(key)
        self.session.add(
            ChannelUpdate(
                channel_id=order.channel_id,
                order_id=order.id,
                external_id=external_id,
                kind=kind,
                status=UpdateStatus.PENDING,
                dedupe_key=key,
                tracking_number=order.tracking_number if kind == UpdateKind.DISPATCH else None,
                carrier=order.carrier if kind == UpdateKind.DISPATCH else None,
                reason=order.cancel_reason if kind == UpdateKind.CANCEL else None,
                attempts=0,
                created_at=at,
                next_attempt_at=at,
            )
        )
