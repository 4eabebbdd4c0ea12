"""Suppliers, shipping services and the product feed, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.helpers import PRODUCTS_CSV, set_up_catalogue, snapshot, write
from tests.support import Cli


def test_supplier_add_list_show(cli: Cli, db_url: str) -> None:
    added = cli.ok(
        "suppliers",
        "add",
        "OAKCO",
        "--name",
        "Oak & Co",
        "--exclude-postcodes",
        "hs, ze,KW15-17,BT",
    )
    assert added.stderr.strip() == (
        "Added supplier OAKCO (Oak & Co); delivers in the UK only, excluding HS,ZE,KW15-17,BT."
    )
    cli.ok("suppliers", "add", "WORLD", "--name", "World Ltd", "--international")
    rows = list(csv.DictReader(io.StringIO(cli.ok("suppliers", "list", "-f", "csv").stdout)))
    assert [(r["code"], r["international"], r["excluded_postcodes"]) for r in rows] == [
        ("OAKCO", "false", "HS,ZE,KW15-17,BT"),
        ("WORLD", "true", ""),
    ]
    cli.ok("suppliers", "shipping", "OAKCO", "expedited", "--price", "9.50", "--carrier", "DPD")
    shown = json.loads(cli.ok("suppliers", "show", "OAKCO", "--format", "json").stdout)
    assert shown["shipping_services"] == [
        {"service": "expedited", "price": "9.50", "vat_rate": "20", "carrier": "DPD"}
    ]


def test_duplicate_supplier_and_bad_rules_are_refused(cli: Cli, db_url: str) -> None:
    cli.ok("suppliers", "add", "OAKCO", "--name", "Oak & Co")
    before = snapshot(db_url)
    dup = cli("suppliers", "add", "oakco", "--name", "Other")
    assert dup.exit_code == 1
    assert dup.stderr == "Error: supplier oakco already exists; see `avasam suppliers show oakco`\n"
    bad = cli("suppliers", "add", "NEW", "--name", "New", "--exclude-postcodes", "KW17-15")
    assert bad.exit_code == 1
    assert bad.stderr == "Error: excluded postcode range 'KW17-15' runs backwards\n"
    service = cli("suppliers", "shipping", "OAKCO", "overnight", "--price", "1")
    assert service.exit_code == 2  # a usage error: SERVICE is a choice
    assert (
        "Error: Invalid value for 'SERVICE': 'overnight' is not one of 'standard', "
        "'standard_tracked', 'expedited'."
    ) in service.stderr
    price = cli("suppliers", "shipping", "OAKCO", "standard", "--price", "abc")
    assert price.exit_code == 1
    assert price.stderr == "Error: price 'abc' is not a price; write pounds and pence like 12.34\n"
    assert snapshot(db_url) == before


def test_import_then_reimport_updates_stock_and_prices(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path, balance=None)
    updated = PRODUCTS_CSV.replace(
        "OAK-1001,OAK-TABLE-01,Solid Oak Dining Table,5,120.00",
        "OAK-1001,OAK-TABLE-01,Solid Oak Dining Table,9,110.00",
    )
    run = cli.ok(
        "products", "import", str(write(tmp_path / "f2.csv", updated)), "--supplier", "OAKCO"
    )
    assert run.stderr.strip() == "Imported 0 new and updated 1 product(s); 2 unchanged."
    product = json.loads(cli.ok("products", "show", "OAK-TABLE-01", "-f", "json").stdout)
    assert (product["stock"], product["price_ex_vat"], product["rrp_ex_vat"]) == (
        9,
        "110.00",
        "199.99",
    )
    assert product["delivery"] == "UK only"
    assert product["excluded_postcodes"] == "HS,ZE,KW15-17,BT"


def test_product_search(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path, balance=None)
    found = cli.ok("products", "list", "--search", "oak TABLE", "-f", "jsonl").stdout
    assert [json.loads(line)["sku"] for line in found.splitlines()] == ["OAK-TABLE-01"]
    by_id = cli.ok("products", "list", "--search", "oak-1002", "-f", "jsonl").stdout
    assert [json.loads(line)["sku"] for line in by_id.splitlines()] == ["OAK-CHAIR-02"]


def test_a_bad_row_rejects_the_whole_feed(cli: Cli, db_url: str, tmp_path: Path) -> None:
    cli.ok("suppliers", "add", "OAKCO", "--name", "Oak & Co")
    before = snapshot(db_url)
    feed = PRODUCTS_CSV + "OAK-1004,OAK-BENCH,Bench,3,abc,10,20\nOAK-1005,,No sku,1,1.00,,20\n"
    run = cli("products", "import", str(write(tmp_path / "bad.csv", feed)), "--supplier", "OAKCO")
    assert run.exit_code == 1
    assert run.stderr.splitlines() == [
        "  line 5, column PriceExclVAT: 'abc' is not a valid amount",
        "  line 6, column SKU: is empty",
        "Error: 2 bad row(s) in bad.csv; nothing was imported. "
        "Fix them, or use --skip-invalid to import the good rows",
    ]
    assert snapshot(db_url) == before


def test_skip_invalid_imports_the_good_rows(cli: Cli, db_url: str, tmp_path: Path) -> None:
    cli.ok("suppliers", "add", "OAKCO", "--name", "Oak & Co")
    feed = PRODUCTS_CSV + "OAK-1004,OAK-BENCH,Bench,-3,1.00,10,20\n"
    run = cli.ok(
        "products",
        "import",
        str(write(tmp_path / "bad.csv", feed)),
        "--supplier",
        "OAKCO",
        "--skip-invalid",
    )
    assert (
        "skipped line 5, column StockQuantity: '-3' is not a whole number from 0 to 999,999,999"
        in run.stderr
    )
    assert (
        run.stderr.splitlines()[-1]
        == "Imported 3 new and updated 0 product(s); skipped 1 bad row(s)."
    )
    listed = cli.ok("products", "list", "-f", "csv").stdout
    assert [r["sku"] for r in csv.DictReader(io.StringIO(listed))] == [
        "OAK-CHAIR-02",
        "OAK-SHELF-03",
        "OAK-TABLE-01",
    ]


def test_feed_with_missing_column_or_unknown_supplier(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    cli.ok("suppliers", "add", "OAKCO", "--name", "Oak & Co")
    feed = write(tmp_path / "f.csv", "ProductId,SKU\n1,A\n")
    run = cli("products", "import", str(feed), "--supplier", "OAKCO")
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: f.csv has no column to update; a feed needs one of StockQuantity, "
        "PriceExclVAT, RRPExclVAT, VAT%Rate\n"
    )
    unknown = cli(
        "products", "import", str(write(tmp_path / "g.csv", PRODUCTS_CSV)), "--supplier", "NOPE"
    )
    assert unknown.stderr == "Error: no supplier 'NOPE'; see `avasam suppliers list`\n"
    missing = cli("products", "import", str(tmp_path / "missing.csv"), "--supplier", "OAKCO")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_feed_with_bom_and_crlf(cli: Cli, db_url: str, tmp_path: Path) -> None:
    cli.ok("suppliers", "add", "OAKCO", "--name", "Oak & Co")
    path = tmp_path / "bom.csv"
    path.write_bytes(
        ("\ufeff" + PRODUCTS_CSV.replace("Oak Wall Shelf", "Étagère murale ☕"))
        .replace("\n", "\r\n")
        .encode("utf-8")
    )
    cli.ok("products", "import", str(path), "--supplier", "OAKCO")
    shelf = json.loads(cli.ok("products", "show", "OAK-SHELF-03", "-f", "json").stdout)
    assert shelf["title"] == "Étagère murale ☕"
