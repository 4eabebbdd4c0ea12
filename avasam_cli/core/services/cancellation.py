"""Cancelling an order: refund a paid order to the balance and release its stock,
all in the caller's transaction, with the audit events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from avasam_cli.core.db import retry_conflicts
from avasam_cli.core.errors import AvasamError, InvalidInput
from avasam_cli.core.lifecycle import (
    CancelReason,
    Payment,
    Status,
    check_direct_cancel,
    display_id,
    record_event,
    transition,
)
from avasam_cli.core.models import Order, Product
from avasam_cli.core.money import format_pence
from avasam_cli.core.services.account import post
from avasam_cli.core.services.lookup import find_order_id, lock_order, lock_products
from avasam_cli.core.services.outbox import queue_update
from avasam_cli.core.statuses import SELLER_CANCEL_REASONS, UpdateKind
from avasam_cli.core.workspace import Workspace


def cancel_locked(
    session: Session,
    order: Order,
    reason: CancelReason,
    *,
    actor: str,
    at: datetime,
    note: str | None = None,
) -> None:
    """Cancel a row-locked order. The caller has checked who may cancel it.

    Locks in the writers' one order (ARCHITECTURE.md): the order (the caller), its products,
    then the account; processing takes them in the same order, so the two never deadlock."""
    was_open = order.status == Status.OPEN
    products = lock_products(session, order) if was_open else {}
    transition(
        session,
        order,
        Status.CANCELLED,
        actor=actor,
        at=at,
        details={"reason": reason, "note": note},
    )
    order.cancel_reason, order.cancelled_at = reason, at
    order.hold_reason = order.hold_detail = None
    if order.payment_status == Payment.PAID:
        entry = post(
            session,
            "refund",
            order.total_pence,
            actor=actor,
            at=at,
            reference=f"refund of {order.number}",
            order_id=order.id,
        )
        order.payment_status = Payment.REFUNDED
        record_event(
            session,
            order,
            "refunded",
            actor=actor,
            at=at,
            details={
                "amount": format_pence(order.total_pence),
                "balance_after": format_pence(entry.balance_after_pence),
            },
        )
    if was_open:
        _release_stock(session, order, products, actor, at)
    queue_update(session, order, UpdateKind.CANCEL, at)  # the channel hears of it later


def _release_stock(
    session: Session, order: Order, products: dict[int, Product], actor: str, at: datetime
) -> None:
    released = []
    for line in order.lines:
        if line.product_id is not None:
            products[line.product_id].stock += line.quantity
            released.append(f"{line.sku} x{line.quantity}")
    record_event(
        session, order, "stock_released", actor=actor, at=at, details={"items": ", ".join(released)}
    )


SELLER_REASONS = tuple(CancelReason(r) for r in SELLER_CANCEL_REASONS)


@dataclass
class CancelResult:
    ident: str
    ok: bool
    message: str
    order_id: int | None = None


def seller_reason(reason: str, note: str | None) -> CancelReason:
    if reason not in {r.value for r in SELLER_REASONS}:
        raise InvalidInput(
            f"reason {reason!r} must be one of {', '.join(r.value for r in SELLER_REASONS)}"
        )
    if reason == CancelReason.OTHER and not (note and note.strip()):
        raise InvalidInput("reason other needs a --note saying why")
    return CancelReason(reason)


def cancel_orders(
    ws: Workspace, idents: list[str], reason: str, note: str | None
) -> Iterator[CancelResult]:
    """The seller's cancel, order by order: one failure does not stop the others."""
    cause = seller_reason(reason, note)
    for ident in idents:
        try:
            order_id, message = retry_conflicts(partial(_cancel_one, ws, ident, cause, note))
        except AvasamError as exc:
            yield CancelResult(ident, False, str(exc))
        else:
            yield CancelResult(ident, True, message, order_id)


def _cancel_one(
    ws: Workspace, ident: str, reason: CancelReason, note: str | None
) -> tuple[int, str]:
    with ws.uow() as uow:
        order = lock_order(uow.session, find_order_id(uow.session, ident))
        check_direct_cancel(order)
        refund = order.total_pence if order.payment_status == Payment.PAID else 0
        cancel_locked(uow.session, order, reason, actor=ws.actor, at=ws.now(), note=note)
        uow.commit()
    refunded = f"; refunded {format_pence(refund)} GBP to the balance" if refund else ""
    return order.id, f"order {display_id(order)} cancelled ({reason}){refunded}"
