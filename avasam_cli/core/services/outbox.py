"""The write-back outbox: what the sales channel must be told about an order.

`queue_update` is called inside the transaction that dispatches or cancels an order, so
the update exists exactly when the change does; `channels push` (core/services/push.py)
sends it later, never inside that transaction. A manual order has no channel to tell, and
a cancel that came from the channel itself needs no answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.models import Channel, ChannelUpdate, Order, SourceOrder
from avasam_cli.core.services.lookup import MANUAL_CHANNEL
from avasam_cli.core.statuses import CancelReason, UpdateKind, UpdateStatus


def queue_update(session: Session, order: Order, kind: UpdateKind, at: datetime) -> None:
    """Record that `order`'s channel must hear of its dispatch or cancel (once)."""
    update = Outbox(session, [order.source_order_id], [order.id]).row(
        OrderFacts(
            order.id,
            order.source_order_id,
            order.channel_id,
            order.tracking_number,
            order.carrier,
            order.cancel_reason,
        ),
        kind,
        at,
    )
    if update is not None:
        session.add(ChannelUpdate(**update))


@dataclass(frozen=True)
class OrderFacts:
    """What an update needs of its order, from an ORM object or a plain row."""

    id: int
    source_order_id: int
    channel_id: int
    tracking_number: str | None
    carrier: str | None
    cancel_reason: str | None


class Outbox:
    """The updates of many orders (a supplier's dispatch file): what they need of their
    channels and their earlier updates is read in two queries, not two per order."""

    def __init__(self, session: Session, source_ids: list[int], order_ids: list[int]) -> None:
        # Two plain lookups, not a join: PostgreSQL's planner may answer the join of a
        # 500-id list with a scan of every source order.
        types = {cid: kind for cid, kind in session.execute(select(Channel.id, Channel.type))}
        self.channels: dict[int, tuple[str, str]] = {
            source_id: (types[channel_id], external_id)
            for source_id, channel_id, external_id in session.execute(
                select(SourceOrder.id, SourceOrder.channel_id, SourceOrder.external_id).where(
                    SourceOrder.id.in_(set(source_ids))
                )
            )
        }
        self.keys: set[str] = set(
            session.scalars(
                select(ChannelUpdate.dedupe_key).where(ChannelUpdate.order_id.in_(set(order_ids)))
            )
        )

    def row(self, order: OrderFacts, kind: UpdateKind, at: datetime) -> dict[str, Any] | None:
        """The update to insert, or None: none for a manual order, for a cancel that came
        from the channel itself, or for one already queued (the same change again)."""
        if kind == UpdateKind.CANCEL and order.cancel_reason == CancelReason.CHANNEL_CANCELLED:
            return None
        channel_type, external_id = self.channels[order.source_order_id]
        if channel_type == MANUAL_CHANNEL:
            return None
        key = f"{kind}:{order.id}:{order.tracking_number or ''}"
        if key in self.keys:
            return None
        self.keys.add(key)
        return {
            "channel_id": order.channel_id,
            "order_id": order.id,
            "external_id": external_id,
            "kind": kind,
            "status": UpdateStatus.PENDING,
            "dedupe_key": key,
            "tracking_number": order.tracking_number if kind == UpdateKind.DISPATCH else None,
            "carrier": order.carrier if kind == UpdateKind.DISPATCH else None,
            "reason": order.cancel_reason if kind == UpdateKind.CANCEL else None,
            "attempts": 0,
            "created_at": at,
            "next_attempt_at": at,
        }
