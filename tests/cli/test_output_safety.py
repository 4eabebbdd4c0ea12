"""What a customer typed cannot run in a spreadsheet or drive the terminal."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.helpers import set_up_catalogue
from tests.support import Cli


def test_formulas_are_text_in_csv_and_escapes_are_shown_in_tables(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path)
    cli.ok(
        "orders",
        "add",
        "--name",
        '=HYPERLINK("http://evil.example","x")',
        "--address1",
        "1 High St",
        "--city",
        "London",
        "--postcode",
        "SW1A 1AA",
        "--item",
        "OAK-CHAIR-02:1",
        "--shipping-service",
        "standard",
        "--reference",
        "@SUM(A1)",
    )
    cli.ok(
        "orders",
        "add",
        "--name",
        "Ann \x1b[2J Lee",
        "--address1",
        "1 High St",
        "--city",
        "London",
        "--postcode",
        "SW1A 1AA",
        "--item",
        "OAK-CHAIR-02:1",
        "--shipping-service",
        "standard",
        "--reference",
        "R2",
    )
    rows = list(csv.DictReader(io.StringIO(cli.ok("orders", "list", "-f", "csv").stdout)))
    by_reference = {row["channel_reference"]: row for row in rows}
    assert by_reference["'@SUM(A1)"]["customer"] == '\'=HYPERLINK("http://evil.example","x")'
    ledger = list(csv.DictReader(io.StringIO(cli.ok("account", "ledger", "-f", "csv").stdout)))
    assert any(row["amount"].startswith("-") for row in ledger)  # negative numbers stay numbers
    table = cli.ok("orders", "list").stdout
    assert "\x1b" not in table
    assert "Ann \\x1b[2J Lee" in table
