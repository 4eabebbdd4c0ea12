"""Creating orders from incoming orders (a channel's, or one keyed in by hand), in bulk.

Lines linked to products are grouped by supplier: one order per supplier, all sharing
the source order's reference. An order with an unlinked line waits in `matching`. An order
whose shipping method maps to no service is `held` (shipping_unmapped) at once.
Plain-row bulk inserts keep a 100,000-order pull fast and its memory flat.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from avasam_cli.core.lifecycle import (
    HoldReason,
    Payment,
    Shipping,
    Status,
    check_transition,
    event_row,
)
from avasam_cli.core.models import Order, OrderEvent, OrderLine, SourceOrder, table


@dataclass(frozen=True)
class LinkedProduct:
    id: int
    supplier_id: int
    sku: str
    supplier_product_id: str
    title: str


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
    product: LinkedProduct | None = None


@dataclass
class IncomingOrder:
    delivery: Delivery
    lines: list[IncomingLine]
    placed_at: datetime
    shipping_service: str | None
    channel_shipping_method: str | None = None
    external_id: str = ""
    reference: str | None = None
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)

    def content_hash(self) -> str:
        """What the channel said about the order; a change means the order was updated."""
        data = [
            self.external_id, self.reference, self.cancelled, self.placed_at.isoformat(),
            self.channel_shipping_method, vars(self.delivery), self.notes,
            [[x.channel_sku, x.quantity, x.title, x.channel_unit_price_pence] for x in self.lines],
        ]
        # repr is deterministic for these plain values and much cheaper than json.dumps
        return hashlib.sha256(repr(data).encode()).hexdigest()


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
        {"channel_id": channel_id, "external_id": order.external_id,
         "reference": order.reference, "content_hash": order.content_hash(),
         "downloaded_at": now}
        for order in incoming
    ]
    # Matched back by key: asking the database to keep parameter order would make
    # PostgreSQL insert one row per statement.
    sources = table(SourceOrder)
    ids = dict(_returning(session, insert(sources).returning(sources.c.external_id,
                                                             sources.c.id), rows))
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
    plans: list[tuple[int, IncomingOrder, list[IncomingLine], Status]] = []
    for source_id, incoming in sources:
        for lines, status in _groups(incoming):
            plans.append((source_id, incoming, lines, status))
    if not plans:
        return []
    rows = [_order_row(channel_id, source_id, inc, lines, status, now)
            for source_id, inc, lines, status in plans]
    orders = table(Order)
    keys = dict(_returning(session, insert(orders).returning(
        orders.c.source_order_id, orders.c.supplier_id, orders.c.id), rows, key_size=2))
    order_ids = [keys[(row["source_order_id"], row["supplier_id"])] for row in rows]
    line_rows, events, created = [], [], []
    for order_id, (source_id, incoming, lines, status) in zip(order_ids, plans, strict=True):
        line_rows += [_line_row(order_id, n, line) for n, line in enumerate(lines, start=1)]
        events += _creation_events(order_id, incoming, len(lines), status, actor, now)
        created.append(Created(order_id, source_id, status))
    # Core inserts (tables, not mapped classes): the ORM's bulk insert leaves out None
    # values, which splits rows into one-row batches whenever their None columns differ.
    session.execute(insert(table(OrderLine)), line_rows)
    session.execute(insert(table(OrderEvent)), events)
    return created


def _returning(
    session: Session, statement: Any, rows: list[dict[str, Any]], key_size: int = 1
) -> list[tuple[Any, int]]:
    """(key, id) pairs of an INSERT ... RETURNING key columns, id."""
    result = session.execute(statement, rows)
    return [(row[0] if key_size == 1 else tuple(row[:key_size]), row[key_size])
            for row in result]


def _groups(incoming: IncomingOrder) -> list[tuple[list[IncomingLine], Status]]:
    if not all(line.product is not None for line in incoming.lines):
        return [(incoming.lines, Status.MATCHING)]
    by_supplier: dict[int, list[IncomingLine]] = {}
    for line in incoming.lines:
        assert line.product is not None
        by_supplier.setdefault(line.product.supplier_id, []).append(line)
    status = Status.QUEUE if incoming.shipping_service else Status.HELD
    return [(lines, status) for lines in by_supplier.values()]


def _creation_events(
    order_id: int,
    incoming: IncomingOrder,
    line_count: int,
    status: Status,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    details: dict[str, Any] = {"reference": incoming.reference, "lines": line_count}
    events = [event_row(order_id, "created", actor=actor, at=now, details=details,
                        to_status=Status.MATCHING if status == Status.MATCHING else Status.QUEUE)]
    if status == Status.HELD:
        event = check_transition(Status.QUEUE, Status.HELD)
        events.append(event_row(order_id, event, actor=actor, at=now, from_status=Status.QUEUE,
                                to_status=Status.HELD, details={
                                    "reason": HoldReason.SHIPPING_UNMAPPED,
                                    "method": incoming.channel_shipping_method}))
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
        "status": status,
        "payment_status": Payment.UNPAID,
        "shipping_status": Shipping.UNSHIPPED,
        "hold_reason": HoldReason.SHIPPING_UNMAPPED if status == Status.HELD else None,
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


def _line_row(order_id: int, line_no: int, line: IncomingLine) -> dict[str, Any]:
    product = line.product
    return {
        "order_id": order_id,
        "line_no": line_no,
        "channel_sku": line.channel_sku,
        "product_id": product.id if product else None,
        "sku": product.sku if product else None,
        "supplier_product_id": product.supplier_product_id if product else None,
        "title": (product.title if product else None) or line.title or line.channel_sku,
        "quantity": line.quantity,
        "channel_unit_price_pence": line.channel_unit_price_pence,
        "unit_price_pence": 0,
        "vat_rate_bp": 0,
        "line_vat_pence": 0,
        "line_total_pence": 0,
    }
