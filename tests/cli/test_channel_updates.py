"""A channel order pulled again with changes (issue 11, item 5): updated and audited field
by field while it has not gone to the supplier; flagged, never changed, once it has; a CSV
whose rows for one order are apart is rejected, never silently trimmed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_channels_files import HEADER, pull, row
from tests.helpers import json_rows, set_up_catalogue, write
from tests.support import Cli


@pytest.fixture
def drop(cli: Cli, db_url: str, tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    set_up_catalogue(cli, tmp_path)
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(folder))
    cli.ok("channels", "map-shipping", "drop", "Standard", "standard")
    return folder


def show(cli: Cli, ref: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(cli.ok("orders", "show", ref, "-f", "json").stdout)
    return shown


def audit(cli: Cli, ref: str) -> list[dict[str, Any]]:
    return json_rows(cli.ok("orders", "audit", ref, "-f", "jsonl").stdout)


def attention(cli: Cli) -> dict[str, Any]:
    items: dict[str, Any] = json.loads(cli("status", "-f", "json").stdout)["attention"]
    return items


def test_a_changed_quantity_updates_a_queued_order(cli: Cli, drop: Path) -> None:
    write(drop / "a.csv", HEADER + row("U1") + row("U1", sku="OAK-TABLE-01"))
    assert pull(cli)["new"] == 1
    write(drop / "b.csv", HEADER + row("U1", qty=4) + row("U1", sku="OAK-TABLE-01"))
    summary = pull(cli)
    assert (summary["updated"], summary["result"]) == (1, "ok")
    shown = show(cli, "U1")
    assert [(i["sku"], i["quantity"]) for i in shown["items"]] == [
        ("OAK-CHAIR-02", 4),
        ("OAK-TABLE-01", 1),
    ]
    last = audit(cli, "U1")[-1]
    assert last["event"] == "updated_by_channel"
    assert "field=quantity" in last["details"]
    assert "old=1" in last["details"] and "new=4" in last["details"]
    assert attention(cli)["channel_changes_not_applied"] == 0


def test_each_changed_field_is_its_own_audit_event(cli: Cli, drop: Path) -> None:
    write(drop / "a.csv", HEADER + row("U2"))
    pull(cli)
    write(drop / "b.csv", HEADER + row("U2", qty=2, name="Ann Smith"))
    assert pull(cli)["updated"] == 1
    events = [e for e in audit(cli, "U2") if e["event"] == "updated_by_channel"]
    assert len(events) == 2
    assert "field=name" in events[0]["details"] and "new=Ann Smith" in events[0]["details"]
    assert "field=quantity" in events[1]["details"]
    assert show(cli, "U2")["delivery"]["name"] == "Ann Smith"


def test_a_changed_shipping_method_is_applied_and_processing_holds_on_it(
    cli: Cli, drop: Path
) -> None:
    write(drop / "a.csv", HEADER + row("U6"))
    pull(cli)
    write(drop / "b.csv", HEADER + row("U6", method="Next day"))
    assert pull(cli)["updated"] == 1
    details = [e["details"] for e in audit(cli, "U6") if e["event"] == "updated_by_channel"]
    assert details == [
        "field=shipping_method, old=Standard, new=Next day",
        "field=shipping_service, old=standard",
    ]
    cli.ok("orders", "process")
    shown = show(cli, "U6")
    assert (shown["status"], shown["hold_reason"]) == ("held", "shipping_unmapped")


def test_an_order_with_the_supplier_is_flagged_not_changed(cli: Cli, drop: Path) -> None:
    write(drop / "a.csv", HEADER + row("U3"))
    pull(cli)
    cli.ok("orders", "process")
    assert show(cli, "U3")["status"] == "open"
    write(drop / "b.csv", HEADER + row("U3", qty=4))
    run = cli("channels", "pull", "drop", "-f", "jsonl")
    assert json_rows(run.stdout)[0]["updated"] == 1
    number = show(cli, "U3")["number"]
    assert run.stderr == (
        f"Error: drop: order {number}: changed on the channel (line 1 quantity) but not "
        f"updated: the order is open; tell the supplier with `avasam tickets raise {number}`\n"
    )
    assert [i["quantity"] for i in show(cli, "U3")["items"]] == [1]
    last = audit(cli, "U3")[-1]
    assert last["event"] == "channel_change_ignored"
    assert "the order is open" in last["details"]
    assert attention(cli)["channel_changes_not_applied"] == 1
    assert cli("status").exit_code == 1
    cli.ok("tickets", "raise", number, "--message", "quantity is now 4", "--kind", "query")
    assert attention(cli)["channel_changes_not_applied"] == 0


def test_lines_added_and_removed_on_the_channel(cli: Cli, drop: Path) -> None:
    write(drop / "a.csv", HEADER + row("U4") + row("U4", sku="OAK-TABLE-01"))
    pull(cli)
    write(drop / "b.csv", HEADER + row("U4", qty=3) + row("U4", sku="OAK-SHELF-03", qty=2))
    assert pull(cli)["updated"] == 1
    assert [(i["sku"], i["quantity"]) for i in show(cli, "U4")["items"]] == [
        ("OAK-CHAIR-02", 3),
        ("OAK-SHELF-03", 2),
    ]
    details = [e["details"] for e in audit(cli, "U4") if e["event"] == "updated_by_channel"]
    assert len(details) == 3
    assert "field=quantity" in details[0] and "old=1" in details[0] and "new=3" in details[0]
    assert "field=line" in details[1] and "old=OAK-TABLE-01 x 1" in details[1]
    assert "field=line" in details[2] and "new=OAK-SHELF-03 x 2" in details[2]
    assert attention(cli)["channel_changes_not_applied"] == 0


def test_a_line_for_another_supplier_is_flagged_not_half_applied(
    cli: Cli, drop: Path, tmp_path: Path
) -> None:
    cli.ok("suppliers", "add", "TEAK", "--name", "Teak")
    feed = "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\nT1,TEAK-1,Teak stool,9,10,,20\n"
    cli.ok("products", "import", str(write(tmp_path / "teak.csv", feed)), "--supplier", "TEAK")
    write(drop / "a.csv", HEADER + row("U5"))
    pull(cli)
    write(drop / "b.csv", HEADER + row("U5", qty=3) + row("U5", sku="TEAK-1"))
    run = cli("channels", "pull", "drop", "-f", "jsonl")
    assert run.exit_code == 1
    assert (
        "order U5: changed on the channel (line 1 quantity) but not updated: the line TEAK-1"
        in run.stderr
    )
    assert [(i["sku"], i["quantity"]) for i in show(cli, "U5")["items"]] == [("OAK-CHAIR-02", 1)]
    assert audit(cli, "U5")[-1]["event"] == "channel_change_ignored"
    assert attention(cli)["channel_changes_not_applied"] == 1


def test_rows_of_one_order_apart_reject_the_file(cli: Cli, drop: Path) -> None:
    write(drop / "a.csv", HEADER + row("N1") + row("N2") + row("N1", sku="OAK-TABLE-01"))
    run = cli("channels", "pull", "drop", "-f", "jsonl")
    assert run.exit_code == 1
    assert json_rows(run.stdout)[0]["new"] == 0
    reason = (
        "line 4: order N1 continues here, but its rows started on line 2 with other "
        "orders between; put all rows of an order together"
    )
    assert run.stderr == f"Error: drop: a.csv rejected: {reason}\n"
    assert (drop / "rejected" / "a.csv.error").read_text() == f"a.csv: {reason}\n"
    assert cli.ok("orders", "list", "--all", "--count").stdout == "0\n"
