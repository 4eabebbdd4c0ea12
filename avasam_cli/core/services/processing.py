"""`orders process`: hold rules, invoice, payment from the balance, stock, numbering.

Each order is processed in its own transaction with its row locked, so re-running, or
two processes at once, never charge an order twice: the second finds it already `open`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.db import retry_conflicts
from avasam_cli.core.errors import describe_unexpected
from avasam_cli.core.lifecycle import HoldReason, Payment, Status, record_event, transition
from avasam_cli.core.models import Order, Product, ShippingService, Supplier
from avasam_cli.core.money import format_pence, vat_on
from avasam_cli.core.postcodes import is_excluded, outward_of
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.services.account import InsufficientBalance, post
from avasam_cli.core.services.lookup import lock_order, lock_products, order_number
from avasam_cli.core.services.matching import shipping_map
from avasam_cli.core.workspace import Workspace


@dataclass
class Outcome:
    order_id: int
    number: str | None
    reference: str | None
    status: str
    payment_status: str
    total: str
    detail: str


def pending_order_ids(ws: Workspace) -> list[int]:
    with ws.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(Order.id)
                .where(
                    Order.status.in_([Status.QUEUE, Status.HELD]),
                    Order.payment_status == Payment.UNPAID,
                )
                .order_by(Order.id)
            )
        )


def process_pending(ws: Workspace, progress: Progress = SILENT) -> Iterator[Outcome]:
    """Process every order in `queue` and re-check every `held` one."""
    order_ids = pending_order_ids(ws)
    progress.start(len(order_ids))
    for order_id in order_ids:
        try:
            outcome = retry_conflicts(partial(process_order, ws, order_id))
        except Exception as exc:  # one broken order must never stop the rest of the queue
            outcome = _mark_failed(ws, order_id, exc)
        progress.advance()
        if outcome is not None:
            yield outcome


def process_order(ws: Workspace, order_id: int) -> Outcome | None:
    """One order, one transaction. None when another process got there first."""
    with ws.uow() as uow:
        session, now = uow.session, ws.now()
        order = lock_order(session, order_id)
        if (
            order.status not in (Status.QUEUE, Status.HELD)
            or order.payment_status != Payment.UNPAID
        ):
            return None
        supplier = session.get_one(Supplier, order.supplier_id)
        if order.shipping_service is None and order.channel_shipping_method:
            # mapped since the order came in (`channels map-shipping`)
            order.shipping_service = shipping_map(session, order.channel_id).get(
                order.channel_shipping_method
            )
        products = lock_products(session, order)
        service = _service(session, order)
        reason = hold_reason(order, supplier, service, products)
        if reason is not None:
            _hold(session, order, reason, ws.actor, now)
            uow.commit()
            return _outcome(order, f"held: {reason}")
        if order.status == Status.HELD:
            transition(
                session,
                order,
                Status.QUEUE,
                actor=ws.actor,
                at=now,
                details={"was": order.hold_reason},
            )
            order.hold_reason = None
        assert service is not None  # hold_reason checked it
        _invoice(order, products, service)
        try:
            entry = post(
                session,
                "payment",
                -order.total_pence,
                actor=ws.actor,
                at=now,
                reference=f"order {order.id}",
                order_id=order.id,
            )
        except InsufficientBalance as exc:
            _payment_failed(session, order, str(exc), ws.actor, now)
            uow.commit()
            return _outcome(order, f"payment failed: {exc}")
        _pass_to_supplier(session, order, products, entry.balance_after_pence, ws.actor, now)
        uow.commit()
        return _outcome(order, "paid and passed to the supplier")


def _mark_failed(ws: Workspace, order_id: int, exc: Exception) -> Outcome:
    """Record on the order why it could not be processed (its own transaction was rolled
    back): `status` counts it, and the next run tries it again."""
    reason = f"processing failed ({describe_unexpected(exc)})"[:300]
    with ws.uow() as uow:
        order = lock_order(uow.session, order_id)
        order.payment_error = reason
        record_event(
            uow.session,
            order,
            "processing_failed",
            actor=ws.actor,
            at=ws.now(),
            details={"error": reason},
        )
        uow.commit()
        return _outcome(order, reason)


def hold_reason(
    order: Order,
    supplier: Supplier,
    service: ShippingService | None,
    products: dict[int, Product],
) -> HoldReason | None:
    if order.country != "GB" and not supplier.international:
        return HoldReason.OUTSIDE_UK
    if order.country == "GB":
        if outward_of(order.postcode) is None:  # never let through what cannot be checked
            return HoldReason.INVALID_ADDRESS
        if is_excluded(order.postcode, supplier.excluded_postcodes):
            return HoldReason.EXCLUDED_POSTCODE
    if service is None:
        return HoldReason.SHIPPING_UNMAPPED
    needed: dict[int, int] = {}
    for line in order.lines:
        assert line.product_id is not None
        needed[line.product_id] = needed.get(line.product_id, 0) + line.quantity
    if any(products[pid].stock < qty for pid, qty in needed.items()):
        return HoldReason.OUT_OF_STOCK
    return None


def _service(session: Session, order: Order) -> ShippingService | None:
    if order.shipping_service is None:
        return None
    return session.scalar(
        select(ShippingService).where(
            ShippingService.supplier_id == order.supplier_id,
            ShippingService.service == order.shipping_service,
        )
    )


def _hold(session: Session, order: Order, reason: HoldReason, actor: str, now: datetime) -> None:
    if order.status == Status.HELD and order.hold_reason == reason:
        return  # still held for the same reason: nothing new for the audit trail
    order.hold_reason = reason
    transition(session, order, Status.HELD, actor=actor, at=now, details={"reason": reason})


def _invoice(order: Order, products: dict[int, Product], service: ShippingService) -> None:
    """Prices and VAT per line (half up) from the catalogue as it is now."""
    items = vat = 0
    for line in order.lines:
        assert line.product_id is not None
        product = products[line.product_id]
        net = product.price_pence * line.quantity
        line.unit_price_pence, line.vat_rate_bp = product.price_pence, product.vat_rate_bp
        line.line_vat_pence = vat_on(net, product.vat_rate_bp)
        line.line_total_pence = net + line.line_vat_pence
        items += net
        vat += line.line_vat_pence
    order.items_pence = items
    order.shipping_pence = service.price_pence
    order.vat_pence = vat + vat_on(service.price_pence, service.vat_rate_bp)
    order.total_pence = items + service.price_pence + order.vat_pence


def _payment_failed(
    session: Session, order: Order, message: str, actor: str, now: datetime
) -> None:
    if order.payment_error == message:
        return  # the same failure as last run: the audit already says so
    order.payment_error = message
    record_event(
        session,
        order,
        "payment_failed",
        actor=actor,
        at=now,
        details={"total": format_pence(order.total_pence), "error": message},
    )


def _pass_to_supplier(
    session: Session,
    order: Order,
    products: dict[int, Product],
    balance_after: int,
    actor: str,
    now: datetime,
) -> None:
    for line in order.lines:
        assert line.product_id is not None
        products[line.product_id].stock -= line.quantity
    record_event(
        session,
        order,
        "invoiced",
        actor=actor,
        at=now,
        details={
            "items": format_pence(order.items_pence),
            "shipping": format_pence(order.shipping_pence),
            "vat": format_pence(order.vat_pence),
            "total": format_pence(order.total_pence),
        },
    )
    record_event(
        session,
        order,
        "payment_taken",
        actor=actor,
        at=now,
        details={
            "amount": format_pence(order.total_pence),
            "balance_after": format_pence(balance_after),
        },
    )
    order.payment_status, order.payment_error, order.paid_at = Payment.PAID, None, now
    order.number = order_number(order.id)
    transition(
        session,
        order,
        Status.OPEN,
        actor=actor,
        at=now,
        details={"number": order.number, "stock": "reserved"},
    )


def _outcome(order: Order, detail: str) -> Outcome:
    return Outcome(
        order_id=order.id,
        number=order.number,
        reference=order.channel_reference,
        status=order.status,
        payment_status=order.payment_status,
        total=format_pence(order.total_pence),
        detail=detail,
    )
