"""Orders as they come in, before they are ours: from a channel, or keyed in by hand.

Plain values (no database): the adapters in `core/channels` build them, the intake service
turns them into orders. `read_delivery` is the one check of delivery fields, whoever typed
them, and `group_by_supplier` the one rule for splitting lines into one order per supplier.

Every value that comes in is checked here against explicit bounds, so one hostile record
is refused with a reason instead of crashing a pull (or reaching the database): text fits
its column (`FIELD_LIMITS`, the lengths in `models.py`) and holds no NUL or lone surrogate;
quantities are 1..10,000; money is within +-10^9 pence with at most 2 decimals; times fall
in the years 2000..2100; a JSON record is nested at most `MAX_DEPTH` deep.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.postcodes import delivery_postcode, outward_of

MAX_TEXT = 500
MAX_QUANTITY = 10_000
MAX_PENCE = 10**9
YEARS = (2000, 2100)
MAX_DEPTH = 32  # of a JSON record: arrays and objects within each other
# The longest value of each field: the width of its column in models.py (a test checks).
FIELD_LIMITS = {
    "order_id": 128,  # source_orders.external_id
    "reference": 128,  # source_orders.reference, orders.channel_reference
    "name": 200,
    "address1": 200,
    "address2": 200,
    "city": 100,
    "county": 100,
    "postcode": 16,  # (country: the two-letter rule in read_delivery bounds it)
    "phone": 40,
    "email": 200,
    "shipping_method": 200,  # orders.channel_shipping_method
    "sku": 64,  # order_lines.channel_sku
    "title": 500,
}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_WHOLE = re.compile(r"[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?[0-9]{1,15}(\.[0-9]{1,15})?", re.ASCII)
_SHOWN = 40  # characters of a bad value quoted in a message

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


def shown(value: Any) -> str:
    """A bad value quoted for a message: its repr (control characters and lone surrogates
    escaped), cut short."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return "(a number too long to be one)"
    elif isinstance(value, int | float | bool):
        text = repr(str(value))
    else:
        return f"(a JSON {'object' if isinstance(value, dict) else 'list'})"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 4] + "...'"


