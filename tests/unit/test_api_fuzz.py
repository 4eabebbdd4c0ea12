"""API order JSON against random hostile values (issue 11, item 24): the Shopify and
WooCommerce adapters read a page into orders, and each order they cannot read becomes a
problem with its reason; no other exception escapes and the good orders still go in."""

from __future__ import annotations

import json
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avasam_cli.core.channels.http import JsonHttp, Response
from avasam_cli.core.channels.shopify import Shopify
from avasam_cli.core.channels.woocommerce import WooCommerce

TZ = ZoneInfo("Europe/London")

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.sampled_from([10**4000, -(10**4000), 2**63, 2**63 - 1, -1, 0, 10_001, 10**17]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            " ",
            "NaN",
            "nan",
            "inf",
            "-Infinity",
            "1e999999999",
            "1_000",
            "99999999999999999999",
            "12.345",
            "²",
            "١٠",
            "\x00",
            "\ud800",
            "\u202e\u0000\ufeff",
            "ＢＴ1 1AA",
            "9999-12-31T23:00-05:00",
            "0001-01-01T00:00:00",
            "2026-11-28T10:00:00Z",
            "2026-11-28T10:00:00",
            "+",
            "x" * 100_000,
            "=HYPERLINK(1)",
            "\x1b[31m",
            "GB",
            "gb",
            "SW1A 1AA",
            "OAK-CHAIR-02",
        ]
    ),
    st.text(max_size=40),
)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for n in range(depth):
        value = [value] if n % 2 else {"k": value}
    return value


HOSTILE = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
) | st.sampled_from([_nested(40), _nested(600), [{}], [[]], {"0": {}}, [1], ["x"]])


