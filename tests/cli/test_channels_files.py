"""File drops: formats, encodings, broken files, idempotence, splitting."""

from __future__ import annotations

import json
import os
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
    assert (audit[-1]["event"], audit[-1]["details"]) == (
        "updated_by_channel",
        "field=name, old=Ann Lee, new=Ann Lee-Smith",
    )


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


def _order(**changes: object) -> dict:  # type: ignore[type-arg]
    order = {
        "order_id": "P1",
        "placed_at": "2026-11-28T09:00:00Z",
        "name": "Ann Lee",
        "address1": "1 High St",
        "city": "London",
        "postcode": "SW1A 1AA",
        "shipping_method": "Standard",
        "lines": [{"sku": "OAK-CHAIR-02", "quantity": 1, "unit_price": "9.99"}],
    }
    return {**order, **changes}


def _line(**changes: object) -> list[dict]:  # type: ignore[type-arg]
    return [{"sku": "OAK-CHAIR-02", "quantity": 1, "unit_price": "9.99", **changes}]


DEEP = 200_000
POISON = {
    # CSV
    "nan.csv": (
        HEADER + row("N1").replace(",9.99\n", ",NaN\n"),
        "line 2: unit_price 'NaN' is not a plain decimal number",
    ),
    "qty23.csv": (
        HEADER + row("Q1", qty=12345678901234567890123),
        "line 2: quantity '12345678901234567890123' is more than 10,000",
    ),
    "qty-underscore.csv": (
        HEADER + row("Q2").replace(",1,9.99", ",1_000,9.99"),
        "line 2: quantity '1_000' is not a whole number",
    ),
    "qty-big.csv": (HEADER + row("Q3", qty=10_001), "line 2: quantity '10001' is more than 10,000"),
    "decimals.csv": (
        HEADER + row("D1").replace(",9.99\n", ",9.999\n"),
        "line 2: unit_price '9.999' has more than 2 decimals",
    ),
    "nul.csv": (HEADER + row("Z1", name="Ann\x00Lee"), "line 2: name holds a NUL character"),
    "long-name.csv": (
        HEADER + row("L1", name="A" * 201),
        "line 2: name is longer than 200 characters",
    ),
    "long-sku.csv": (HEADER + row("L2", sku="S" * 65), "line 2: sku is longer than 64 characters"),
    "long-id.csv": (HEADER + row("I" * 129), "line 2: order_id is longer than 128 characters"),
    # JSON and JSON Lines
    "inf.json": (
        '[{"order_id": "F1", "placed_at": "2026-11-28T09:00:00Z", "name": "A", "address1": "x",'
        ' "city": "y", "postcode": "M1 1AE", "lines": [{"sku": "OAK-CHAIR-02", "unit_price": 1e999999999}]}]',
        "line 1: unit_price 'inf' is not a plain decimal number",
    ),
    "future.jsonl": (
        json.dumps(_order(placed_at="9999-12-31T23:00-05:00")) + "\n",
        "line 1: placed_at '9999-12-31T23:00-05:00' must be within the years 2000 to 2100",
    ),
    "past.jsonl": (
        json.dumps(_order(placed_at="1899-01-01T00:00:00Z")) + "\n",
        "line 1: placed_at '1899-01-01T00:00:00Z' must be within the years 2000 to 2100",
    ),
    "surrogate.jsonl": (
        json.dumps(_order(name="Ann \ud800")) + "\n",
        "line 1: name holds a lone surrogate (not valid Unicode)",
    ),
    "price-huge.jsonl": (
        json.dumps(_order(lines=_line(unit_price="10000000.01"))) + "\n",
        "line 1: unit_price '10000000.01' is more than 10,000,000",
    ),
    "object-name.jsonl": (
        json.dumps(_order(name={"first": "Ann"})) + "\n",
        "line 1: name must be text, not dict",
    ),
    "digits.jsonl": (
        '{"order_id": "G1", "lines": [{"sku": "X", "quantity": ' + "9" * 5000 + "}]}\n",
        "line 1: the order holds a number too long to be read",
    ),
    "depth33.jsonl": (
        json.dumps(_order(extra=json.loads("[" * 32 + "]" * 32))) + "\n",
        "line 1: the order is nested deeper than 32 levels",
    ),
    "deep.jsonl": (
        '{"order_id": "H1", "x": ' + "[" * DEEP + "]" * DEEP + "}\n",
        "line 1: the order is nested deeper than 32 levels",
    ),
    "deep.json": (
        "[" + "[" * DEEP + "]" * DEEP + "]",
        "line 1: the order is nested deeper than 32 levels",
    ),
}


def test_a_poison_record_rejects_its_file_and_never_stops_the_others(cli: Cli, drop: Path) -> None:
    write(drop / "good.csv", HEADER + row("G1"))
    for name, (content, _) in POISON.items():
        (drop / name).write_text(content, encoding="utf-8", errors="surrogatepass")
    run = cli("channels", "pull", "drop", "-f", "jsonl")
    assert run.exit_code == 1
    assert "Traceback" not in run.stderr
    assert sorted(run.stderr.splitlines()) == sorted(
        f"Error: drop: {name} rejected: {message}" for name, (_, message) in POISON.items()
    )
    assert json_rows(run.stdout)[0]["new"] == 1
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["good.csv"]
    for name, (_, message) in POISON.items():
        assert (drop / "rejected" / f"{name}.error").read_text() == f"{name}: {message}\n"
    assert cli.ok("orders", "list", "--all", "--count").stdout == "1\n"
    # The next pull has nothing left to choke on.
    assert pull(cli)["result"] == "ok"


