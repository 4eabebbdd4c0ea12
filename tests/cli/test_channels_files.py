"""File drops: formats, encodings, broken files, idempotence, splitting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import json_rows, set_up_catalogue, write
from tests.support import Cli

HEADER = "order_id,placed_at,name,address1,city,postcode,country,shipping_method,sku,title,quantity,unit_price\n"


def row(
    order: str,
    sku: str = "OAK-CHAIR-02",
    qty: int = 1,
    name: str = "Ann Lee",
    method: str = "Standard",
) -> str:
    return f"{order},2026-11-28T10:00:00+00:00,{name},1 High St,London,SW1A 1AA,GB,{method},{sku},Item,{qty},9.99\n"


@pytest.fixture
def drop(cli: Cli, db_url: str, tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    set_up_catalogue(cli, tmp_path)
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(folder))
    cli.ok("channels", "map-shipping", "drop", "Standard", "standard")
    return folder


def pull(cli: Cli) -> dict:  # type: ignore[type-arg]
    return json_rows(cli.ok("channels", "pull", "drop", "-f", "jsonl").stdout)[0]


def test_csv_json_and_jsonl_with_accents_bom_and_crlf(cli: Cli, drop: Path) -> None:
    (drop / "a.csv").write_bytes(
        ("\ufeff" + HEADER + row("C1", name="Zoë Brontë 🌳") + row("C1", sku="OAK-TABLE-01"))
        .replace("\n", "\r\n")
        .encode()
    )
    order = {
        "order_id": "J1",
        "placed_at": "2026-11-28T09:00:00Z",
        "name": "Siân",
        "address1": "x",
        "city": "Cardiff",
        "postcode": "cf10 1ep",
        "shipping_method": "Standard",
        "lines": [{"sku": "OAK-CHAIR-02", "quantity": 2, "unit_price": "59.99"}],
    }
    write(
        drop / "b.json",
        json.dumps([order, {**order, "order_id": "J2"}], ensure_ascii=False, indent=2),
    )
    write(
        drop / "c.jsonl",
        json.dumps({**order, "order_id": "L1"})
        + "\n\n"
        + json.dumps({**order, "order_id": "L2"})
        + "\n",
    )
    summary = pull(cli)
    assert (summary["new"], summary["matched"], summary["result"]) == (5, 5, "ok")
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["a.csv", "b.json", "c.jsonl"]
    shown = json.loads(cli.ok("orders", "show", "C1", "-f", "json").stdout)
    assert shown["delivery"]["name"] == "Zoë Brontë 🌳"
    assert [(i["sku"], i["quantity"]) for i in shown["items"]] == [
        ("OAK-CHAIR-02", 1),
        ("OAK-TABLE-01", 1),
    ]
    assert (
        json.loads(cli.ok("orders", "show", "J1", "-f", "json").stdout)["delivery"]["postcode"]
        == "CF10 1EP"
    )


def test_broken_files_are_rejected_with_the_line_and_nothing_else_is_lost(
    cli: Cli, drop: Path
) -> None:
    write(drop / "good.csv", HEADER + row("G1"))
    whole = {
        "order_id": "T1",
        "placed_at": "2026-11-28T09:00:00Z",
        "name": "A",
        "address1": "x",
        "city": "y",
        "postcode": "M1 1AE",
        "lines": [{"sku": "OAK-CHAIR-02"}],
    }
    write(drop / "truncated.json", f'[\n  {json.dumps(whole)},\n  {{"order_id": "T2", "na')
    write(drop / "badqty.csv", HEADER + row("B1") + row("B2", qty=0))
    write(drop / "empty.csv", "")
    (drop / "latin1.csv").write_bytes((HEADER + row("X1", name="Zo\xeb")).encode("latin-1"))
    run = cli("channels", "pull", "drop", "-f", "jsonl")
    assert run.exit_code == 1
    assert sorted(run.stderr.splitlines()) == [
        "Error: drop: badqty.csv rejected: line 3: quantity 0 must be 1 or more",
        "Error: drop: latin1.csv rejected: line 2: not UTF-8 text; save the file as UTF-8",
        "Error: drop: truncated.json rejected: line 3: the file ends in the middle of an order (truncated?)",
    ]
    assert json_rows(run.stdout)[0]["new"] == 1
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["empty.csv", "good.csv"]
    assert (drop / "rejected" / "badqty.csv.error").read_text() == (
        "badqty.csv: line 3: quantity 0 must be 1 or more\n"
    )
    assert cli.ok("orders", "list", "--all", "--count").stdout == "1\n"  # B1 was not half-imported


def test_the_same_order_dropped_again_is_one_order(cli: Cli, drop: Path) -> None:
    for attempt in range(3):
        write(drop / f"repeat-{attempt}.csv", HEADER + row("R1") + row("R2"))
        summary = pull(cli)
        assert summary["new"] == (2 if attempt == 0 else 0)
    assert cli.ok("orders", "list", "--count").stdout == "2\n"
    write(drop / "changed.csv", HEADER + row("R1", name="Ann Lee-Smith"))
    assert pull(cli)["updated"] == 1
    shown = json.loads(cli.ok("orders", "show", "R1", "-f", "json").stdout)
    assert shown["delivery"]["name"] == "Ann Lee-Smith"
    audit = json_rows(cli.ok("orders", "audit", "R1", "-f", "jsonl").stdout)
    assert (audit[-1]["event"], audit[-1]["details"]) == ("updated_by_channel", "changed=name")


def test_a_cancelled_row_cancels_the_order(cli: Cli, drop: Path) -> None:
    write(drop / "a.csv", HEADER + row("K1"))
    pull(cli)
    write(
        drop / "b.csv", HEADER.replace("\n", ",status\n") + row("K1").replace("\n", ",cancelled\n")
    )
    assert pull(cli)["updated"] == 1
    assert json.loads(cli.ok("orders", "show", "K1", "-f", "json").stdout)["status"] == "cancelled"


def test_lines_of_two_suppliers_split_into_two_orders(cli: Cli, drop: Path, tmp_path: Path) -> None:
    cli.ok("suppliers", "add", "TEAK", "--name", "Teak")
    cli.ok("suppliers", "shipping", "TEAK", "standard", "--price", "1")
    feed = "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\nT1,TEAK-1,Teak stool,9,10,,20\n"
    cli.ok("products", "import", str(write(tmp_path / "teak.csv", feed)), "--supplier", "TEAK")
    write(drop / "a.csv", HEADER + row("S1") + row("S1", sku="TEAK-1") + row("S1", sku="OAK-1001"))
    summary = pull(cli)
    assert (summary["new"], summary["matched"]) == (1, 2)
    rows = json_rows(
        cli.ok("orders", "list", "--search", "S1", "--sort", "placed", "-f", "jsonl").stdout
    )
    assert sorted((r["supplier"], r["item_count"]) for r in rows) == [("OAKCO", 2), ("TEAK", 1)]
    run = cli("orders", "show", "S1")
    assert run.exit_code == 1 and "matches 2 orders" in run.stderr


def test_an_unmapped_method_holds_until_mapped(cli: Cli, drop: Path) -> None:
    write(drop / "a.csv", HEADER + row("M1", method="Next day"))
    assert pull(cli)["held"] == 1
    order = json.loads(cli.ok("orders", "show", "M1", "-f", "json").stdout)
    assert (order["status"], order["hold_reason"]) == ("held", "shipping_unmapped")
    cli.ok("orders", "process")
    assert json.loads(cli.ok("orders", "show", "M1", "-f", "json").stdout)["status"] == "held"
    cli.ok("channels", "map-shipping", "drop", "Next day", "standard")
    cli.ok("orders", "process")
    order = json.loads(cli.ok("orders", "show", "M1", "-f", "json").stdout)
    assert (order["status"], order["shipping_service"]) == ("open", "standard")


def test_a_missing_folder_is_a_clear_error(cli: Cli, drop: Path) -> None:
    drop.rmdir()
    run = cli("channels", "pull", "drop")
    assert run.exit_code == 1
    assert run.stderr == (
        f"Error: drop: drop folder {drop} does not exist; create it or fix the "
        "channel with `avasam channels add --path`\n"
    )


def test_a_bad_since_is_one_error_before_any_channel_is_pulled(cli: Cli, drop: Path) -> None:
    cli.ok("channels", "add", "drop2", "--type", "file", "--path", str(drop))
    (drop / "a.csv").write_text(HEADER + row("S1"), encoding="utf-8")
    run = cli("channels", "pull", "--all", "--since", "bogus")
    assert run.exit_code == 1
    assert run.stderr.splitlines() == [
        "Error: --since 'bogus' is neither a day nor a span; write it like 2026-11-01, "
        "yesterday, 12h, 7d, 2w or 3mo"
    ]
    assert (drop / "a.csv").exists()  # nothing was pulled
