"""Turning one order's fields (from a file, or mapped from an API) into an IncomingOrder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.postcodes import normalise_postcode
from avasam_cli.core.services.intake import Delivery, IncomingLine, IncomingOrder

CANCELLED = {"cancelled", "canceled"}


class RecordError(ValueError):
    """What is wrong with one field of an order; the caller adds where it was."""


def build_order(fields: dict[str, Any], lines: list[dict[str, Any]], tz: ZoneInfo) -> IncomingOrder:
    external_id = text(fields, "order_id", required=True)
    country = (text(fields, "country") or "GB").upper()
    if len(country) != 2 or not country.isalpha():
        raise RecordError(f"country {country!r} must be a two-letter code such as GB")
    if not lines:
        raise RecordError(f"order {external_id} has no lines")
    return IncomingOrder(
        external_id=external_id,
        reference=text(fields, "reference") or external_id,
        placed_at=parse_time(text(fields, "placed_at", required=True), tz),
        cancelled=(text(fields, "status") or "").lower() in CANCELLED,
        delivery=Delivery(
            name=text(fields, "name", required=True),
            address1=text(fields, "address1", required=True),
            address2=text(fields, "address2") or None,
            city=text(fields, "city", required=True),
            county=text(fields, "county") or None,
            postcode=postcode(text(fields, "postcode", required=True), country),
            country=country,
            phone=text(fields, "phone") or None,
            email=text(fields, "email") or None,
        ),
        channel_shipping_method=text(fields, "shipping_method") or None,
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
        except (RecordError, AttributeError, TypeError) as exc:
            ident = item.get(label) or item.get("id") if isinstance(item, dict) else "?"
            problems.append(f"{channel} order {ident}: {exc}")
    return orders


def build_line(fields: dict[str, Any]) -> IncomingLine:
    sku = text(fields, "sku", required=True)
    quantity = fields.get("quantity")
    if quantity is None or str(quantity).strip() == "":
        quantity = 1  # an absent or empty quantity means one
    try:
        qty = int(str(quantity).strip())
    except ValueError:
        raise RecordError(f"quantity {quantity!r} is not a whole number") from None
    if qty < 1:
        raise RecordError(f"quantity {qty} must be 1 or more")
    return IncomingLine(channel_sku=sku, quantity=qty, title=text(fields, "title") or None,
                        channel_unit_price_pence=pence(fields.get("unit_price")))


def text(fields: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = fields.get(key)
    result = "" if value is None else str(value).strip()
    if required and not result:
        raise RecordError(f"{key} is missing")
    if len(result) > 500:
        raise RecordError(f"{key} is longer than 500 characters")
    return result


def parse_time(value: str, tz: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"placed_at {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def pence(value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise RecordError(f"price {value!r} is not a number") from None
    if amount < 0 or not amount.is_finite():
        raise RecordError(f"price {value!r} must be 0 or more")
    return int((amount * 100).to_integral_value())


def postcode(value: str, country: str) -> str:
    if country != "GB":
        return value.upper()
    try:
        return normalise_postcode(value)
    except InvalidInput:
        return value.upper()  # kept as given: the order is not lost for a typo
