from __future__ import annotations

import json

from tests.helpers import snapshot
from tests.support import Cli


def test_topup_balance_ledger(cli: Cli, db_url: str) -> None:
    run = cli.ok("account", "topup", "100", "--reference", "bank")
    assert run.stderr == "Topped up 100.00 GBP; balance 100.00 GBP.\n"
    cli.ok("account", "topup", "0.05")
    assert json.loads(cli.ok("account", "balance", "-f", "json").stdout) == [
        {"balance": "100.05", "currency": "GBP"}
    ]
    ledger = [json.loads(x) for x in cli.ok("account", "ledger", "-f", "jsonl").stdout.splitlines()]
    assert [(e["kind"], e["amount"], e["balance_after"], e["reference"]) for e in ledger] == [
        ("topup", "100.00", "100.00", "bank"),
        ("topup", "0.05", "100.05", None),
    ]


def test_bad_topups_change_nothing(cli: Cli, db_url: str) -> None:
    before = snapshot(db_url)
    for amount, message in [
        ("0", "Error: a top-up must be more than 0.00\n"),
        ("ten", "Error: amount 'ten' is not a price; write pounds and pence like 12.34\n"),
        ("1.001", "Error: amount '1.001' is not a price; write pounds and pence like 12.34\n"),
    ]:
        run = cli("account", "topup", amount)
        assert (run.exit_code, run.stderr) == (1, message)
    assert snapshot(db_url) == before
