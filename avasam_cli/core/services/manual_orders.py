"""`orders add`: an order keyed in by the seller, processed at once."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.errors import Conflict, InvalidInput, NotFound
from avasam_cli.core.incoming import (
    DELIVERY_FIELDS,
    Delivery,
    FieldError,
    IncomingLine,
    IncomingOrder,
    LinkedProduct,
    MissingField,
    field_text,
    read_delivery,
    read_quantity,
)
from avasam_cli.core.models import Channel, Product, ShippingService, SourceOrder, Supplier
from avasam_cli.core.services.catalogue import SERVICES
from avasam_cli.core.services.intake import create_orders, insert_sources
from avasam_cli.core.services.lookup import MANUAL_CHANNEL, lock_order
from avasam_cli.core.services.notes import add_note_locked
from avasam_cli.core.services.processing import Outcome, process_order
from avasam_cli.core.workspace import Workspace

_ITEM = re.compile(r"^(?P<sku>.+?)(?::(?P<qty>-?\d+))?$")
FIELDS = (
    *DELIVERY_FIELDS,
    "items",
    "shipping_service",
    "reference",
    "note",
)


@dataclass
class ManualOrder:
    delivery: Delivery
    items: list[tuple[str, int]]
    shipping_service: str
    reference: str | None = None
    note: str | None = None


def parse_item(text: str) -> tuple[str, int]:
    """'SKU' -> (SKU, 1); 'SKU:3' -> (SKU, 3)."""
    match = _ITEM.match(text.strip())
    if not match or not match.group("sku").strip():
        raise InvalidInput(f"item {text!r} must be SKU or SKU:QTY")
    try:  # the one quantity rule (1..10,000), as for channel orders
        qty = read_quantity(match.group("qty"))
    except FieldError as exc:
        raise InvalidInput(f"item {text!r}: {exc}") from None
    return match.group("sku").strip(), qty


def build_manual_order(values: dict[str, Any]) -> ManualOrder:
    """Validate the fields of `orders add` (from options or from a JSON file)."""
    try:
        delivery = read_delivery(values, strict_postcode=True)
        service = field_text(values, "shipping_service", required=True)
        reference = field_text(values, "reference") or None
        note = field_text(values, "note") or None
    except MissingField as exc:
        raise InvalidInput(f"the order needs --{exc.key.replace('_', '-')}") from None
    if service not in SERVICES:
        raise InvalidInput(f"shipping service {service!r} must be one of {', '.join(SERVICES)}")
    raw_items = values.get("items") or []
    if not raw_items:
        raise InvalidInput("the order needs at least one --item SKU[:QTY]")
    items = [_item_from(raw) for raw in raw_items]
    return ManualOrder(
        delivery=delivery, items=items, shipping_service=service, reference=reference, note=note
    )


def read_order_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InvalidInput(f"file {str(path)!r} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name} is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path.name} must hold one JSON object with the order's fields")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidInput(
            f"{path.name}: unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}"
        )
    return data


def add_manual_order(ws: Workspace, manual: ManualOrder) -> list[Outcome]:
    """Create the order (one per supplier), then process each at once."""
    with ws.uow() as uow:
        session, now = uow.session, ws.now()
        lines = []
        for sku, qty in manual.items:
            product = session.scalar(select(Product).where(Product.sku == sku))
            if product is None:
                raise NotFound(f"unknown SKU {sku!r}; see `avasam products list --search`")
            lines.append(IncomingLine(channel_sku=sku, quantity=qty, product=linked(product)))
        for supplier_id in {line.product.supplier_id for line in lines if line.product}:
            check_service(session, supplier_id, manual.shipping_service)
        channel_id = session.scalars(select(Channel.id).where(Channel.name == MANUAL_CHANNEL)).one()
        external_id = manual.reference or f"manual-{uuid.uuid4()}"
        if session.scalar(
            select(SourceOrder.id).where(
                SourceOrder.channel_id == channel_id, SourceOrder.external_id == external_id
            )
        ):
            raise Conflict(
                f"reference {manual.reference!r} is already used by another order; "
                "choose another --reference"
            )
        incoming = IncomingOrder(
            delivery=manual.delivery,
            lines=lines,
            placed_at=now,
            shipping_service=manual.shipping_service,
            external_id=external_id,
            reference=manual.reference,
        )
        [source_id] = insert_sources(session, channel_id, [incoming], now)
        created = create_orders(
            session, channel_id, [(source_id, incoming)], actor=ws.actor, now=now
        )
        order_ids = [c.order_id for c in created]
        if manual.note:
            for order_id in order_ids:
                add_note_locked(
                    session, lock_order(session, order_id), manual.note, actor=ws.actor, at=now
                )
        uow.commit()
    return [outcome for oid in order_ids if (outcome := process_order(ws, oid)) is not None]


def linked(product: Product) -> LinkedProduct:
    return LinkedProduct(
        product.id, product.supplier_id, product.sku, product.supplier_product_id, product.title
    )


def check_service(session: Session, supplier_id: int, service: str) -> None:
    offered = list(
        session.scalars(select(ShippingService).where(ShippingService.supplier_id == supplier_id))
    )
    if not any(s.service == service for s in offered):
        supplier = session.get_one(Supplier, supplier_id)
        names = ", ".join(s.service for s in offered) or "none yet"
        raise InvalidInput(
            f"supplier {supplier.code} does not offer {service} shipping (offers: {names}); "
            f"add it with `avasam suppliers shipping {supplier.code} {service} --price P`"
        )


def _item_from(raw: Any) -> tuple[str, int]:
    if isinstance(raw, str):
        return parse_item(raw)
    if isinstance(raw, dict) and "sku" in raw:
        qty = raw.get("qty", raw.get("quantity", 1))
        if not isinstance(qty, int) or isinstance(qty, bool):
            raise InvalidInput(f"item {raw!r}: qty must be a whole number")
        return parse_item(f"{raw['sku']}:{qty}")
    raise InvalidInput(f'item {raw!r} must be "SKU:QTY" or {{"sku": ..., "qty": ...}}')
