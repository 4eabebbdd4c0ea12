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
