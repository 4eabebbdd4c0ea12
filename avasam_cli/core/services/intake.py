"""Creating orders from incoming orders (a channel's, or one keyed in by hand), in bulk.

Lines linked to products are grouped by supplier: one order per supplier, all sharing
the source order's reference. An order with an unlinked line waits in `matching`. An order
whose shipping method maps to no service is `held` (shipping_unmapped) at once.
Plain-row bulk inserts keep a 100,000-order pull fast and its memory flat; the lifecycle's
row-level transition (`move_row`) sets each row's status and builds its events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from avasam_cli.core.incoming import IncomingLine, IncomingOrder, group_by_supplier
from avasam_cli.core.lifecycle import HoldReason, Payment, Shipping, Status, move_row
from avasam_cli.core.models import Order, OrderEvent, OrderLine, SourceOrder, table
from avasam_cli.core.textfold import fold_text


@dataclass(frozen=True)
class Created:
    order_id: int
    source_id: int
    status: str


def insert_sources(
    session: Session, channel_id: int, incoming: list[IncomingOrder], now: datetime
) -> list[int]:
    """One source_orders row per incoming order; their ids, in the same order."""
    rows = [
        {
            "channel_id": channel_id,
            "external_id": order.external_id,
            "reference": order.reference,
            "content_hash": order.content_hash(),
            "downloaded_at": now,
        }
        for order in incoming
    ]
    # Matched back by key: asking the database to keep parameter order would make
    # PostgreSQL insert one row per statement.
    sources = table(SourceOrder)
    ids = dict(
        _returning(session, insert(sources).returning(sources.c.external_id, sources.c.id), rows)
    )
    return [ids[order.external_id] for order in incoming]


def create_orders(
    session: Session,
    channel_id: int,
    sources: list[tuple[int, IncomingOrder]],
    *,
    actor: str,
    now: datetime,
) -> list[Created]:
    """Insert the order(s) of each (source id, incoming order), with lines and audit events."""
    plans = [
        (source_id, incoming, lines, status)
        for source_id, incoming in sources
        for lines, status in _split(incoming)
    ]
    if not plans:
        return []
    rows, events = [], []
    for source_id, incoming, lines, status in plans:
        row = _order_row(channel_id, source_id, incoming, lines, status, now)
        events.append(_start(row, incoming, len(lines), status, actor, now))
        rows.append(row)
    orders = table(Order)
    keys = dict(
        _returning(
            session,
            insert(orders).returning(orders.c.source_order_id, orders.c.supplier_id, orders.c.id),
            rows,
            key_size=2,
        )
    )
    order_ids = [keys[(row["source_order_id"], row["supplier_id"])] for row in rows]
    line_rows, event_rows, created = [], [], []
    for order_id, row, order_events, (source_id, _, lines, _) in zip(
        order_ids, rows, events, plans, strict=True
    ):
        line_rows += [line_row(order_id, n, line) for n, line in enumerate(lines, start=1)]
        for event in order_events:
            event["order_id"] = order_id  # known now, from INSERT ... RETURNING
        event_rows += order_events
        created.append(Created(order_id, source_id, row["status"]))
    # Core inserts (tables, not mapped classes): the ORM's bulk insert leaves out None
    # values, which splits rows into one-row batches whenever their None columns differ.
    session.execute(insert(table(OrderLine)), line_rows)
    session.execute(insert(table(OrderEvent)), event_rows)
    return created


def _returning(
    session: Session, statement: Any, rows: list[dict[str, Any]], key_size: int = 1
) -> list[tuple[Any, int]]:
    """(key, id) pairs of an INSERT ... RETURNING key columns, id."""
    result = session.execute(statement, rows)
    return [(row[0] if key_size == 1 else tuple(row[:key_size]), row[key_size]) for row in result]


def _split(incoming: IncomingOrder) -> list[tuple[list[IncomingLine], Status]]:
    """The orders an incoming order becomes, each with its first status: one per supplier
    of its lines, or one waiting in matching while a line is not linked to a product."""
    linked = [(line, line.product) for line in incoming.lines if line.product is not None]
    if len(linked) < len(incoming.lines):
        return [(incoming.lines, Status.MATCHING)]
    return [([line for line, _ in group], Status.QUEUE) for group in group_by_supplier(linked)]


def _start(
    row: dict[str, Any],
    incoming: IncomingOrder,
    line_count: int,
    status: Status,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Start the new order's row in `status` (held at once when its shipping method maps to
    no service); its audit events, without the order id it has yet to get."""
    details: dict[str, Any] = {"reference": incoming.reference, "lines": line_count}
    events = [move_row(row, status, actor=actor, at=now, details=details)]
    if status == Status.QUEUE and not incoming.shipping_service:
        row["hold_reason"] = HoldReason.SHIPPING_UNMAPPED
        events.append(
            move_row(
                row,
                Status.HELD,
                actor=actor,
                at=now,
                details={
                    "reason": HoldReason.SHIPPING_UNMAPPED,
                    "method": incoming.channel_shipping_method,
                },
            )
        )
    return events


def _order_row(
    channel_id: int,
    source_id: int,
    incoming: IncomingOrder,
    lines: list[IncomingLine],
    status: Status,
    now: datetime,
) -> dict[str, Any]:
    first = lines[0].product
    return {
        "source_order_id": source_id,
        "channel_id": channel_id,
        "channel_reference": incoming.reference,
        "supplier_id": first.supplier_id if first and status != Status.MATCHING else None,
        "payment_status": Payment.UNPAID,
        "shipping_status": Shipping.UNSHIPPED,
        "hold_reason": None,
        "placed_at": incoming.placed_at,
        "downloaded_at": now,
        **vars(incoming.delivery),
        "shipping_service": incoming.shipping_service,
        "channel_shipping_method": incoming.channel_shipping_method,
        "items_pence": 0,
        "shipping_pence": 0,
        "vat_pence": 0,
        "total_pence": 0,
        "currency": "GBP",
        "note_count": 0,
        "item_count": sum(line.quantity for line in lines),
        "updated_at": now,
    }


def line_row(order_id: int, line_no: int, line: IncomingLine) -> dict[str, Any]:
    product = line.product
    title = (product.title if product else None) or line.title or line.channel_sku
    return {
        "order_id": order_id,
        "line_no": line_no,
        "channel_sku": line.channel_sku,
        "product_id": product.id if product else None,
        "sku": product.sku if product else None,
        "supplier_product_id": product.supplier_product_id if product else None,
        "title": title,
        "search_title": fold_text(title),
        "quantity": line.quantity,
        "channel_unit_price_pence": line.channel_unit_price_pence,
        "unit_price_pence": 0,
        "vat_rate_bp": 0,
        "line_vat_pence": 0,
        "line_total_pence": 0,
    }
