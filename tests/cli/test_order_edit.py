"""`orders edit` (issue 14, item 5): delivery details corrected until the supplier has the
order, audited field by field, the order re-checked at once with the hold rule processing
uses. Everything is asserted as a user sees it: output, exit code, `orders show/audit`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    add_order,
    add_waiting_order,
    execute,
    json_rows,
    set_up_catalogue,
    snapshot,
    write,
)
from tests.support import Cli


def show(cli: Cli, order: str) -> dict[str, Any]:
    return json_rows(cli.ok("orders", "show", order, "-f", "jsonl").stdout)[0]


def audit(cli: Cli, order: str) -> list[dict[str, Any]]:
    return json_rows(cli.ok("orders", "audit", order, "-f", "jsonl").stdout)


def edits(cli: Cli, order: str) -> list[str]:
    return [row["details"] for row in audit(cli, order) if row["event"] == "edited"]


@pytest.fixture
def shop(cli: Cli, db_url: str, tmp_path: Path) -> str:
    set_up_catalogue(cli, tmp_path)  # OAKCO excludes HS, ZE, KW15-17, BT
    return db_url


def test_a_held_excluded_postcode_order_corrected_is_paid_by_the_next_process(
    cli: Cli, shop: str
) -> None:
    """The issue's done-when scenario."""
    add_order(cli, postcode="HS1 2AB", reference="R1")
    assert show(cli, "R1")["hold_reason"] == "excluded_postcode"

    run = cli("orders", "edit", "R1", "--postcode", "iv1 1aa", "--reason", "typo", "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == "Order R1 edited: postcode 'HS1 2AB' -> 'IV1 1AA'; released.\n"
    printed = json.loads(run.stdout)
    assert (printed["reference"], printed["status"], printed["hold_reason"]) == (
        "R1",
        "queue",
        None,
    )
    order = show(cli, "R1")
    assert order["delivery"]["postcode"] == "IV1 1AA"
    assert (order["status"], order["hold_reason"], order["hold_detail"]) == ("queue", None, None)

    processed = json.loads(cli.ok("orders", "process", "-f", "json").stdout)
    assert [(r["reference"], r["status"], r["payment"]) for r in processed] == [
        ("R1", "open", "paid")
    ]
    order = show(cli, "R1")
    assert (order["status"], order["payment_status"]) == ("open", "paid")
    trail = [(r["event"], r["from_status"], r["to_status"], r["actor"]) for r in audit(cli, "R1")]
    assert trail == [
        ("created", None, "queue", "tester"),
        ("held", "queue", "held", "tester"),
        ("edited", None, None, "tester"),
        ("released", "held", "queue", "tester"),
        ("invoiced", None, None, "tester"),
        ("payment_taken", None, None, "tester"),
        ("passed_to_supplier", "queue", "open", "tester"),
    ]
    assert edits(cli, "R1") == ["field=postcode, old=HS1 2AB, new=IV1 1AA, reason=typo"]


def test_every_field_is_audited_with_its_old_and_new_value(cli: Cli, shop: str) -> None:
    add_order(cli, "--address2", "Flat 2", "--phone", "0123", postcode="ZE1 0AA", reference="R1")
    run = cli(
        "orders", "edit", "R1",
        "--name", "Ann Smith", "--address1", "2 Low St", "--address2", "",
        "--city", "Leeds", "--county", "West Yorkshire", "--postcode", "LS1 1AA",
        "--phone", "", "--email", "ann@example.com", "--shipping-service", "standard",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert run.stderr.startswith("Order R1 edited: name 'Ann Lee' -> 'Ann Smith'; address1 ")
    assert run.stderr.endswith("; released.\n")
    assert edits(cli, "R1") == [
        "field=name, old=Ann Lee, new=Ann Smith",
        "field=address1, old=1 High St, new=2 Low St",
        "field=address2, old=Flat 2, new=",
        "field=city, old=London, new=Leeds",
        "field=county, old=, new=West Yorkshire",
        "field=postcode, old=ZE1 0AA, new=LS1 1AA",
        "field=phone, old=0123, new=",
        "field=email, old=, new=ann@example.com",
    ]  # the shipping service was already standard: not a change
    delivery = show(cli, "R1")["delivery"]
    assert delivery == {
        "name": "Ann Smith",
        "address1": "2 Low St",
        "address2": None,
        "city": "Leeds",
        "county": "West Yorkshire",
        "postcode": "LS1 1AA",
        "country": "GB",
        "phone": None,
        "email": "ann@example.com",
    }


@pytest.mark.parametrize("status", ["matching", "unmatched", "held", "queue"])
def test_each_status_before_the_supplier_can_be_edited(cli: Cli, shop: str, status: str) -> None:
    if status in ("matching", "unmatched"):
        add_waiting_order(shop, "R1")
        if status == "unmatched":
            execute(shop, "UPDATE orders SET status = 'unmatched'")
    elif status == "held":
        add_order(cli, postcode="BT1 1AA", reference="R1")
    else:
        add_order(cli, item="OAK-TABLE-01:4", reference="R1")  # more than the balance
    assert show(cli, "R1")["status"] == status

    run = cli("orders", "edit", "R1", "--phone", "07700 900123", "-f", "jsonl")
    assert run.exit_code == 0, run.stderr
    assert json_rows(run.stdout)[0]["status"] == status  # a phone number changes no hold
    assert show(cli, "R1")["delivery"]["phone"] == "07700 900123"
    assert edits(cli, "R1") == ["field=phone, old=, new=07700 900123"]


@pytest.mark.parametrize("status", ["open", "dispatched", "cancelled"])
def test_an_order_the_supplier_has_is_refused_with_the_ticket_route(
    cli: Cli, shop: str, status: str
) -> None:
    add_order(cli, reference="R1")  # paid and passed to the supplier: AV0000001
    if status == "dispatched":
        cli.ok("orders", "dispatch", "R1", "--tracking", "RM1")
    elif status == "cancelled":
        cli.ok("orders", "cancel", "R1", "--reason", "customer_changed_mind", "--yes")
    assert show(cli, "R1")["status"] == status
    before = snapshot(shop)

    run = cli("orders", "edit", "R1", "--postcode", "LS1 1AA")
    assert run.exit_code == 1
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("Error: order AV0000001 ")
    assert 'avasam tickets raise AV0000001 --kind query --message "..."' in line
    assert snapshot(shop) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--postcode", "XX1"],
            "Error: postcode 'XX1' is not a valid UK postcode; write it like SW1A 1AA",
        ),
        (["--city", "x" * 101], "Error: city is longer than 100 characters"),
        (["--name", "Ann\x1b[2J Lee"], "Error: name 'Ann\\x1b[2J Lee' holds a control character"),
        (["--address1", "1 High St\nLondon"], "Error: address1 '1 High St\\nLondon' holds a control character"),
        (["--city", "  "], "Error: --city cannot be blank: the order needs it"),
        (["--country", "France"], "Error: country 'FRANCE' must be a two-letter ISO code such as GB"),
        (["--reason", "a\x00b"], "Error: reason holds a NUL character"),
        (["--shipping-service", "expedited"], "Error: supplier OAKCO does not offer expedited shipping"),
        ([], "Error: give at least one field to change, e.g. --postcode 'SW1A 1AA'"),
    ],
)  # fmt: skip
def test_invalid_values_are_refused_and_nothing_changes(
    cli: Cli, shop: str, args: list[str], message: str
) -> None:
    add_order(cli, postcode="HS1 2AB", reference="R1")
    before = snapshot(shop)
    # with a valid change beside the bad one: the edit is all or nothing
    run = cli("orders", "edit", "R1", *(["--county", "Kent", *args] if args else []))
    assert run.exit_code == 1
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith(message)
    assert snapshot(shop) == before


