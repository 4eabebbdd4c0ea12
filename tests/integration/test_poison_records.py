"""The nets behind the bounds of core/incoming.py: a value the database refuses rejects its
file (never a traceback, never SQL parameters in a message), and an unexpected failure of
one channel is reported while the others are still pulled."""

from __future__ import annotations

from pathlib import Path

import pytest

from avasam_cli.core import incoming
from avasam_cli.core.channels.shopify import Shopify
from tests.helpers import json_rows, set_up_catalogue, write
from tests.support import Cli

HEADER = "order_id,placed_at,name,address1,city,postcode,shipping_method,sku,quantity\n"


def test_a_value_the_database_refuses_rejects_the_file(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(incoming.FIELD_LIMITS, "name", 1000)  # as if a check were missing
    folder = tmp_path / "drop"
    folder.mkdir()
    set_up_catalogue(cli, tmp_path)
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(folder))
    long_name = "N" * 300
    write(folder / "a.csv", HEADER + f"A1,2026-11-20T08:00:00Z,{long_name},7 Secret Rd,Hull,HU1 1AA,Std,OAK-CHAIR-02,1\n")  # fmt: skip
    write(folder / "b.csv", HEADER + "B1,2026-11-20T08:00:00Z,Ann,1 St,Hull,HU1 1AA,Std,OAK-CHAIR-02,1\n")  # fmt: skip
    run = cli("channels", "pull", "drop", "-f", "jsonl")
    assert "Traceback" not in run.stderr and "Secret" not in run.stderr
    if db_url.startswith("sqlite"):  # SQLite does not enforce VARCHAR lengths
        assert (run.exit_code, json_rows(run.stdout)[0]["new"]) == (0, 2), run.stderr
        return
    message = "a.csv rejected: the file holds a value that cannot be stored (DataError)"
    assert (run.exit_code, run.stderr) == (1, f"Error: drop: {message}\n")
    assert json_rows(run.stdout)[0]["new"] == 1
    assert (folder / "rejected" / "a.csv.error").read_text() == (
        "a.csv: the file holds a value that cannot be stored (DataError)\n"
    )
    assert (folder / "processed" / "b.csv").exists()


def test_an_unexpected_failure_of_one_channel_never_stops_the_others(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("boom at 7 Secret Rd")

    monkeypatch.setattr(Shopify, "batches", broken)
    monkeypatch.setenv("SHOP_TOKEN", "shpat_x")
    folder = tmp_path / "drop"
    folder.mkdir()
    set_up_catalogue(cli, tmp_path)
    cli.ok("channels", "add", "a-shop", "--type", "shopify", "--url", "https://127.0.0.1:9", "--token-env", "SHOP_TOKEN")  # fmt: skip
    cli.ok("channels", "add", "b-drop", "--type", "file", "--path", str(folder))
    write(folder / "b.csv", HEADER + "B1,2026-11-20T08:00:00Z,Ann,1 St,Hull,HU1 1AA,Std,OAK-CHAIR-02,1\n")  # fmt: skip
    run = cli("channels", "pull", "--all", "-f", "jsonl")
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: a-shop: unexpected failure (RuntimeError); the batch being read was not saved\n"
    )
    rows = {row["channel"]: row for row in json_rows(run.stdout)}
    assert rows["a-shop"]["result"] == "failed"
    assert (rows["b-drop"]["result"], rows["b-drop"]["new"]) == ("ok", 1)
