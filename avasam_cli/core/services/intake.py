"""Creating orders from an incoming order (a channel's or a manual one).

Lines linked to products are grouped by supplier: one order per supplier, all sharing
the source order's reference. An order with an unlinked line waits in `matching`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from avasam_cli.core.lifecycle import Payment, Shipping, Status, record_event
from avasam_cli.core.models import Order, OrderLine, Product, SourceOrder


@dataclass
class Delivery:
    name: str
    address1: str
    city: str
    postcode: str
    country: str = "GB"
    address2: str | None = None
    county: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class IncomingLine:
    channel_sku: str
    quantity: int
    title: str | None = None
    channel_unit_price_pence: int | None = None
    product: Product | None = None


@dataclass
class IncomingOrder:
    delivery: Delivery
    lines: list[IncomingLine]
    placed_at: datetime
    shipping_service: str | None
    channel_shipping_method: str | None = None
    notes: list[str] = field(default_factory=list)


def create_orders(
    session: Session,
    source: SourceOrder,
    incoming: IncomingOrder,
    *,
    actor: str,
    now: datetime,
    event: str = "created",
) -> list[Order]:
    """Insert the order(s) for `incoming`, each with its creation audit event."""
    groups: dict[int | None, list[IncomingLine]] = {}
    if all(line.product is not None for line in incoming.lines):
        for line in incoming.lines:
            assert line.product is not None
            groups.setdefault(line.product.supplier_id, []).append(line)
        status = Status.QUEUE
    else:
        groups[None] = incoming.lines
        status = Status.MATCHING
    orders = []
    for supplier_id, lines in groups.items():
        order = _new_order(source, incoming, supplier_id, status, now)
        session.add(order)
        session.flush()
        for line_no, line in enumerate(lines, start=1):
            session.add(_new_line(order.id, line_no, line))
        order.item_count = sum(line.quantity for line in lines)
        details: dict[str, object] = {"reference": source.reference, "lines": len(lines)}
        if len(groups) > 1:
            details["split"] = f"one of {len(groups)} orders, one per supplier"
        record_event(
            session, order, event, actor=actor, at=now, details=details, to_status=status
        )
        orders.append(order)
    session.flush()
    return orders


def _new_order(
    source: SourceOrder,
    incoming: IncomingOrder,
    supplier_id: int | None,
    status: Status,
    now: datetime,
) -> Order:
    delivery = incoming.delivery
    return Order(
        source_order_id=source.id,
        channel_id=source.channel_id,
        channel_reference=source.reference,
        supplier_id=supplier_id,
        status=status,
        payment_status=Payment.UNPAID,
        shipping_status=Shipping.UNSHIPPED,
        placed_at=incoming.placed_at,
        downloaded_at=now,
        name=delivery.name,
        address1=delivery.address1,
        address2=delivery.address2,
        city=delivery.city,
        county=delivery.county,
        postcode=delivery.postcode,
        country=delivery.country,
        phone=delivery.phone,
        email=delivery.email,
        shipping_service=incoming.shipping_service,
        channel_shipping_method=incoming.channel_shipping_method,
        items_pence=0,
        shipping_pence=0,
        vat_pence=0,
        total_pence=0,
        currency="GBP",
        note_count=0,
        updated_at=now,
    )


def _new_line(order_id: int, line_no: int, line: IncomingLine) -> OrderLine:
    product = line.product
    return OrderLine(
        order_id=order_id,
        line_no=line_no,
        channel_sku=line.channel_sku,
        product_id=product.id if product else None,
        sku=product.sku if product else None,
        supplier_product_id=product.supplier_product_id if product else None,
        title=(product.title if product else None) or line.title or line.channel_sku,
        quantity=line.quantity,
        channel_unit_price_pence=line.channel_unit_price_pence,
        unit_price_pence=product.price_pence if product else 0,
        vat_rate_bp=product.vat_rate_bp if product else 0,
        line_vat_pence=0,
        line_total_pence=0,
    )
