"""Turning one order's fields (from a file, or mapped from an API) into an IncomingOrder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from avasam_cli.core.incoming import (
    FieldError,
    IncomingLine,
    IncomingOrder,
    check_depth,
    field_text,
    read_delivery,
    read_pence,
    read_quantity,
    read_time,
    shown,
)

CANCELLED = {"cancelled", "canceled"}


def build_order(fields: dict[str, Any], lines: list[dict[str, Any]], tz: ZoneInfo) -> IncomingOrder:
    """One order from its fields; FieldError names the field that is wrong."""
    external_id = field_text(fields, "order_id", required=True)
    delivery = read_delivery(fields, strict_postcode=False)
    if not lines:
        raise FieldError(f"order {external_id} has no lines")
    return IncomingOrder(
        external_id=external_id,
        reference=field_text(fields, "reference") or external_id,
        placed_at=read_time(field_text(fields, "placed_at", required=True), "placed_at", tz),
        cancelled=field_text(fields, "status").lower() in CANCELLED,
        delivery=delivery,
        channel_shipping_method=field_text(fields, "shipping_method") or None,
        shipping_service=None,
        lines=[build_line(line) for line in lines],
    )


def first_entry(value: Any, key: str) -> dict[str, Any]:
    """The first object of a list the API sends (e.g. shipping_lines); {} when there is none.
    Anything else where the list belongs is the order's problem, not a crash."""
    if not value:
        return {}
    if not isinstance(value, list) or not isinstance(value[0], dict):
        raise FieldError(f"{key} is not a list of objects")
    return value[0]


def read_api_orders(
    items: list[Any],
    fields: Callable[[dict[str, Any]], tuple[dict[str, Any], list[dict[str, Any]]]],
    tz: ZoneInfo,
    problems: list[str],
    *,
    channel: str,
    label: str,
) -> list[IncomingOrder]:
    """One API page's orders; an order that cannot be read is reported in `problems`
    (named by its `label` field, else its id) and the others go on."""
    orders = []
    for item in items:
        try:
            check_depth(item, "the order")
            orders.append(build_order(*fields(item), tz))
        except (FieldError, AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            ident = (item.get(label) or item.get("id")) if isinstance(item, dict) else None
            name = shown(ident) if ident is not None else "?"
            problems.append(f"{channel} order {name}: {exc}")
    return orders


def build_line(fields: dict[str, Any]) -> IncomingLine:
    return IncomingLine(
        channel_sku=field_text(fields, "sku", required=True),
        quantity=read_quantity(fields.get("quantity")),
        title=field_text(fields, "title") or None,
        channel_unit_price_pence=read_pence(fields.get("unit_price"), "unit_price", minimum=0),
    )
