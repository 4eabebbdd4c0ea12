"""Read models of one order: everything about it and its audit trail (on the light read
path, core/lightdb.py), and the state of orders a command has just changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from avasam_cli.core.money import format_pence, format_rate
from avasam_cli.core.services.order_ids import find_order_id
from avasam_cli.core.workspace import Workspace

ORDER_SQL = """SELECT o.id, o.number, o.channel_reference, c.name, s.code, o.status,
 o.payment_status, o.shipping_status, o.hold_reason, o.hold_detail, o.cancel_reason,
 o.payment_error, o.placed_at, o.downloaded_at, o.paid_at, o.received_by_supplier_at,
 o.dispatched_at, o.cancelled_at, o.name, o.address1, o.address2, o.city, o.county,
 o.postcode, o.country, o.phone, o.email, o.shipping_service, o.channel_shipping_method,
 o.tracking_number, o.carrier, o.items_pence, o.shipping_pence, o.vat_pence, o.total_pence,
 o.currency
 FROM orders o JOIN channels c ON c.id = o.channel_id
 LEFT JOIN suppliers s ON s.id = o.supplier_id WHERE o.id = ?"""
LINES_SQL = """SELECT line_no, sku, channel_sku, supplier_product_id, title, quantity,
 unit_price_pence, vat_rate_bp, line_vat_pence, line_total_pence
 FROM order_lines WHERE order_id = ? ORDER BY line_no"""
TIMES = ("placed_at", "downloaded_at", "paid_at", "received_by_supplier_at",
         "dispatched_at", "cancelled_at")  # fmt: skip


def order_detail(ws: Workspace, ident: str) -> dict[str, Any]:
    """Everything about one order, on the light read path (core/lightdb.py)."""
    db = ws.light()
    order_id = find_order_id(db.rows, ident)
    (id_, number, reference, channel, supplier, status, payment, shipping, hold, hold_detail,
     cancel, payment_error, *times, name, address1, address2, city, county, postcode, country,
     phone, email, service, method, tracking, carrier, items, shipping_pence, vat, total,
     currency) = db.rows(ORDER_SQL, [order_id])[0]  # fmt: skip
    lines = db.rows(LINES_SQL, [order_id])
    notes = db.rows(
        "SELECT at, actor, text FROM order_notes WHERE order_id = ? ORDER BY id", [order_id]
    )
    updates = db.rows(
        "SELECT kind, status, tracking_number, sent_at, attempts, last_error"
        " FROM channel_updates WHERE order_id = ? ORDER BY id",
        [order_id],
    )
    return {
        "id": id_,
        "number": number or "QUEUE",
        "reference": reference,
        "channel": channel,
        "supplier": supplier,
        "status": status,
        "payment_status": payment,
        "shipping_status": shipping,
        "hold_reason": hold,
        # (a cancel clears the reason; the detail only means something beside it)
        "hold_detail": hold_detail if hold else None,
        "cancel_reason": cancel,
        "payment_error": payment_error,
        **{key: db.time_value(value) for key, value in zip(TIMES, times, strict=True)},
        "delivery": {
            "name": name,
            "address1": address1,
            "address2": address2,
            "city": city,
            "county": county,
            "postcode": postcode,
            "country": country,
            "phone": phone,
            "email": email,
        },
        "shipping_service": service,
        "channel_shipping_method": method,
        "tracking_number": tracking,
        "carrier": carrier,
        "items": [
            {
                "line": line_no,
                "sku": sku,
                "channel_sku": channel_sku,
                "supplier_product_id": supplier_product_id,
                "title": title,
                "quantity": quantity,
                "unit_price_ex_vat": format_pence(unit_pence),
                "vat_rate": format_rate(vat_rate_bp),
                "line_vat": format_pence(line_vat),
                "line_total_inc_vat": format_pence(line_total),
            }
            for (
                line_no,
                sku,
                channel_sku,
                supplier_product_id,
                title,
                quantity,
                unit_pence,
                vat_rate_bp,
                line_vat,
                line_total,
            ) in lines
        ],
        "totals": {
            "items_ex_vat": format_pence(items),
            "shipping_ex_vat": format_pence(shipping_pence),
            "vat": format_pence(vat),
            "total": format_pence(total),
            "currency": currency,
        },
        "notes": [{"at": db.time_value(at), "by": by, "text": text} for at, by, text in notes],
        # What the sales channel has been told (channels push): pending, sent, or failed.
        "channel_sync": [
            {
                "update": kind,
                "status": status,
                "tracking_number": tracking,
                "sent_at": db.time_value(sent_at),
                "attempts": attempts,
                "error": error,
            }
            for kind, status, tracking, sent_at, attempts, error in updates
        ],
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
    from sqlalchemy import select

    from avasam_cli.core.models import Order

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


def _state(order: Any) -> dict[str, str | None]:
    return {
        "status": order.status,
        "payment_status": order.payment_status,
        "shipping_status": order.shipping_status,
        "hold_reason": order.hold_reason,
        "cancel_reason": order.cancel_reason,
    }


def order_audit(ws: Workspace, ident: str) -> Iterator[dict[str, Any]]:
    db = ws.light()
    order_id = find_order_id(db.rows, ident)
    events = db.stream(
        "SELECT at, actor, event, from_status, to_status, details FROM order_events"
        " WHERE order_id = ? ORDER BY id",
        [order_id],
    )
    for at, actor, event, from_status, to_status, details in events:
        yield {
            "at": db.time_value(at),
            "actor": actor,
            "event": event,
            "from_status": from_status,
            "to_status": to_status,
            "details": _details(details),
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
