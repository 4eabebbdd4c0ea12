"""Orders as they come in, before they are ours: from a channel, or keyed in by hand.

Plain values (no database): the adapters in `core/channels` build them, the intake service
turns them into orders. `read_delivery` is the one check of delivery fields, whoever typed
them, and `group_by_supplier` the one rule for splitting lines into one order per supplier.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.postcodes import delivery_postcode

MAX_TEXT = 500
_COUNTRY = re.compile(r"^[A-Z]{2}$")

L = TypeVar("L")


# The delivery fields of an order, in the order people read them.
DELIVERY_FIELDS = (
    "name",
    "address1",
    "address2",
    "city",
    "county",
    "postcode",
    "country",
    "phone",
    "email",
)


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
            self.external_id,
            self.reference,
            self.cancelled,
            self.placed_at.isoformat(),
            self.channel_shipping_method,
            vars(self.delivery),
            self.notes,
            [[x.channel_sku, x.quantity, x.title, x.channel_unit_price_pence] for x in self.lines],
        ]
        # repr is deterministic for these plain values and much cheaper than json.dumps
        return hashlib.sha256(repr(data).encode()).hexdigest()


class FieldError(InvalidInput):
    """What is wrong with one field of an order; the caller adds where it was."""


class MissingField(FieldError):
    def __init__(self, key: str) -> None:
        super().__init__(f"{key} is missing")
        self.key = key


def field_text(fields: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    """The field as stripped text ('' when absent); MissingField when required and empty."""
    value = fields.get(key)
    result = "" if value is None else str(value).strip()
    if required and not result:
        raise MissingField(key)
    if len(result) > MAX_TEXT:
        raise FieldError(f"{key} is longer than {MAX_TEXT} characters")
    return result


def read_delivery(fields: Mapping[str, Any], *, strict_postcode: bool) -> Delivery:
    """The delivery fields of an order (name, address1, address2, city, county, postcode,
    country, phone, email), checked; the country defaults to GB. `strict_postcode`: refuse a
    GB postcode that does not parse instead of keeping it (see `delivery_postcode`)."""
    country = (field_text(fields, "country") or "GB").upper()
    if not _COUNTRY.match(country):
        raise FieldError(f"country {country!r} must be a two-letter ISO code such as GB")
    postcode = delivery_postcode(
        field_text(fields, "postcode", required=True), country, strict=strict_postcode
    )
    return Delivery(
        name=field_text(fields, "name", required=True),
        address1=field_text(fields, "address1", required=True),
        address2=field_text(fields, "address2") or None,
        city=field_text(fields, "city", required=True),
        county=field_text(fields, "county") or None,
        postcode=postcode,
        country=country,
        phone=field_text(fields, "phone") or None,
        email=field_text(fields, "email") or None,
    )


def group_by_supplier(
    lines: Iterable[tuple[L, LinkedProduct]],
) -> list[list[tuple[L, LinkedProduct]]]:
    """Lines (each with its product) split into one group per supplier: groups in the order
    their supplier first appears, lines in their own order. One group: no split."""
    groups: dict[int, list[tuple[L, LinkedProduct]]] = {}
    for line, product in lines:
        groups.setdefault(product.supplier_id, []).append((line, product))
    return list(groups.values())
