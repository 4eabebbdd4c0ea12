"""Two real processes running `orders process` at once never charge an order twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select

from avasam_cli.core.models import LedgerEntry, OrderEvent
from tests.helpers import add_order, set_up_catalogue
from tests.support import Cli


def avasam(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "avasam_cli", *args],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processors_at_once(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path, balance=None)
    orders = 12
    for n in range(orders):
        add_order(cli, item="OAK-CHAIR-02:1", reference=f"R{n}")  # each fails: no balance yet
    cli.ok("account", "topup", "1000")

    runs = [avasam("orders", "process", "-f", "json") for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    processed = [row["id"] for out, _ in outputs for row in json.loads(out or "[]")]
    assert sorted(processed) == list(range(1, orders + 1))  # each order by exactly one

    engine = create_engine(db_url)
    with engine.connect() as conn:
        payments = conn.scalar(select(func.count()).where(LedgerEntry.kind == "payment"))
        taken = conn.scalar(select(func.count()).where(OrderEvent.event == "payment_taken"))
        total = conn.scalar(select(func.sum(LedgerEntry.amount_pence)))
    engine.dispose()
    assert payments == taken == orders
    # each: 35.50 + 4.99 + VAT 7.10 + 1.00 = 48.59
    assert total == 100000 - orders * 4859
    assert json.loads(cli.ok("account", "balance", "-f", "json").stdout)[0]["balance"] == "416.92"
