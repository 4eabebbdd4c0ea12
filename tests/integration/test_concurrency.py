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


def test_processing_and_cancelling_at_once_never_deadlock(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    """Both take the order, its products, then the account (ARCHITECTURE.md)."""
    set_up_catalogue(cli, tmp_path, balance="500")
    paid = [f"P{n}" for n in range(10)]
    for ref in paid:
        add_order(cli, item="OAK-CHAIR-02:1", reference=ref)  # paid: 10 x 48.59
    queued = [f"Q{n}" for n in range(10)]
    for ref in queued:
        add_order(cli, item="OAK-CHAIR-02:1", reference=ref)  # 14.10 left: these wait
    cli.ok("account", "topup", "1000")
    runs = [
        avasam("orders", "process"),
        avasam("orders", "cancel", *paid, "--reason", "price_error", "--yes"),
    ]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert not any("deadlock" in err for _, err in outputs)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        total = conn.scalar(select(func.sum(LedgerEntry.amount_pence)))
        refunds = conn.scalar(select(func.count()).where(LedgerEntry.kind == "refund"))
        payments = conn.scalar(select(func.count()).where(LedgerEntry.kind == "payment"))
    engine.dispose()
    assert (refunds, payments) == (10, 20)
    # 500 + 1000 in, 20 payments of 48.59 out, 10 of them refunded
    assert total == 150000 - 10 * 4859
    shown = json.loads(cli.ok("account", "balance", "-f", "json").stdout)[0]["balance"]
    assert shown == "1014.10"
