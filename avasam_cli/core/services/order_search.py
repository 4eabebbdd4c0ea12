"""`orders list`: search, filters, sorting, paging and counting, streamed.

Search tries exact identifiers first (order number, reference, an item's SKU or supplier
product id), which are indexed; only when none match does it look for the words in item
titles, which scans the lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.lifecycle import Status
from avasam_cli.core.models import Channel, Order, OrderLine, Supplier
from avasam_cli.core.money import format_pence
from avasam_cli.core.services.catalogue import get_supplier
from avasam_cli.core.workspace import Workspace

SORTS: dict[str, tuple[ColumnElement[Any], ColumnElement[Any]]] = {
    "placed": (Order.placed_at.asc(), Order.id.asc()),
    "-placed": (Order.placed_at.desc(), Order.id.desc()),
    "total": (Order.total_pence.asc(), Order.id.asc()),
    "-total": (Order.total_pence.desc(), Order.id.desc()),
    "number": (Order.number.asc().nulls_last(), Order.id.asc()),
}
_NUMBER = re.compile(r"^AV\d{7}$", re.IGNORECASE)


@dataclass
class OrderQuery:
    search: str | None = None
    statuses: list[str] = field(default_factory=list)
    payment: str | None = None
    shipping: str | None = None
    channel: str | None = None
    supplier: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    sort: str = "-placed"
    limit: int | None = 50
    offset: int = 0


def count_orders(ws: Workspace, query: OrderQuery) -> int:
    with ws.uow(read_only=True) as uow:
        conditions = _conditions(uow.session, query)
        return int(uow.session.scalar(select(func.count(Order.id)).where(*conditions)) or 0)


def list_orders(ws: Workspace, query: OrderQuery) -> Iterator[dict[str, Any]]:
    if query.sort not in SORTS:
        raise InvalidInput(f"--sort must be one of {', '.join(SORTS)}")
    with ws.uow(read_only=True) as uow:
        statement = (
            select(Order, Channel.name, Supplier.code)
            .join(Channel, Channel.id == Order.channel_id)
            .outerjoin(Supplier, Supplier.id == Order.supplier_id)
            .where(*_conditions(uow.session, query))
            .order_by(*SORTS[query.sort])
            .offset(query.offset or None)
        )
        if query.limit is not None:
            statement = statement.limit(query.limit)
        # yield_per streams (a server-side cursor on PostgreSQL): memory stays flat.
        rows = uow.session.execute(statement.execution_options(yield_per=1000))
        for order, channel, supplier in rows:
            yield order_row(order, channel, supplier)
            uow.session.expunge(order)


def order_row(order: Order, channel: str, supplier: str | None) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.number or "QUEUE",
        "channel": channel,
        "channel_reference": order.channel_reference,
        "supplier": supplier,
        "placed_at": order.placed_at,
        "customer": order.name,
        "postcode": order.postcode,
        "item_count": order.item_count,
        "total": format_pence(order.total_pence),
        "currency": order.currency,
        "status": order.status,
        "payment_status": order.payment_status,
        "shipping_status": order.shipping_status,
        "hold_reason": order.hold_reason,
        "has_notes": order.note_count > 0,
    }


def _conditions(session: Session, query: OrderQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.statuses:
        conditions.append(Order.status.in_(query.statuses))
    else:
        conditions.append(Order.status != Status.MATCHING)  # still being linked: hidden
    if query.payment:
        conditions.append(Order.payment_status == query.payment)
    if query.shipping:
        conditions.append(Order.shipping_status == query.shipping)
    if query.channel:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == query.channel))
        if channel_id is None:
            raise InvalidInput(f"no channel {query.channel!r}; see `avasam channels list`")
        conditions.append(Order.channel_id == channel_id)
    if query.supplier:
        conditions.append(Order.supplier_id == get_supplier(session, query.supplier).id)
    if query.placed_from:
        conditions.append(Order.placed_at >= query.placed_from)
    if query.placed_to:
        conditions.append(Order.placed_at < query.placed_to)
    if query.search and query.search.strip():
        conditions.append(_search(session, query.search.strip(), conditions))
    return conditions


def _search(
    session: Session, text: str, others: list[ColumnElement[bool]]
) -> ColumnElement[bool]:
    exact = _exact_match(text)
    if session.scalar(select(Order.id).where(exact, *others).limit(1)) is not None:
        return exact
    words = [w for w in text.lower().split() if w]
    title_matches = and_(*(func.lower(OrderLine.title).like(f"%{_escape(w)}%", escape="\\")
                           for w in words))
    return exists().where(OrderLine.order_id == Order.id, title_matches)


def _exact_match(text: str) -> ColumnElement[bool]:
    by_line = select(OrderLine.order_id).where(
        or_(OrderLine.sku == text, OrderLine.supplier_product_id == text,
            OrderLine.channel_sku == text)
    )
    options: list[ColumnElement[bool]] = [Order.channel_reference == text, Order.id.in_(by_line)]
    if _NUMBER.match(text):
        options.append(Order.number == text.upper())
    return or_(*options)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
