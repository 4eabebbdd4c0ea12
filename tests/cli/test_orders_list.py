"""`orders list`: every search kind, filter, sort, paging, count and format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.helpers import add_order, add_waiting_order, json_rows, set_up_catalogue
from tests.support import Cli

# Placed at pinned times (AVASAM_NOW). 23:30 UTC on 31 March is 00:30 BST on 1 April.
ORDERS = [
    ("R1", "2026-03-31T23:30:00+00:00", "OAK-TABLE-01", "SW1A 1AA"),
    ("R2", "2026-03-31T12:00:00+00:00", "OAK-CHAIR-02:2", "SW1A 1AA"),
    ("R3", "2026-04-02T09:00:00+00:00", "OAK-CHAIR-02:1", "HS1 2AB"),  # held
    ("R4", "2026-04-10T09:00:00+00:00", "OAK-CHAIR-02:3", "LS1 4AP"),
]


@pytest.fixture
def desk(cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    set_up_catalogue(cli, tmp_path, balance="1000")
    for ref, at, item, postcode in ORDERS:
        monkeypatch.setenv("AVASAM_NOW", at)
        add_order(cli, item=item, postcode=postcode, reference=ref)
    monkeypatch.setenv("AVASAM_NOW", "2026-04-12T10:00:00+01:00")
    cli.ok("orders", "dispatch", "R4", "--tracking", "T4")
    cli.ok("orders", "cancel", "R2", "--reason", "duplicate_order")
    cli.ok("orders", "note", "R1", "ring the bell")
    add_waiting_order(db_url, "W1")
    return cli


def refs(cli: Cli, *args: str) -> list[str]:
    return [
        row["channel_reference"]
        for row in json_rows(cli.ok("orders", "list", *args, "-f", "jsonl").stdout)
    ]


def test_default_list_hides_matching_orders_newest_first(desk: Cli) -> None:
    assert refs(desk) == ["R4", "R3", "R1", "R2"]
    assert refs(desk, "--status", "matching") == ["W1"]


def test_status_payment_shipping_filters(desk: Cli) -> None:
    assert refs(desk, "--status", "open") == ["R1"]
    assert refs(desk, "--status", "open", "--status", "held") == ["R3", "R1"]
    assert refs(desk, "--payment", "refunded") == ["R2"]
    assert refs(desk, "--payment", "paid") == ["R4", "R1"]
    assert refs(desk, "--shipping", "shipped") == ["R4"]
    assert refs(desk, "--payment", "unpaid", "--status", "held") == ["R3"]
    assert refs(desk, "--channel", "manual", "--supplier", "OAKCO", "--status", "dispatched") == [
        "R4"
    ]


def test_days_are_in_the_business_timezone(desk: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert refs(desk, "--date", "2026-04-01") == ["R1"]
    assert refs(desk, "--date", "2026-03-31") == ["R2"]
    assert refs(desk, "--from", "2026-04-01", "--to", "2026-04-02") == ["R3", "R1"]
    assert refs(desk, "--date", "yesterday") == []
    assert refs(desk, "--since", "3d") == ["R4"]
    monkeypatch.setenv("AVASAM_TIMEZONE", "UTC")
    assert refs(desk, "--date", "2026-03-31") == ["R1", "R2"]


def test_search_kinds(desk: Cli) -> None:
    assert refs(desk, "--search", "AV0000001") == ["R1"]
    assert refs(desk, "--search", "av0000001") == ["R1"]
    assert refs(desk, "--search", "R3") == ["R3"]
    assert refs(desk, "--search", "OAK-CHAIR-02") == ["R4", "R3", "R2"]
    assert refs(desk, "--search", "OAK-1001") == ["R1"]
    assert refs(desk, "--search", "oak TABLE") == ["R1"]
    assert refs(desk, "--search", "dining chair") == ["R4", "R3", "R2"]
    assert refs(desk, "--search", "sofa") == []
    assert refs(desk, "--search", "mystery", "--status", "matching") == ["W1"]


def test_sort_paging_and_count(desk: Cli) -> None:
    assert refs(desk, "--sort", "placed") == ["R2", "R1", "R3", "R4"]
    assert refs(desk, "--sort", "-total")[0] == "R1"
    assert refs(desk, "--sort", "number") == ["R1", "R2", "R4", "R3"]  # QUEUE (no number) last
    assert refs(desk, "--limit", "2") == ["R4", "R3"]
    assert refs(desk, "--limit", "2", "--offset", "2") == ["R1", "R2"]
    assert refs(desk, "--all") == ["R4", "R3", "R1", "R2"]
    assert desk.ok("orders", "list", "--count").stdout == "4\n"
    assert desk.ok("orders", "list", "--count", "--status", "matching").stdout == "1\n"
    assert desk.ok("orders", "list", "--count", "--search", "dining chair").stdout == "3\n"


def test_formats(desk: Cli) -> None:
    rows = list(csv.DictReader(io.StringIO(desk.ok("orders", "list", "-f", "csv").stdout)))
    assert [r["number"] for r in rows] == ["AV0000004", "QUEUE", "AV0000001", "AV0000002"]
    assert rows[2]["placed_at"] == "2026-04-01T00:30:00+01:00"
    assert rows[2]["has_notes"] == "true"
    data = json.loads(desk.ok("orders", "list", "-f", "json").stdout)
    assert data[2]["total"] == "149.99" and data[2]["currency"] == "GBP"
    assert set(data[0]) >= {
        "number",
        "channel_reference",
        "placed_at",
        "customer",
        "item_count",
        "total",
        "status",
        "payment_status",
        "shipping_status",
        "has_notes",
    }
    table = desk.ok("orders", "list").stdout.splitlines()
    assert table[0].split() == [
        "number",
        "channel_reference",
        "placed_at",
        "customer",
        "item_count",
        "total",
        "status",
        "payment_status",
        "shipping_status",
        "notes",
    ]
    r1 = next(line for line in table if line.startswith("AV0000001"))
    assert "2026-04-01 00:30" in r1 and r1.rstrip().endswith("*")


def test_bad_filters_are_clear_errors(desk: Cli) -> None:
    for args, message in [
        (
            ["--date", "31/03/2026"],
            "Error: day '31/03/2026' is not a date; write it like 2026-11-28, today or yesterday\n",
        ),
        (
            ["--since", "week"],
            "Error: --since 'week' is neither a day nor a span; write it like 2026-11-01, yesterday, 12h, 7d, 2w or 3mo\n",
        ),
        (["--since", "99999mo"], "Error: --since '99999mo' reaches back more than 30 years\n"),
        (["--from", "2026-04-05", "--to", "2026-04-01"], "Error: --from is after --to\n"),
        (["--supplier", "NOPE"], "Error: no supplier 'NOPE'; see `avasam suppliers list`\n"),
        (
            ["--date", "today", "--since", "2d"],
            "Error: --date cannot be combined with --from, --to or --since\n",
        ),
    ]:
        run = desk("orders", "list", *args)
        assert (run.exit_code, run.stderr) == (1, message)
    usage = desk("orders", "list", "--status", "lost")
    assert usage.exit_code == 2


def test_since_takes_a_day_or_a_span(desk: Cli) -> None:
    # Now is 2026-04-12 10:00 BST; R4 was placed 2026-04-10 10:00 BST.
    assert refs(desk, "--since", "2026-04-10") == ["R4"]
    assert refs(desk, "--since", "2026-04-11") == []
    assert refs(desk, "--since", "48h") == ["R4"]
    assert refs(desk, "--since", "47h") == []
    assert refs(desk, "--since", "1w") == ["R4"]
    assert refs(desk, "--since", "2w") == ["R4", "R3", "R1", "R2"]
    assert refs(desk, "--since", "1mo") == ["R4", "R3", "R1", "R2"]


def test_limit_zero_means_every_order(desk: Cli) -> None:
    assert refs(desk, "--limit", "0") == ["R4", "R3", "R1", "R2"]
    bad = desk("orders", "list", "--limit", "-1")
    assert bad.exit_code == 2


def test_a_list_cut_short_says_so_on_a_terminal(desk: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    piped = desk.ok("orders", "list", "--limit", "2")
    assert piped.stderr == ""  # a pipe or a script gets no hint
    monkeypatch.setattr("avasam_cli.commands.orders.on_terminal", lambda ctx: True)
    cut = desk.ok("orders", "list", "--limit", "2")
    assert cut.stderr == "Showing 2 of 4 orders; --all for every one.\n"
    assert len(cut.stdout.splitlines()) == 4  # header, rule, two orders
    assert desk.ok("orders", "list", "--limit", "4").stderr == ""
    assert desk.ok("orders", "list", "--limit", "2", "--offset", "2").stderr == ""
