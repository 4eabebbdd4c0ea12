"""The bounds of incoming values (core/incoming.py) match the columns they are stored in."""

from __future__ import annotations

from avasam_cli.core.incoming import FIELD_LIMITS, MAX_PENCE, MAX_QUANTITY
from avasam_cli.core.models import Order, OrderLine, SourceOrder

COLUMNS = {
    "order_id": SourceOrder.external_id,
    "reference": Order.channel_reference,
    "name": Order.name,
    "address1": Order.address1,
    "address2": Order.address2,
    "city": Order.city,
    "county": Order.county,
    "postcode": Order.postcode,
    "phone": Order.phone,
    "email": Order.email,
    "shipping_method": Order.channel_shipping_method,
    "sku": OrderLine.channel_sku,
    "title": OrderLine.title,
}


def test_every_text_limit_is_its_columns_width() -> None:
    assert set(FIELD_LIMITS) == set(COLUMNS)
    for key, column in COLUMNS.items():
        assert FIELD_LIMITS[key] == column.type.length, key
    assert SourceOrder.reference.type.length == FIELD_LIMITS["reference"]


def test_numbers_fit_a_32_bit_integer_column() -> None:
    # order_lines.quantity and channel_unit_price_pence are INTEGER on PostgreSQL
    assert MAX_PENCE < 2**31 and MAX_QUANTITY < 2**31
