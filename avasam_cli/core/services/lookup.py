"""Finding one thing from what a user typed, with one "not found" rule per kind: an order
(by number, internal id or reference), a channel or an export (by name), a supplier (by code,
any case), a ticket (by number). Also the order-number format and the name pattern that
channels and exports share.

A removed channel or export is renamed `NAME (removed ID)`, which no valid name matches, so
the lookups never find one; `orders list --channel` still finds a removed channel's orders
by asking for it with `include_removed`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from avasam_cli.core.db import session_rows
from avasam_cli.core.errors import NotFound, no_channel, no_supplier
from avasam_cli.core.models import (
    Channel,
    ExportTarget,
    ImportFeed,
    Order,
    Product,
    Supplier,
    Ticket,
)
from avasam_cli.core.services import order_ids
from avasam_cli.core.services.order_ids import ORDER_NUMBER_PREFIX

if TYPE_CHECKING:
    from avasam_cli.core.workspace import Workspace

# Channel and export names: short, no spaces, safe in file names and crontabs.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MANUAL_CHANNEL = "manual"  # the built-in channel of orders keyed in by hand


def order_number(order_id: int) -> str:
    """The number an order gets when it is passed to the supplier: AV + 7 digits."""
    return f"{ORDER_NUMBER_PREFIX}{order_id:07d}"


def find_order_id(session: Session, ident: str) -> int:
    """The id of the order `ident` names (the rule lives in order_ids, shared with the
    light read path)."""
    return order_ids.find_order_id(session_rows(session), ident)


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
        select(Product)
        .where(Product.id.in_(ids))
        .order_by(Product.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {p.id: p for p in products}


def get_channel(session: Session, name: str, *, include_removed: bool = False) -> Channel:
    query = select(Channel).where(Channel.name == name)
    if not include_removed:
        query = query.where(Channel.removed_at.is_(None))
    channel = session.scalar(query)
    if channel is None:
        raise no_channel(name)
    return channel


def find_supplier(session: Session, code: str) -> Supplier | None:
    return session.scalar(select(Supplier).where(func.lower(Supplier.code) == code.lower()))


def get_supplier(session: Session, code: str) -> Supplier:
    supplier = find_supplier(session, code)
    if supplier is None:
        raise no_supplier(code)
    return supplier


def get_export(session: Session, name: str) -> ExportTarget:
    export = session.scalar(select(ExportTarget).where(ExportTarget.name == name))
    if export is None or not NAME.match(name):  # a removed export's name never matches
        raise NotFound(f"no export {name!r}; see `avasam exports list`")
    return export


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}; see `avasam tickets list`")
    return ticket


def names_starting(ws: Workspace, kind: str, prefix: str, limit: int = 50) -> list[str]:
    """Names of one kind starting with `prefix`, for shell completion."""
    from avasam_cli.core.lightdb import escape_like

    column = {
        "channel": Channel.name,
        "export": ExportTarget.name,
        "import": ImportFeed.name,
        "supplier": Supplier.code,
        "order": Order.number,
    }[kind]
    query = select(column).where(column.like(escape_like(prefix) + "%", escape="\\"))
    if kind == "channel":
        query = query.where(Channel.removed_at.is_(None))
    with ws.uow(read_only=True) as uow:
        names = uow.session.scalars(query.order_by(column).limit(limit))
        # a removed export's or import's name never matches NAME: get_export's rule
        return [n for n in names if n and (kind not in ("export", "import") or NAME.match(n))]
