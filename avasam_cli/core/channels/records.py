"""Turning one order's fields (from a file, or mapped from an API) into an IncomingOrder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from avasam_cli.core.incoming import (
    FieldError,
    IncomingLine,
    IncomingOrder,
    field_text,
    read_delivery,
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
        placed_at=parse_time(field_text(fields, "placed_at", required=True), tz),
        cancelled=field_text(fields, "status").lower() in CANCELLED,
        delivery=delivery,
        channel_shipping_method=field_text(fields, "shipping_method") or None,
        shipping_service=None,
        lines=[build_line(line) for line in lines],
    )


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
            orders.append(build_order(*fields(item), tz))
        except (FieldError, AttributeError, TypeError) as exc:
            ident = item.get(label) or item.get("id") if isinstance(item, dict) else "?"
            problems.append(f"{channel} order {ident}: {exc}")
    return orders


def build_line(fields: dict[str, Any]) -> IncomingLine:
    sku = field_text(fields, "sku", required=True)
    quantity = fields.get("quantity")
    if quantity is None or str(quantity).strip() == "":
        quantity = 1  # an absent or empty quantity means one
    try:
        qty = int(str(quantity).strip())
    except ValueError:
        raise FieldError(f"quantity {quantity!r} is not a whole number") from None
    if qty < 1:
        raise FieldError(f"quantity {qty} must be 1 or more")
    return IncomingLine(
        channel_sku=sku,
        quantity=qty,
        title=field_text(fields, "title") or None,
        channel_unit_price_pence=pence(fields.get("unit_price")),
    )


def parse_time(value: str, tz: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(f"placed_at {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def pence(value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError(f"price {value!r} is not a number") from None
    if amount < 0 or not amount.is_finite():
        raise FieldError(f"price {value!r} must be 0 or more")
    return int((amount * 100).to_integral_value())
