"""Finding one order from what a user typed: order number, internal id, or reference."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.errors import InvalidInput, NotFound
from avasam_cli.core.models import Order, Product

if TYPE_CHECKING:
    from avasam_cli.core.workspace import Workspace

_NUMBER = re.compile(r"^AV\d{7}$", re.IGNORECASE)


def find_order_id(session: Session, ident: str) -> int:
    """The id of the order `ident` names. An ambiguous reference lists the candidates."""
    ident = ident.strip()
    if not ident:
        raise InvalidInput("an order number, id or reference is needed")
    if _NUMBER.match(ident):
        found = session.scalar(select(Order.id).where(Order.number == ident.upper()))
        if found is not None:
            return found
    if ident.isdigit() and len(ident) < 12:
        found = session.scalar(select(Order.id).where(Order.id == int(ident)))
        if found is not None:
            return found
    rows = session.execute(
        select(Order.id, Order.number, Order.status)
        .where(Order.channel_reference == ident)
        .order_by(Order.id)
        .limit(20)
    ).all()
    if len(rows) == 1:
        return int(rows[0].id)
    if not rows:
        raise NotFound(
            f"no order {ident!r} (tried order number, id and reference); "
            "find it with `avasam orders list --search`"
        )
    candidates = ", ".join(f"{r.number or 'QUEUE'} (id {r.id}, {r.status})" for r in rows)
    raise InvalidInput(
        f"reference {ident!r} matches {len(rows)} orders: {candidates}; name one by its id"
    )


def lock_order(session: Session, order_id: int) -> Order:
    """Load an order for changing it: row-locked on PostgreSQL, fresh from the database."""
    return session.scalars(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lock_products(session: Session, order: Order) -> dict[int, Product]:
    """The order's products, fresh and row-locked, by id. Sorted by id so concurrent
    processes take the locks in one order (no deadlock)."""
    ids = sorted({line.product_id for line in order.lines if line.product_id is not None})
    products = session.scalars(
        select(Product).where(Product.id.in_(ids)).order_by(Product.id).with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {p.id: p for p in products}


def names_starting(ws: Workspace, kind: str, prefix: str, limit: int = 50) -> list[str]:
    """Names of one kind starting with `prefix`, for shell completion."""
    from avasam_cli.core.models import Channel, ExportTarget, Supplier
    from avasam_cli.core.services.catalogue import escape_like

    column = {"channel": Channel.name, "export": ExportTarget.name, "supplier": Supplier.code,
              "order": Order.number}[kind]
    query = select(column).where(column.like(escape_like(prefix) + "%", escape="\\"))
    if kind == "channel":
        query = query.where(Channel.removed_at.is_(None))
    with ws.uow(read_only=True) as uow:
        return [name for name in uow.session.scalars(query.order_by(column).limit(limit)) if name]