def test_links_and_odd_files_in_the_drop_folder_are_never_followed(
    cli: Cli, drop: Path, tmp_path: Path
) -> None:
    secret = write(tmp_path / "secret.csv", HEADER + row("S1", name="Secret Person"))
    victim = write(tmp_path / "victim.txt", "precious\n")
    (drop / "outside.csv").symlink_to(secret)
    (drop / "dangling.json").symlink_to(tmp_path / "nowhere.json")
    (drop / "dir.csv").mkdir()
    os.mkfifo(drop / "pipe.jsonl")
    (drop / "rejected").mkdir()
    (drop / "rejected" / "bad.csv.error").symlink_to(victim)
    (drop / "rejected" / "bad.csv").symlink_to(victim)
    write(drop / "bad.csv", HEADER + row("B1", qty=0))
    write(drop / "evil\x1b[2J\n.csv", HEADER + row("E1", qty=0))
    write(drop / "good.csv", HEADER + row("G1"))
    run = cli("channels", "pull", "drop", "-f", "jsonl")
    assert run.exit_code == 1
    assert sorted(run.stderr.splitlines()) == [
        "Error: drop: bad.csv rejected: line 2: quantity 0 must be 1 or more",
        "Error: drop: dangling.json is a symbolic link; left in place, not read",
        "Error: drop: dir.csv is not a regular file; left in place, not read",
        "Error: drop: evil\\x1b[2J\\n.csv rejected: line 2: quantity 0 must be 1 or more",
        "Error: drop: outside.csv is a symbolic link; left in place, not read",
        "Error: drop: pipe.jsonl is not a regular file; left in place, not read",
    ]
    assert "\x1b" not in run.stderr
    assert json_rows(run.stdout)[0]["new"] == 1  # only good.csv; the link's target unread
    assert victim.read_text() == "precious\n" and secret.read_text().count("Secret") == 1
    for name in ("outside.csv", "dangling.json"):
        assert (drop / name).is_symlink()  # left in place
    rejected = drop / "rejected"
    errors = sorted(p.name for p in rejected.iterdir() if p.name.endswith(".error"))
    assert len(errors) == 3 and "bad.csv.error" in errors  # the planted link, untouched
    assert (rejected / "bad.csv.error").is_symlink() and (rejected / "bad.csv").is_symlink()
    [stamped] = [n for n in errors if n.startswith("bad-")]
    assert (rejected / stamped).read_text() == "bad.csv: line 2: quantity 0 must be 1 or more\n"
    assert not (rejected / stamped).is_symlink()
    assert (rejected / "evil\x1b[2J\n.csv.error").read_text() == (
        "evil\\x1b[2J\\n.csv: line 2: quantity 0 must be 1 or more\n"
    )
    assert cli.ok("orders", "list", "--all", "--count").stdout == "1\n"


@pytest.mark.parametrize("subfolder", ["processed", "rejected"])
def test_a_linked_processed_or_rejected_folder_is_refused(
    cli: Cli, drop: Path, tmp_path: Path, subfolder: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (drop / subfolder).symlink_to(elsewhere, target_is_directory=True)
    write(drop / "good.csv", HEADER + row("G1"))
    write(drop / "bad.csv", HEADER + row("B1", qty=0))
    run = cli("channels", "pull", "drop")
    assert run.exit_code == 1
    assert run.stderr == (
        f"Error: drop: {drop / subfolder} is a symbolic link or not a folder; avasam never "
        "moves files through a link: replace it with a real folder (or remove it)\n"
    )
    assert list(elsewhere.iterdir()) == []
    assert (drop / "good.csv").exists() and (drop / "bad.csv").exists()
    assert cli.ok("orders", "list", "--all", "--count").stdout == "0\n"


def test_a_relative_drop_folder_is_stored_absolute(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "drops").mkdir()
    monkeypatch.chdir(tmp_path)
    cli.ok("channels", "add", "rel", "--type", "file", "--path", "drops")
    shown = json.loads(cli.ok("channels", "show", "rel", "-f", "json").stdout)
    assert str(tmp_path / "drops") in json.dumps(shown)
    monkeypatch.chdir("/")  # cron runs from elsewhere
    assert cli("channels", "pull", "rel").exit_code == 0


def test_a_rejected_file_stays_listed_in_channels_errors(cli: Cli, drop: Path) -> None:
    (drop / "bad.csv").write_text(HEADER + row("B1", qty=0), encoding="utf-8")
    assert cli("channels", "pull", "drop").exit_code == 1
    [kept] = json_rows(cli.ok("channels", "errors", "drop", "-f", "jsonl").stdout)
    assert kept["problem"] == "bad.csv rejected: line 2: quantity 0 must be 1 or more"
