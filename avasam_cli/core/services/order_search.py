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
from avasam_cli.core.models import Channel, Order, OrderLine, Product, Supplier
from avasam_cli.core.money import format_pence
from avasam_cli.core.services.catalogue import escape_like
from avasam_cli.core.services.lookup import get_channel, get_supplier
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
        session = uow.session
        if query.statuses:
            return _count(session, _conditions(session, query))
        # "every status but matching" as all minus matching: SQLite counts a whole table
        # from its smallest index, so the common unfiltered count stays instant.
        others = _conditions(session, query, with_status=False)
        matching = Order.status == Status.MATCHING
        return _count(session, others) - _count(session, [*others, matching])


def _count(session: Session, conditions: list[ColumnElement[bool]]) -> int:
    return int(session.scalar(select(func.count()).select_from(Order).where(*conditions)) or 0)


def list_orders(ws: Workspace, query: OrderQuery) -> Iterator[dict[str, Any]]:
    if query.sort not in SORTS:
        raise InvalidInput(f"--sort must be one of {', '.join(SORTS)}")
    with ws.uow(read_only=True) as uow:
        statement = (
            select(*LIST_COLUMNS, Channel.name.label("channel"), Supplier.code.label("supplier"))
            .join(Channel, Channel.id == Order.channel_id)
            .outerjoin(Supplier, Supplier.id == Order.supplier_id)
            .where(*_conditions(uow.session, query))
            .order_by(*SORTS[query.sort])
            .offset(query.offset or None)
        )
        if query.limit is not None:
            statement = statement.limit(query.limit)
        # Plain rows, not ORM objects, and yield_per streams them (a server-side cursor on
        # PostgreSQL): a million orders print at once with flat memory.
        for row in uow.session.execute(statement.execution_options(yield_per=1000)):
            yield order_row(row)


LIST_COLUMNS = (
    Order.id,
    Order.number,
    Order.channel_reference,
    Order.placed_at,
    Order.name,
    Order.postcode,
    Order.item_count,
    Order.total_pence,
    Order.currency,
    Order.status,
    Order.payment_status,
    Order.shipping_status,
    Order.hold_reason,
    Order.note_count,
)


def order_row(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number or "QUEUE",
        "channel": row.channel,
        "channel_reference": row.channel_reference,
        "supplier": row.supplier,
        "placed_at": row.placed_at,
        "customer": row.name,
        "postcode": row.postcode,
        "item_count": row.item_count,
        "total": format_pence(row.total_pence),
        "currency": row.currency,
        "status": row.status,
        "payment_status": row.payment_status,
        "shipping_status": row.shipping_status,
        "hold_reason": row.hold_reason,
        "has_notes": row.note_count > 0,
    }


def _conditions(
    session: Session, query: OrderQuery, *, with_status: bool = True
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.statuses:
        conditions.append(Order.status.in_(query.statuses))
    elif with_status:
        conditions.append(Order.status != Status.MATCHING)  # still being linked: hidden
    if query.payment:
        conditions.append(Order.payment_status == query.payment)
    if query.shipping:
        conditions.append(Order.shipping_status == query.shipping)
    if query.channel:
        channel = get_channel(session, query.channel, include_removed=True)
        conditions.append(Order.channel_id == channel.id)
    if query.supplier:
        conditions.append(Order.supplier_id == get_supplier(session, query.supplier).id)
    if query.placed_from:
        conditions.append(Order.placed_at >= query.placed_from)
    if query.placed_to:
        conditions.append(Order.placed_at < query.placed_to)
    if query.search and query.search.strip():
        conditions.append(_search(session, query.search.strip(), conditions))
    return conditions


def _search(session: Session, text: str, others: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    exact = _exact_match(text)
    if session.scalar(select(Order.id).where(exact, *others).limit(1)) is not None:
        return exact
    words = [w for w in text.lower().split() if w]
    title_matches = and_(
        *(func.lower(OrderLine.title).like(f"%{escape_like(w)}%", escape="\\") for w in words)
    )
    return exists().where(OrderLine.order_id == Order.id, title_matches)


def _exact_match(text: str) -> ColumnElement[bool]:
    products = select(Product.id).where(
        or_(Product.sku == text, Product.supplier_product_id == text)
    )
    by_line = select(OrderLine.order_id).where(
        or_(OrderLine.product_id.in_(products), OrderLine.channel_sku == text)
    )
    options: list[ColumnElement[bool]] = [Order.channel_reference == text, Order.id.in_(by_line)]
    if _NUMBER.match(text):
        options.append(Order.number == text.upper())
    return or_(*options)