def test_an_unknown_shipping_service_is_a_usage_error(cli: Cli, shop: str) -> None:
    add_order(cli, postcode="HS1 2AB", reference="R1")
    before = snapshot(shop)
    run = cli("orders", "edit", "R1", "--shipping-service", "pigeon")
    assert run.exit_code == 2
    assert "'pigeon' is not one of" in run.stderr
    assert snapshot(shop) == before


def test_values_equal_to_the_current_ones_change_nothing(cli: Cli, shop: str) -> None:
    add_order(cli, postcode="HS1 2AB", reference="R1")
    before = snapshot(shop)
    run = cli("orders", "edit", "R1", "--postcode", "hs12ab", "--city", " London ", "--county", "")
    assert run.exit_code == 0
    assert run.stderr == "Order R1: nothing to change (the values given are its own).\n"
    assert (
        json_rows(cli.ok("orders", "edit", "R1", "--city", "London", "-f", "jsonl").stdout)[0][
            "status"
        ]
        == "held"
    )
    assert snapshot(shop) == before


def test_a_queued_order_moved_to_an_excluded_postcode_is_held_at_once(cli: Cli, shop: str) -> None:
    add_order(cli, item="OAK-TABLE-01:4", reference="R1")  # payment fails: stays queued
    run = cli("orders", "edit", "R1", "--postcode", "KW16 3AA", "-f", "jsonl")
    assert run.exit_code == 0, run.stderr
    assert (
        run.stderr
        == "Order R1 edited: postcode 'SW1A 1AA' -> 'KW16 3AA'; held: excluded_postcode.\n"
    )
    assert json_rows(run.stdout)[0]["hold_reason"] == "excluded_postcode"
    trail = [(r["event"], r["from_status"], r["to_status"]) for r in audit(cli, "R1")][-2:]
    assert trail == [("edited", None, None), ("held", "queue", "held")]
    cli.ok("account", "topup", "1000")
    cli.ok("orders", "process")
    assert (show(cli, "R1")["status"], show(cli, "R1")["payment_status"]) == ("held", "unpaid")


