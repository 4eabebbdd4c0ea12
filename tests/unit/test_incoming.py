"""The one check of delivery fields (channel orders and orders keyed in by hand) and the
one rule that splits lines per supplier."""

from __future__ import annotations

import pytest

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.incoming import (
    Delivery,
    FieldError,
    LinkedProduct,
    MissingField,
    address_problems,
    group_by_supplier,
    read_delivery,
    refuse_control_characters,
)

BASE = {"name": " Ann Lee ", "address1": "1 High St", "city": "London", "postcode": "sw1a1aa"}


def test_a_gb_delivery_is_normalised() -> None:
    assert read_delivery({**BASE, "phone": "", "county": None}, strict_postcode=True) == Delivery(
        name="Ann Lee", address1="1 High St", city="London", postcode="SW1A 1AA", country="GB"
    )


@pytest.mark.parametrize("strict", [True, False])
def test_other_countries_keep_their_postcode_upper_cased(strict: bool) -> None:
    delivery = read_delivery(
        {**BASE, "country": "ie", "postcode": "d02 x285"}, strict_postcode=strict
    )
    assert (delivery.country, delivery.postcode) == ("IE", "D02 X285")


def test_a_bad_gb_postcode_is_refused_when_strict_and_kept_otherwise() -> None:
    with pytest.raises(InvalidInput, match="postcode '12345' is not a valid UK postcode"):
        read_delivery({**BASE, "postcode": "12345"}, strict_postcode=True)
    assert read_delivery({**BASE, "postcode": "sw1a"}, strict_postcode=False).postcode == "SW1A"


@pytest.mark.parametrize("country", ["France", "G", "12", "ÉÉ", "G B"])
def test_the_country_is_a_two_letter_code(country: str) -> None:
    with pytest.raises(FieldError, match="must be a two-letter ISO code such as GB"):
        read_delivery({**BASE, "country": country}, strict_postcode=False)


@pytest.mark.parametrize(
    ("key", "strict"),
    [("name", False), ("postcode", False), *((key, True) for key in BASE)],
)
def test_a_missing_field_is_named(key: str, strict: bool) -> None:
    with pytest.raises(MissingField, match=f"^{key} is missing$") as caught:
        read_delivery({**BASE, key: "  "}, strict_postcode=strict)
    assert caught.value.key == key


@pytest.mark.parametrize("key", ["address1", "city"])
def test_a_channel_order_missing_its_address_line_or_city_is_kept_to_be_held(key: str) -> None:
    delivery = read_delivery({**BASE, key: "  "}, strict_postcode=False)
    assert getattr(delivery, key) == ""
    assert address_problems(delivery.address1, delivery.city, delivery.postcode, "GB") == [
        f"{key} is missing"
    ]


def test_address_problems_name_every_field() -> None:
    assert address_problems("", "", "XX1", "GB") == [
        "address1 is missing",
        "city is missing",
        "postcode 'XX1' is not a valid UK postcode",
    ]
    assert address_problems("1 High St", "Paris", "75001", "FR") == []
    assert address_problems("1 High St", "London", "SW1A 1AA", "GB") == []


@pytest.mark.parametrize("text", ["a\nb", "a\x1b[2Jb", "a\tb", "a\x85b"])
def test_control_characters_are_refused(text: str) -> None:
    with pytest.raises(FieldError, match=r"^city .* holds a control character$"):
        refuse_control_characters("city", text)
    refuse_control_characters("city", "Château-d'Œx ½")


def test_an_absurdly_long_field_is_refused() -> None:
    with pytest.raises(FieldError, match="address1 is longer than 200 characters"):
        read_delivery({**BASE, "address1": "x" * 201}, strict_postcode=True)


def product(supplier_id: int, sku: str) -> LinkedProduct:
    return LinkedProduct(
        id=hash(sku) % 1000, supplier_id=supplier_id, sku=sku, supplier_product_id=sku, title=sku
    )


def test_lines_are_grouped_per_supplier_in_first_seen_order() -> None:
    lines = [("a", product(2, "A")), ("b", product(1, "B")), ("c", product(2, "C"))]
    assert [[line for line, _ in group] for group in group_by_supplier(lines)] == [
        ["a", "c"],
        ["b"],
    ]
    assert group_by_supplier([]) == []
