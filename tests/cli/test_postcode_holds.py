"""Channel orders whose postcodes are spelled oddly are checked against the supplier's
exclusions as the postcode they mean; one that does not parse is held, never let through."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import json_rows, set_up_catalogue, write
from tests.support import Cli

HEADER = "order_id,placed_at,name,address1,city,postcode,shipping_method,sku,quantity\n"


def test_odd_postcodes_are_held_not_paid(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)  # OAKCO excludes HS, ZE, KW15-17, BT
    folder = tmp_path / "drop"
    folder.mkdir()
    rows = {
        "P1": "HS1-2AB",
        "P2": "HS1 2AB.",
        "P3": "ＢＴ1 1AA",
        "P4": "SW1A-1AA",
        "P5": "NOT A POSTCODE",
    }
    write(
        folder / "orders.csv",
        HEADER
        + "".join(
            f"{ref},2026-11-28T10:00:00Z,Ann Lee,1 High St,Town,{code},Std,OAK-CHAIR-02,1\n"
            for ref, code in rows.items()
        ),
    )
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(folder))
    cli.ok("channels", "map-shipping", "drop", "Std", "standard")
    cli.ok("channels", "pull", "drop")
    cli.ok("orders", "process")
    listed = json_rows(cli.ok("orders", "list", "--all", "-f", "jsonl").stdout)
    state = {row["channel_reference"]: (row["status"], row["payment_status"]) for row in listed}
    assert state == {
        "P1": ("held", "unpaid"),
        "P2": ("held", "unpaid"),
        "P3": ("held", "unpaid"),
        "P4": ("open", "paid"),
        "P5": ("held", "unpaid"),
    }
    reasons = {
        ref: json_rows(cli.ok("orders", "show", ref, "-f", "jsonl").stdout)[0]["hold_reason"]
        for ref in ("P1", "P3", "P5")
    }
    assert reasons == {
        "P1": "excluded_postcode",
        "P3": "excluded_postcode",
        "P5": "invalid_address",
    }


def test_a_channel_address_missing_a_field_is_held_then_fixed_by_edit(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    """Issue 14, item 6: held `invalid_address` naming the field, never rejected or paid;
    `orders edit` releases it and the next `orders process` pays it."""
    set_up_catalogue(cli, tmp_path)
    folder = tmp_path / "drop"
    folder.mkdir()
    rows = {  # reference: (address1, city, postcode)
        "M1": ("1 High St", "", "LS1 1AA"),
        "M2": ("", "Leeds", "LS1 1AA"),
        "M3": ("1 High St", "Leeds", "XX1"),
        "M4": ("", "", "LS1 1AA"),
        "OK": ("1 High St", "Leeds", "LS1 1AA"),
    }
    write(
        folder / "orders.csv",
        HEADER
        + "".join(
            f"{ref},2026-11-28T10:00:00Z,Ann Lee,{a1},{city},{code},Std,OAK-CHAIR-02,1\n"
            for ref, (a1, city, code) in rows.items()
        ),
    )
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(folder))
    cli.ok("channels", "map-shipping", "drop", "Std", "standard")
    pulled = cli.ok("channels", "pull", "drop")
    assert not (folder / "rejected").exists() or not list((folder / "rejected").iterdir())
    assert (folder / "processed" / "orders.csv").exists(), pulled.stderr
    processed = json_rows(cli.ok("orders", "process", "-f", "jsonl").stdout)
    assert {r["reference"]: (r["status"], r["result"]) for r in processed} == {
        "M1": ("held", "held: invalid_address"),
        "M2": ("held", "held: invalid_address"),
        "M3": ("held", "held: invalid_address"),
        "M4": ("held", "held: invalid_address"),
        "OK": ("open", "paid and passed to the supplier"),
    }
    details = {}
    for ref in ("M1", "M2", "M3", "M4"):
        shown = json_rows(cli.ok("orders", "show", ref, "-f", "jsonl").stdout)[0]
        assert (shown["status"], shown["payment_status"]) == ("held", "unpaid")
        assert shown["hold_reason"] == "invalid_address"
        details[ref] = shown["hold_detail"]
        [held] = [e for e in audit(cli, ref) if e["event"] == "held"]
        assert held["details"] == f"reason=invalid_address, detail={shown['hold_detail']}"
    assert details == {
        "M1": "city is missing",
        "M2": "address1 is missing",
        "M3": "postcode 'XX1' is not a valid UK postcode",
        "M4": "address1 is missing; city is missing",
    }
    cli.ok("orders", "process")  # held for the same cause: nothing new in the audit trail
    assert [e["event"] for e in audit(cli, "M1")] == ["created", "held"]

    cli.ok("orders", "edit", "M4", "--address1", "1 High St")  # still no city: held
    shown = json_rows(cli.ok("orders", "show", "M4", "-f", "jsonl").stdout)[0]
    assert (shown["hold_reason"], shown["hold_detail"]) == ("invalid_address", "city is missing")

    fixes = {
        "M1": ["--city", "Leeds"],
        "M2": ["--address1", "2 High St"],
        "M3": ["--postcode", "ls1 1aa"],
        "M4": ["--city", "Leeds"],
    }
    for ref, args in fixes.items():
        run = cli.ok("orders", "edit", ref, *args, "-f", "jsonl")
        assert run.stderr.endswith("; released.\n")
        shown = json_rows(cli.ok("orders", "show", ref, "-f", "jsonl").stdout)[0]
        assert (shown["status"], shown["hold_reason"], shown["hold_detail"]) == (
            "queue",
            None,
            None,
        )
    processed = json_rows(cli.ok("orders", "process", "-f", "jsonl").stdout)
    assert {r["reference"]: (r["status"], r["payment"]) for r in processed} == {
        ref: ("open", "paid") for ref in fixes
    }
    assert [e["event"] for e in audit(cli, "M3")] == [
        "created",
        "held",
        "edited",
        "released",
        "invoiced",
        "payment_taken",
        "passed_to_supplier",
    ]


def test_orders_add_still_refuses_a_missing_address_line_city_or_bad_postcode(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path)
    base = {"--name": "Ann Lee", "--address1": "1 High St", "--city": "Leeds"}
    for missing, message in (
        ("--address1", "Error: the order needs --address1"),
        ("--city", "Error: the order needs --city"),
    ):
        fields = [part for key, value in base.items() if key != missing for part in (key, value)]
        run = cli(
            "orders", "add", *fields, "--postcode", "LS1 1AA", "--item", "OAK-CHAIR-02",
            "--shipping-service", "standard",
        )  # fmt: skip
        assert (run.exit_code, run.stderr.splitlines()) == (1, [message])
    run = cli(
        "orders", "add", *[p for kv in base.items() for p in kv], "--postcode", "XX1",
        "--item", "OAK-CHAIR-02", "--shipping-service", "standard",
    )  # fmt: skip
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: postcode 'XX1' is not a valid UK postcode")
    assert cli.ok("orders", "list", "--all", "--count").stdout == "0\n"


def audit(cli: Cli, order: str) -> list[dict[str, str]]:
    return json_rows(cli.ok("orders", "audit", order, "-f", "jsonl").stdout)