def test_a_held_order_stays_held_when_another_rule_still_holds_it(cli: Cli, shop: str) -> None:
    add_order(cli, item="OAK-SHELF-03:1", postcode="HS1 2AB", reference="R1")  # no stock either
    run = cli("orders", "edit", "R1", "--postcode", "LS1 1AA")
    assert run.exit_code == 0, run.stderr
    assert run.stderr.endswith("-> 'LS1 1AA'; held: out_of_stock.\n")
    order = show(cli, "R1")
    assert (order["status"], order["hold_reason"]) == ("held", "out_of_stock")
    trail = [(r["event"], r["from_status"], r["to_status"]) for r in audit(cli, "R1")][-2:]
    assert trail == [("edited", None, None), ("held", "held", "held")]


def test_only_the_country_changed_checks_the_postcode_against_it(cli: Cli, shop: str) -> None:
    add_order(cli, postcode="HS1 2AB", reference="R1")
    run = cli("orders", "edit", "R1", "--country", "fr")
    assert run.exit_code == 0, run.stderr
    order = show(cli, "R1")  # OAKCO does not ship abroad
    assert (order["delivery"]["country"], order["hold_reason"]) == ("FR", "outside_uk")
    run = cli("orders", "edit", "R1", "--country", "GB", "--postcode", "75001")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: postcode '75001' is not a valid UK postcode")


def test_a_later_channel_update_keeps_the_fields_the_seller_corrected(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    header = "order_id,placed_at,name,address1,city,postcode,shipping_method,sku,quantity\n"
    row = "S1,2026-11-28T10:00:00Z,Ann Lee,1 Hihg St,London,NOT A CODE,Std,OAK-CHAIR-02,{q}\n"
    write(drop / "a.csv", header + row.format(q=1))
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(drop))
    cli.ok("channels", "map-shipping", "drop", "Std", "standard")
    cli.ok("channels", "pull", "drop")
    cli.ok("orders", "process")
    assert show(cli, "S1")["hold_reason"] == "invalid_address"
    cli.ok("orders", "edit", "S1", "--address1", "1 High St", "--postcode", "SW1A 1AA")
    # the shop changes the quantity; its address still has the typo it always had
    write(drop / "b.csv", header + row.format(q=2))
    cli.ok("channels", "pull", "drop")
    order = show(cli, "S1")
    assert (order["delivery"]["address1"], order["delivery"]["postcode"]) == (
        "1 High St",
        "SW1A 1AA",
    )
    assert order["items"][0]["quantity"] == 2
    changed = [e for e in audit(cli, "S1") if e["event"] == "updated_by_channel"]
    assert changed and all("quantity" in str(e["details"]) for e in changed)
