"""SKU links and the matching window, with a controlled clock (AVASAM_NOW)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import json_rows, set_up_catalogue, write
from tests.support import Cli

HEADER = "order_id,placed_at,name,address1,city,postcode,shipping_method,sku,quantity\n"
T0 = "2026-11-20T09:00:00+00:00"


@pytest.fixture
def shop(cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    set_up_catalogue(cli, tmp_path)
    cli.ok("channels", "add", "shop", "--type", "file", "--path", str(folder))
    cli.ok("channels", "map-shipping", "shop", "Std", "standard")
    write(
        folder / "a.csv",
        HEADER
        + "W1,2026-11-20T08:00:00Z,Ann,1 St,Hull,HU1 1AA,Std,SHOP-CHAIR,2\n"
        + "W1,2026-11-20T08:00:00Z,Ann,1 St,Hull,HU1 1AA,Std,OAK-TABLE-01,1\n"
        + "W2,2026-11-20T08:00:00Z,Bo,2 St,Hull,HU1 1AA,Std,OAK-1002,1\n",
    )
    monkeypatch.setenv("AVASAM_NOW", T0)
    cli.ok("channels", "pull", "shop")
    return folder


def status(cli: Cli, ref: str) -> str:
    return str(json.loads(cli.ok("orders", "show", ref, "-f", "json").stdout)["status"])


def match(cli: Cli, *args: str) -> dict:  # type: ignore[type-arg]
    return json_rows(cli.ok("orders", "match", *args, "-f", "jsonl").stdout)[0]


def test_an_unlinked_order_waits_hidden_then_becomes_unmatched_after_four_days(
    cli: Cli, shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert status(cli, "W2") == "queue"  # a supplier product id links too
    assert status(cli, "W1") == "matching"
    assert [
        r["channel_reference"] for r in json_rows(cli.ok("orders", "list", "-f", "jsonl").stdout)
    ] == ["W2"]
    monkeypatch.setenv("AVASAM_NOW", "2026-11-24T08:59:59+00:00")
    assert match(cli) == {"matched": 0, "held": 0, "still_waiting": 1, "now_unmatched": 0}
    monkeypatch.setenv("AVASAM_NOW", "2026-11-24T09:00:00+00:00")
    assert match(cli) == {"matched": 0, "held": 0, "still_waiting": 0, "now_unmatched": 1}
    assert status(cli, "W1") == "unmatched"
    assert "W1" in cli.ok("orders", "list").stdout  # visible now, never dropped
    audit = json_rows(cli.ok("orders", "audit", "W1", "-f", "jsonl").stdout)
    assert (audit[-1]["event"], audit[-1]["details"]) == (
        "match_window_expired",
        "unlinked=SHOP-CHAIR",
    )

    cli.ok("products", "link", "SHOP-CHAIR", "OAK-CHAIR-02", "--channel", "shop")
    assert match(cli)["matched"] == 0  # unmatched orders only with --include-unmatched
    assert match(cli, "--include-unmatched")["matched"] == 1
    order = json.loads(cli.ok("orders", "show", "W1", "-f", "json").stdout)
    assert (order["status"], order["supplier"], order["shipping_service"]) == (
        "queue",
        "OAKCO",
        "standard",
    )
    assert [(i["channel_sku"], i["sku"], i["quantity"]) for i in order["items"]] == [
        ("SHOP-CHAIR", "OAK-CHAIR-02", 2),
        ("OAK-TABLE-01", "OAK-TABLE-01", 1),
    ]
    cli.ok("orders", "process")
    assert status(cli, "W1") == "open"


def test_linking_within_the_window_matches_at_the_next_run(cli: Cli, shop: Path) -> None:
    cli.ok("products", "link", "SHOP-CHAIR", "OAK-CHAIR-02")
    assert match(cli)["matched"] == 1
    assert status(cli, "W1") == "queue"
    links = json_rows(cli.ok("products", "links", "-f", "jsonl").stdout)
    assert links == [
        {
            "channel_sku": "SHOP-CHAIR",
            "channel": "all",
            "sku": "OAK-CHAIR-02",
            "title": "Oak Dining Chair",
            "supplier": "OAKCO",
        }
    ]


def test_link_errors_and_unlink(cli: Cli, shop: Path) -> None:
    bad = cli("products", "link", "SHOP-CHAIR", "NOPE")
    assert bad.stderr == "Error: unknown SKU 'NOPE'; see `avasam products list --search`\n"
    cli.ok("products", "link", "SHOP-CHAIR", "OAK-CHAIR-02")
    clash = cli("products", "link", "SHOP-CHAIR", "OAK-TABLE-01")
    assert clash.stderr == (
        "Error: 'SHOP-CHAIR' is already linked to another product; unlink it "
        "first with `avasam products unlink SHOP-CHAIR`\n"
    )
    cli.ok("products", "unlink", "SHOP-CHAIR")
    assert cli.ok("products", "links", "-f", "json").stdout == "[]\n"
    missing = cli("products", "unlink", "SHOP-CHAIR")
    assert missing.stderr == "Error: 'SHOP-CHAIR' has no link; see `avasam products links`\n"


def test_a_zero_window_from_the_shell(cli: Cli, shop: Path, db_url: str) -> None:
    env = {**os.environ, "AVASAM_MATCH_WINDOW": "0d", "AVASAM_DATABASE_URL": db_url}
    env.pop("AVASAM_NOW")
    done = subprocess.run(
        [sys.executable, "-m", "avasam_cli", "orders", "match", "-f", "csv"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == ["matched,held,still_waiting,now_unmatched", "0,0,0,1"]
    assert status(cli, "W1") == "unmatched"
    bad = subprocess.run(
        [sys.executable, "-m", "avasam_cli", "orders", "match"],
        env={**env, "AVASAM_MATCH_WINDOW": "four days"},
        capture_output=True,
        text=True,
    )
    assert (bad.returncode, bad.stderr) == (
        1,
        "Error: AVASAM_MATCH_WINDOW 'four days' must be like 4d, 12h or 30m\n",
    )


def test_a_supplier_product_id_two_suppliers_share_needs_a_link(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    cli.ok("suppliers", "add", "TEAK", "--name", "Teak")
    cli.ok("suppliers", "shipping", "TEAK", "standard", "--price", "1")
    feed = "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\nOAK-1003,TEAK-1,Teak shelf,9,10,,20\n"
    cli.ok("products", "import", str(write(tmp_path / "teak.csv", feed)), "--supplier", "TEAK")
    write(shop / "b.csv", HEADER + "A1,2026-11-20T08:00:00Z,Cy,3 St,Hull,HU1 1AA,Std,OAK-1003,1\n")
    cli.ok("channels", "pull", "shop")
    assert status(cli, "A1") == "matching"
    cli.ok("products", "link", "OAK-1003", "TEAK-1", "--channel", "shop")
    match(cli)
    assert json.loads(cli.ok("orders", "show", "A1", "-f", "json").stdout)["supplier"] == "TEAK"