def _maybe(keys: list[str], good: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The good record with some of its keys given hostile values, some left out."""
    return st.fixed_dictionaries(
        {},
        optional={key: st.one_of(st.just(good.get(key)), HOSTILE) for key in keys},
    ).map(lambda changed: {**good, **changed})


SHOPIFY_LINE = {
    "sku": "OAK-CHAIR-02",
    "title": "Oak chair",
    "quantity": 2,
    "originalUnitPriceSet": {"shopMoney": {"amount": "9.99", "currencyCode": "GBP"}},
}
SHOPIFY_ADDRESS = {
    "name": "Ann Lee",
    "firstName": "Ann",
    "lastName": "Lee",
    "address1": "1 High St",
    "address2": "",
    "city": "London",
    "province": "",
    "zip": "SW1A 1AA",
    "countryCodeV2": "GB",
    "phone": "0123",
}
SHOPIFY_ORDER = {
    "id": "gid://shopify/Order/1001",
    "legacyResourceId": "1001",
    "name": "#1001",
    "createdAt": "2026-11-28T10:00:00Z",
    "updatedAt": "2026-11-28T10:00:00Z",
    "cancelledAt": None,
    "email": "ann@example.com",
    "phone": None,
    "shippingLine": {"title": "Standard"},
}


def shopify_node(order: dict[str, Any], address: Any, lines: Any) -> dict[str, Any]:
    """One order node of the GraphQL `orders` query."""
    return {**order, "shippingAddress": address, "lineItems": {"nodes": lines}}


def shopify_page(nodes: list[Any]) -> dict[str, Any]:
    """A whole answer to the `orders` query: one page, no more."""
    info = {"hasNextPage": False, "endCursor": None}
    return {"data": {"orders": {"pageInfo": info, "nodes": nodes}}}


WOO_LINE = {"sku": "OAK-CHAIR-02", "name": "Oak chair", "quantity": 2, "price": "9.99"}
WOO_SHIPPING = {
    "first_name": "Ann",
    "last_name": "Lee",
    "address_1": "1 High St",
    "address_2": "",
    "city": "London",
    "state": "",
    "postcode": "SW1A 1AA",
    "country": "GB",
    "phone": "0123",
}
WOO_ORDER = {
    "id": 2001,
    "number": "2001",
    "status": "processing",
    "date_created_gmt": "2026-11-28T10:00:00",
    "date_modified_gmt": "2026-11-28T10:00:00",
    "billing": {"email": "ann@example.com", "phone": "0123"},
    "shipping_lines": [{"method_title": "Standard"}],
}


def _order(
    order: dict[str, Any],
    build: Any,
    address: dict[str, Any],
    line: dict[str, Any],
    extra: list[str],
) -> st.SearchStrategy[Any]:
    record = st.builds(
        build,
        _maybe([*order, *extra], order),
        st.one_of(_maybe(list(address), address), HOSTILE),
        st.one_of(st.lists(_maybe([*line, "product_id", "variant_id"], line), max_size=3), HOSTILE),
    )
    return st.one_of(record, record, HOSTILE)  # mostly orders, sometimes not even an object


SHOPIFY_ITEMS = st.lists(
    _order(SHOPIFY_ORDER, shopify_node, SHOPIFY_ADDRESS, SHOPIFY_LINE, ["variant"]),
    max_size=4,
)
WOO_ITEMS = st.lists(
    _order(
        WOO_ORDER,
        lambda top, where, lines: {**top, "shipping": where, "line_items": lines},
        WOO_SHIPPING,
        WOO_LINE,
        [],
    ),
    max_size=4,
)


def as_json(value: Any) -> Any:
    """What the adapter would get from the wire: the value through a JSON round trip (NaN and
    Infinity included, as Python's decoder reads them); None when JSON cannot hold it."""
    try:
        return json.loads(json.dumps(value))
    except (ValueError, RecursionError):
        return None


class OnePage(JsonHttp):
    def __init__(self, body: Any) -> None:
        super().__init__(timeout=1, backoff=0)
        self.body = body

    def get(self, url: str, headers: dict[str, str]) -> Response:
        return Response(200, Message(), self.body)

    def post_json(
        self, url: str, headers: dict[str, str], body: Any, *, once: bool = False
    ) -> Response:
        return Response(200, Message(), self.body)


def _read(adapter: Shopify | WooCommerce, items: list[Any]) -> None:
    batches = list(adapter.batches(None, None))
    orders = [order for batch in batches for chunk in batch.chunks for order in chunk]
    assert len(orders) + len(adapter.problems) == len(items)  # each read, or refused ...
    for problem in adapter.problems:
        assert problem.split(": ", 1)[1].strip()  # ... with its reason


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(items=SHOPIFY_ITEMS)
def test_shopify_orders(items: list[Any]) -> None:
    page = [as_json(item) for item in items]
    _read(Shopify("https://shop.example", "t", TZ, OnePage(shopify_page(page))), page)


@FUZZ
@given(items=WOO_ITEMS)
def test_woocommerce_orders(items: list[Any]) -> None:
    page = [as_json(item) for item in items]
    _read(WooCommerce("https://shop.example", "k", "s", TZ, OnePage(page)), page)


def test_the_good_orders_are_read() -> None:
    shop = Shopify(
        "https://shop.example",
        "t",
        TZ,
        OnePage(
            shopify_page(
                [
                    shopify_node(SHOPIFY_ORDER, SHOPIFY_ADDRESS, [SHOPIFY_LINE]),
                    shopify_node({**SHOPIFY_ORDER, "legacyResourceId": "7"}, None, []),
                ]
            )
        ),
    )
    [batch] = list(shop.batches(None, None))
    [orders] = list(batch.chunks)
    assert [o.external_id for o in orders] == ["1001"]
    assert shop.problems == ["Shopify order '#1001': has no shipping address"]


@pytest.mark.parametrize("kind", ["shopify", "woocommerce"])
def test_a_shipping_line_of_the_wrong_shape_is_a_problem_not_a_crash(kind: str) -> None:
    adapter: Shopify | WooCommerce
    if kind == "shopify":
        order = shopify_node(SHOPIFY_ORDER, SHOPIFY_ADDRESS, [SHOPIFY_LINE])
        order["shippingLine"] = ["Standard"]
        adapter = Shopify("https://shop.example", "t", TZ, OnePage(shopify_page([order])))
    else:
        order = {**WOO_ORDER, "shipping": WOO_SHIPPING, "line_items": [WOO_LINE]}
        order["shipping_lines"] = {"method_title": "Standard"}
        adapter = WooCommerce("https://shop.example", "k", "s", TZ, OnePage([order]))
    _read(adapter, [order])
    assert len(adapter.problems) == 1
