"""Cancelling an order: refund a paid order to the balance and release its stock,
all in the caller's transaction, with the audit events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.lifecycle import CancelReason, Payment, Status, record_event, transition
from avasam_cli.core.models import Order, Product
from avasam_cli.core.money import format_pence
from avasam_cli.core.services.account import post


def cancel_locked(
    session: Session,
    order: Order,
    reason: CancelReason,
    *,
    actor: str,
    at: datetime,
    note: str | None = None,
) -> None:
    """Cancel a row-locked order. The caller has checked who may cancel it."""
    was_open = order.status == Status.OPEN
    transition(session, order, Status.CANCELLED, actor=actor, at=at,
               details={"reason": reason, "note": note})
    order.cancel_reason, order.cancelled_at, order.hold_reason = reason, at, None
    if order.payment_status == Payment.PAID:
        entry = post(session, "refund", order.total_pence, actor=actor, at=at,
                     reference=f"refund of {order.number}", order_id=order.id)
        order.payment_status = Payment.REFUNDED
        record_event(session, order, "refunded", actor=actor, at=at, details={
            "amount": format_pence(order.total_pence),
            "balance_after": format_pence(entry.balance_after_pence),
        })
    if was_open:
        _release_stock(session, order, actor, at)


def _release_stock(session: Session, order: Order, actor: str, at: datetime) -> None:
    ids = sorted({line.product_id for line in order.lines if line.product_id is not None})
    products = {
        p.id: p
        for p in session.scalars(
            select(Product).where(Product.id.in_(ids)).order_by(Product.id).with_for_update()
        )
    }
    released = []
    for line in order.lines:
        if line.product_id is not None:
            products[line.product_id].stock += line.quantity
            released.append(f"{line.sku} x{line.quantity}")
    record_event(session, order, "stock_released", actor=actor, at=at,
                 details={"items": ", ".join(released)})
