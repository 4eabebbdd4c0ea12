"""Suppliers, their shipping services and delivery rules, and their products."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from avasam_cli.core.errors import Conflict, InvalidInput, NotFound
from avasam_cli.core.lightdb import escape_like
from avasam_cli.core.models import Product, ProductChange, ShippingService, Supplier
from avasam_cli.core.money import format_pence, format_rate, parse_pence, parse_vat_rate
from avasam_cli.core.postcodes import format_exclusions, parse_exclusions
from avasam_cli.core.services.lookup import find_supplier, get_supplier
from avasam_cli.core.statuses import ShippingServiceKind
from avasam_cli.core.workspace import Workspace

SERVICES = tuple(ShippingServiceKind)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def add_supplier(
    ws: Workspace, code: str, name: str, *, international: bool, exclude_postcodes: str
) -> dict[str, Any]:
    if not _CODE.match(code):
        raise InvalidInput(f"supplier code {code!r} must be 1-32 letters, digits, '-', '_' or '.'")
    if not name.strip():
        raise InvalidInput("the supplier needs a --name")
    rules = format_exclusions(parse_exclusions(exclude_postcodes))
    with ws.uow() as uow:
        if find_supplier(uow.session, code) is not None:
            raise Conflict(f"supplier {code} already exists; see `avasam suppliers show {code}`")
        supplier = Supplier(
            code=code,
            name=name.strip(),
            international=international,
            excluded_postcodes=rules,
            created_at=ws.now(),
        )
        uow.session.add(supplier)
        uow.commit()
        return supplier_row(supplier)


def list_suppliers(ws: Workspace) -> list[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        suppliers = uow.session.scalars(select(Supplier).order_by(Supplier.code)).all()
        return [supplier_row(s) for s in suppliers]


def show_supplier(ws: Workspace, code: str) -> dict[str, Any]:
    with ws.uow(read_only=True) as uow:
        supplier = get_supplier(uow.session, code)
        row = supplier_row(supplier)
        row["shipping_services"] = [service_row(s) for s in supplier.services]
        row["products"] = uow.session.scalar(
            select(func.count()).select_from(Product).where(Product.supplier_id == supplier.id)
        )
        return row


def set_shipping(
    ws: Workspace, code: str, service: str, *, price: str, vat: str, carrier: str | None
) -> dict[str, Any]:
    if service not in SERVICES:
        raise InvalidInput(f"shipping service {service!r} must be one of {', '.join(SERVICES)}")
    price_pence, vat_bp = parse_pence(price, "price"), parse_vat_rate(vat)
    with ws.uow() as uow:
        supplier = get_supplier(uow.session, code)
        existing = uow.session.scalar(
            select(ShippingService).where(
                ShippingService.supplier_id == supplier.id, ShippingService.service == service
            )
        )
        if existing is None:
            existing = ShippingService(supplier_id=supplier.id, service=service)
            uow.session.add(existing)
        existing.price_pence, existing.vat_rate_bp, existing.carrier = price_pence, vat_bp, carrier
        uow.commit()
        return {"supplier": code, **service_row(existing)}


def list_products(
    ws: Workspace, *, search: str | None, supplier: str | None
) -> Iterator[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        query = select(Product, Supplier.code).join(Supplier).order_by(Product.sku)
        if supplier:
            query = query.where(Supplier.id == get_supplier(uow.session, supplier).id)
        for word in (search or "").split():
            pattern = f"%{escape_like(word.lower())}%"
            query = query.where(
                or_(
                    func.lower(Product.title).like(pattern, escape="\\"),
                    func.lower(Product.sku).like(pattern, escape="\\"),
                    func.lower(Product.supplier_product_id).like(pattern, escape="\\"),
                )
            )
        for product, supplier_code in uow.session.execute(query.execution_options(yield_per=500)):
            yield product_row(product, supplier_code)


def show_product(ws: Workspace, sku: str) -> dict[str, Any]:
    with ws.uow(read_only=True) as uow:
        product = _product(uow.session, sku)
        supplier = product.supplier
        row = product_row(product, supplier.code)
        row["supplier_name"] = supplier.name
        row["delivery"] = "UK and international" if supplier.international else "UK only"
        row["excluded_postcodes"] = supplier.excluded_postcodes or "none"
        row["shipping_services"] = [service_row(s) for s in supplier.services]
        return row


def product_history(ws: Workspace, sku: str, limit: int | None) -> list[dict[str, Any]]:
    """A product's stock and price changes, newest first, with their source."""
    with ws.uow(read_only=True) as uow:
        product = _product(uow.session, sku)
        changes = uow.session.scalars(
            select(ProductChange)
            .where(ProductChange.product_id == product.id)
            .order_by(ProductChange.id.desc())
            .limit(limit)
        )
        return [
            {
                "at": change.at,
                "actor": change.actor,
                "source": change.source,
                "changes": _changes_text(json.loads(change.details)),
            }
            for change in changes
        ]


def _changes_text(details: dict[str, list[Any]]) -> str:
    """{"stock": [0, 5], "price_pence": [1000, 1200]} as 'stock 0 -> 5, price 10.00 -> 12.00'."""
    money = {"price_pence": "price", "rrp_pence": "rrp"}

    def shown(name: str, value: Any) -> str:
        if value is None:
            return "-"
        if name in money:
            return format_pence(value)
        return format_rate(value) if name == "vat_rate_bp" else str(value)

    labels = {**money, "vat_rate_bp": "vat_rate"}
    return ", ".join(
        f"{labels.get(name, name)} {shown(name, old)} -> {shown(name, new)}"
        for name, (old, new) in details.items()
    )


def _product(session: Session, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"no product with SKU {sku!r}; see `avasam products list --search`")
    return product


def supplier_row(supplier: Supplier) -> dict[str, Any]:
    return {
        "code": supplier.code,
        "name": supplier.name,
        "international": supplier.international,
        "excluded_postcodes": supplier.excluded_postcodes,
    }


def service_row(service: ShippingService) -> dict[str, Any]:
    return {
        "service": service.service,
        "price": format_pence(service.price_pence),
        "vat_rate": format_rate(service.vat_rate_bp),
        "carrier": service.carrier,
    }


def product_row(product: Product, supplier_code: str) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "supplier_product_id": product.supplier_product_id,
        "supplier": supplier_code,
        "title": product.title,
        "stock": product.stock,
        "price_ex_vat": format_pence(product.price_pence),
        "rrp_ex_vat": None if product.rrp_pence is None else format_pence(product.rrp_pence),
        "vat_rate": format_rate(product.vat_rate_bp),
        "currency": "GBP",
    }
