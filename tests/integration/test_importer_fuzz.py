"""Every importer against random hostile files (hypothesis): the outcome is imported or
refused with a reason, never another exception, and a refused file changes nothing."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avasam_cli.core.channels.shopify import Shopify
from avasam_cli.core.channels.woocommerce import WooCommerce
from avasam_cli.core.config import Settings
from avasam_cli.core.errors import AvasamError
from avasam_cli.core.services import catalogue, channels, pull
from avasam_cli.core.services.dispatch import import_dispatches
from avasam_cli.core.services.product_import import import_products
from avasam_cli.core.services.pull import pull_channel
from avasam_cli.core.workspace import Workspace
from tests.helpers import PRODUCTS_CSV, snapshot, write
from tests.unit.test_api_fuzz import (
    SHOPIFY_ADDRESS,
    SHOPIFY_ITEMS,
    SHOPIFY_LINE,
    SHOPIFY_ORDER,
    TZ,
    WOO_ITEMS,
    OnePage,
    as_json,
    shopify_node,
    shopify_page,
)

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e999999999",
            "NaN",
            "inf",
            "1_000",
            "99999999999999999999",
            "12.345",
            "²",
            "١٠",
            "=HYPERLINK(1)",
            "\x00",
            "9999-12-31T23:00-05:00",
            '"',
            "a,b",
            "OAK-CHAIR-02",
            "OAK-1001",
            "SHIPPED",
            "CANCELLED",
            "AV0000001",
            "SW1A 1AA",
            "GB",
        ]
    ),
    st.text(max_size=30),
)
ROWS = st.lists(st.lists(HOSTILE, min_size=1, max_size=9), max_size=6)


def csv_text(header: str, rows: list[list[str]]) -> str:
    quoted = [",".join('"' + cell.replace('"', '""') + '"' for cell in row) for row in rows]
    return header + "\n" + "\n".join(quoted) + "\n"


@contextmanager
def workspace(request: pytest.FixtureRequest) -> Iterator[tuple[Workspace, str, Path]]:
    folder = Path(tempfile.mkdtemp(prefix="avasam-fuzz-"))
    shutil.copy(request.getfixturevalue("sqlite_template"), folder / "fuzz.db")
    url = f"sqlite:///{folder / 'fuzz.db'}"
    ws = Workspace(Settings.resolve(url, {"AVASAM_ACTOR": "fuzz", "AVASAM_DATABASE_URL": url}))
    try:
        catalogue.add_supplier(ws, "OAKCO", "Oak", international=False, exclude_postcodes="")
        import_products(ws, write(folder / "feed.csv", PRODUCTS_CSV), "OAKCO", skip_invalid=False)
        yield ws, url, folder
    finally:
        ws.close()
        shutil.rmtree(folder, ignore_errors=True)


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(rows=ROWS)
def test_product_feeds(rows: list[list[str]], request: pytest.FixtureRequest) -> None:
    with workspace(request) as (ws, url, folder):
        before = snapshot(url)
        feed = write(
            folder / "f.csv",
            csv_text("ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate", rows),
        )
        try:
            import_products(ws, feed, "OAKCO", skip_invalid=False)
        except AvasamError as exc:
            assert str(exc)  # refused with a reason ...
            assert snapshot(url) == before  # ... and nothing imported


@FUZZ
@given(rows=ROWS)
def test_dispatch_files(rows: list[list[str]], request: pytest.FixtureRequest) -> None:
    with workspace(request) as (ws, url, folder):
        before = snapshot(url)
        feed = write(folder / "d.csv", csv_text("OrderNumber,Status,TrackingNumber,Carrier", rows))
        try:
            results = list(import_dispatches(ws, feed))
        except AvasamError as exc:
            assert str(exc)
            assert snapshot(url) == before
        else:
            assert all(r.outcome == "error" and r.detail for r in results)  # no orders exist


@FUZZ
@given(rows=ROWS, kind=st.sampled_from(["csv", "json", "jsonl"]))
def test_file_drops(rows: list[list[str]], kind: str, request: pytest.FixtureRequest) -> None:
    import json

    columns = [
        "order_id",
        "placed_at",
        "name",
        "address1",
        "city",
        "postcode",
        "sku",
        "quantity",
        "unit_price",
    ]
    with workspace(request) as (ws, _url, folder):
        drop = folder / "drop"
        drop.mkdir()
        if kind == "csv":
            write(drop / "x.csv", csv_text(",".join(columns), rows))
        else:
            orders = [
                {
                    **dict(zip(columns, row, strict=False)),
                    "lines": [dict(zip(["sku", "quantity", "unit_price"], row[6:], strict=False))],
                }
                for row in rows
            ]
            text = (
                json.dumps(orders) if kind == "json" else "\n".join(json.dumps(o) for o in orders)
            )
            write(drop / f"x.{kind}", text)
        channels.add_channel(ws, "drop", "file", {"path": str(drop)})
        summary = pull_channel(ws, "drop", None)
        read = (drop / "processed" / f"x.{kind}").exists()
        rejected = (drop / "rejected" / f"x.{kind}").exists()
        assert read != rejected  # the file went one way or the other
        if rejected:
            assert summary.problems and (drop / "rejected" / f"x.{kind}.error").read_text()


@FUZZ
@given(
    kind=st.sampled_from(["shopify", "woocommerce"]),
    shopify_items=SHOPIFY_ITEMS,
    woo_items=WOO_ITEMS,
)
def test_api_orders(
    kind: str,
    shopify_items: list[object],
    woo_items: list[object],
    request: pytest.FixtureRequest,
) -> None:
    """A page of hostile API orders through a whole pull: each order goes in or is a problem
    with its reason; the page is never lost to one bad order."""
    adapter: Shopify | WooCommerce
    if kind == "shopify":
        page = [as_json(item) for item in shopify_items]
        adapter = Shopify("https://shop.example", "t", TZ, OnePage(shopify_page(page)))
    else:
        page = [as_json(item) for item in woo_items]
        adapter = WooCommerce("https://shop.example", "k", "s", TZ, OnePage(page))
    with workspace(request) as (ws, _url, folder):
        (folder / "drop").mkdir()
        channels.add_channel(ws, "api", "file", {"path": str(folder / "drop")})
        with mock.patch.object(pull, "adapter_for", return_value=adapter):
            summary = pull_channel(ws, "api", None)
        assert summary.error is None, summary.error
        assert summary.seen + len(adapter.problems) == len(page)
        assert all(problem.split(": ", 1)[1].strip() for problem in summary.problems)


def test_one_bad_api_order_does_not_lose_its_page(request: pytest.FixtureRequest) -> None:
    good = shopify_node(SHOPIFY_ORDER, SHOPIFY_ADDRESS, [SHOPIFY_LINE])
    bad = {**good, "legacyResourceId": "1002", "name": "#1002", "shippingLine": ["Standard"]}
    adapter = Shopify("https://shop.example", "t", TZ, OnePage(shopify_page([good, bad])))
    with workspace(request) as (ws, _url, folder):
        (folder / "drop").mkdir()
        channels.add_channel(ws, "api", "file", {"path": str(folder / "drop")})
        with mock.patch.object(pull, "adapter_for", return_value=adapter):
            summary = pull_channel(ws, "api", None)
        assert summary.error is None, summary.error
        assert (summary.new, len(summary.problems)) == (1, 1)