def field_text(fields: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    """The field as stripped text ('' when absent); MissingField when required and empty.
    FieldError when it is not a plain value, is longer than its column or holds a NUL or a
    lone surrogate."""
    value = fields.get(key)
    result = "" if value is None else str(_scalar(value, key)).strip()
    if required and not result:
        raise MissingField(key)
    check_text(key, result)
    return result


def check_text(key: str, text: str) -> None:
    """FieldError unless `text` fits the column of field `key` and can be stored."""
    limit = FIELD_LIMITS.get(key, MAX_TEXT)
    if len(text) > limit:
        raise FieldError(f"{key} is longer than {limit} characters")
    if "\x00" in text:
        raise FieldError(f"{key} holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(f"{key} holds a lone surrogate (not valid Unicode)") from None


def _scalar(value: Any, key: str) -> str | int | float | bool:
    """A value where text belongs: a string, number or boolean (not an object or list, and
    not a number too long to be one)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        raise FieldError(f"{key} is a number too long to be one")
    if isinstance(value, str | int | float | bool):
        return value
    raise FieldError(f"{key} must be text, not {type(value).__name__}")


def read_quantity(value: Any) -> int:
    """A line's quantity: a whole number 1..MAX_QUANTITY (absent or empty: 1)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FieldError(f"quantity {shown(value)} is not a whole number")
    if isinstance(value, str) and not _WHOLE.fullmatch(value.strip()):
        raise FieldError(f"quantity {shown(value)} is not a whole number")
    if isinstance(value, str) and len(value.strip()) > 12:
        raise FieldError(f"quantity {shown(value)} is more than {MAX_QUANTITY:,}")
    quantity = int(value)  # an int, or a str of at most 12 ASCII digits
    if quantity < 1:
        raise FieldError(f"quantity {quantity} must be 1 or more")
    if quantity > MAX_QUANTITY:
        raise FieldError(f"quantity {shown(value)} is more than {MAX_QUANTITY:,}")
    return quantity


def read_pence(value: Any, key: str, *, minimum: int = -MAX_PENCE) -> int | None:
    """An amount in pounds (e.g. '9.99') as pence, None when absent: a plain decimal number
    with at most 2 decimals, within `minimum`..MAX_PENCE pence."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(f"{key} {shown(value)} is not a number")
    text = str(_scalar(value, key)).strip()
    if not _DECIMAL.fullmatch(text):
        raise FieldError(f"{key} {shown(value)} is not a plain decimal number")
    try:
        amount = Decimal(text) * 100
    except InvalidOperation:
        raise FieldError(f"{key} {shown(value)} is not a number") from None
    if amount != amount.to_integral_value():
        raise FieldError(f"{key} {shown(value)} has more than 2 decimals")
    pence = int(amount)
    if pence < minimum:
        raise FieldError(f"{key} {shown(value)} must be {minimum / 100:.0f} or more")
    if pence > MAX_PENCE:
        raise FieldError(f"{key} {shown(value)} is more than {MAX_PENCE // 100:,}")
    return pence


def read_time(value: str, key: str, tz: tzinfo) -> datetime:
    """An ISO 8601 time (`Z` for UTC; without an offset, in `tz`) in the years YEARS."""
    if len(value) > 40:
        raise FieldError(f"{key} {shown(value)} is not an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(f"{key} {shown(value)} is not an ISO 8601 time") from None
    if not moment.tzinfo:
        moment = moment.replace(tzinfo=tz)
    low, high = YEARS
    # Checked before converting: 9999-12-31T23:00-05:00 is past the last year Python knows.
    if not low <= moment.year <= high or not low <= moment.astimezone(UTC).year <= high:
        raise FieldError(f"{key} {shown(value)} must be within the years {low} to {high}")
    return moment


def check_depth(value: Any, key: str = "the record") -> None:
    """FieldError when a decoded JSON value nests arrays and objects deeper than MAX_DEPTH
    (walked without recursion, so any depth is safe to check)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_DEPTH:
                    raise FieldError(f"{key} is nested deeper than {MAX_DEPTH} levels")
                stack.append((child, depth + 1))


def read_delivery(fields: Mapping[str, Any], *, strict_postcode: bool) -> Delivery:
    """The delivery fields of an order (name, address1, address2, city, county, postcode,
    country, phone, email), checked; the country defaults to GB.

    `strict_postcode` is for a person at the keyboard (`orders add`, `orders edit`): a GB
    postcode that does not parse and a missing first address line or city are refused. A
    channel's order (not strict) is never lost for them: the postcode is kept upper-cased as
    given and a missing address1 or city as '', and `orders process` holds the order
    `invalid_address` (see `address_problems`) until `orders edit` fixes it."""
    country = read_country(fields)
    return Delivery(
        name=field_text(fields, "name", required=True),
        address1=field_text(fields, "address1", required=strict_postcode),
        address2=field_text(fields, "address2") or None,
        city=field_text(fields, "city", required=strict_postcode),
        county=field_text(fields, "county") or None,
        postcode=read_postcode(fields, country, strict=strict_postcode),
        country=country,
        phone=field_text(fields, "phone") or None,
        email=field_text(fields, "email") or None,
    )


def read_country(fields: Mapping[str, Any]) -> str:
    """The delivery country: a two-letter ISO code, upper-cased; GB when absent."""
    country = (field_text(fields, "country") or "GB").upper()
    if not _COUNTRY.match(country):
        raise FieldError(f"country {country!r} must be a two-letter ISO code such as GB")
    return country


def read_postcode(fields: Mapping[str, Any], country: str, *, strict: bool) -> str:
    """The postcode for `country` (required), in its one form (see `delivery_postcode`)."""
    postcode = delivery_postcode(
        field_text(fields, "postcode", required=True), country, strict=strict
    )
    check_text("postcode", postcode)  # upper-casing can lengthen it ('ß' is 'SS')
    return postcode


def address_problems(address1: str, city: str, postcode: str, country: str) -> list[str]:
    """What makes a delivery address unusable, in words naming the field (empty: nothing):
    the hold detail of an `invalid_address` hold."""
    problems = [
        f"{key} is missing" for key, value in (("address1", address1), ("city", city)) if not value
    ]
    if country == "GB" and outward_of(postcode) is None:
        problems.append(f"postcode {shown(postcode)} is not a valid UK postcode")
    return problems


def refuse_control_characters(key: str, text: str) -> None:
    """FieldError when `text` holds a control character (a newline, an escape sequence):
    what a person types for one field never holds one."""
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise FieldError(f"{key} {shown(text)} holds a control character")


def group_by_supplier(
    lines: Iterable[tuple[L, LinkedProduct]],
) -> list[list[tuple[L, LinkedProduct]]]:
    """Lines (each with its product) split into one group per supplier: groups in the order
    their supplier first appears, lines in their own order. One group: no split."""
    groups: dict[int, list[tuple[L, LinkedProduct]]] = {}
    for line, product in lines:
        groups.setdefault(product.supplier_id, []).append((line, product))
    return list(groups.values())
