"""Read models of one order: everything about it, and its audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from avasam_cli.core.models import Order, OrderEvent, OrderNote
from avasam_cli.core.money import format_pence, format_rate
from avasam_cli.core.services.lookup import find_order_id
from avasam_cli.core.workspace import Workspace


def order_detail(ws: Workspace, ident: str) -> dict[str, Any]:
    with ws.uow(read_only=True) as uow:
        session = uow.session
        order = session.get_one(Order, find_order_id(session, ident))
        notes = session.scalars(
            select(OrderNote).where(OrderNote.order_id == order.id).order_by(OrderNote.id)
        ).all()
        return {
            "id": order.id,
            "number": order.number or "QUEUE",
            "reference": order.channel_reference,
            "channel": order.channel.name,
            "supplier": order.supplier.code if order.supplier else None,
            **_state(order),
            "payment_error": order.payment_error,
            "placed_at": order.placed_at,
            "downloaded_at": order.downloaded_at,
            "paid_at": order.paid_at,
            "received_by_supplier_at": order.received_by_supplier_at,
            "dispatched_at": order.dispatched_at,
            "cancelled_at": order.cancelled_at,
            "delivery": {
                "name": order.name,
                "address1": order.address1,
                "address2": order.address2,
                "city": order.city,
                "county": order.county,
                "postcode": order.postcode,
                "country": order.country,
                "phone": order.phone,
                "email": order.email,
            },
            "shipping_service": order.shipping_service,
            "channel_shipping_method": order.channel_shipping_method,
            "tracking_number": order.tracking_number,
            "carrier": order.carrier,
            "items": [
                {
                    "line": line.line_no,
                    "sku": line.sku,
                    "channel_sku": line.channel_sku,
                    "supplier_product_id": line.supplier_product_id,
                    "title": line.title,
                    "quantity": line.quantity,
                    "unit_price_ex_vat": format_pence(line.unit_price_pence),
                    "vat_rate": format_rate(line.vat_rate_bp),
                    "line_vat": format_pence(line.line_vat_pence),
                    "line_total_inc_vat": format_pence(line.line_total_pence),
                }
                for line in order.lines
            ],
            "totals": {
                "items_ex_vat": format_pence(order.items_pence),
                "shipping_ex_vat": format_pence(order.shipping_pence),
                "vat": format_pence(order.vat_pence),
                "total": format_pence(order.total_pence),
                "currency": order.currency,
            },
            "notes": [{"at": n.at, "by": n.actor, "text": n.text} for n in notes],
        }


SUMMARY_COLUMNS = [
    "id",
    "number",
    "reference",
    "supplier",
    "status",
    "payment_status",
    "shipping_status",
    "hold_reason",
    "cancel_reason",
    "tracking_number",
    "total",
    "currency",
]


def order_summaries(ws: Workspace, order_ids: list[int]) -> list[dict[str, Any]]:
    """The state of orders a command has just changed, in the order given: what a script
    needs (number, statuses, total) to go on."""
    if not order_ids:
        return []
    with ws.uow(read_only=True) as uow:
        orders = {
            o.id: o for o in uow.session.scalars(select(Order).where(Order.id.in_(order_ids)))
        }
        return [
            {
                "id": order.id,
                "number": order.number or "QUEUE",
                "reference": order.channel_reference,
                "supplier": order.supplier.code if order.supplier else None,
                **_state(order),
                "tracking_number": order.tracking_number,
                "total": format_pence(order.total_pence),
                "currency": order.currency,
            }
            for order in (orders[i] for i in order_ids if i in orders)
        ]


def _state(order: Order) -> dict[str, str | None]:
    return {
        "status": order.status,
        "payment_status": order.payment_status,
        "shipping_status": order.shipping_status,
        "hold_reason": order.hold_reason,
        "cancel_reason": order.cancel_reason,
    }


def order_audit(ws: Workspace, ident: str) -> Iterator[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        order_id = find_order_id(uow.session, ident)
        events = uow.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
        for event in events:
            yield {
                "at": event.at,
                "actor": event.actor,
                "event": event.event,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "details": _details(event.details),
            }


def _details(text: str | None) -> str:
    if not text:
        return ""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return text
    if not isinstance(data, dict):
        return text
    return ", ".join(f"{key}={value}" for key, value in data.items())
