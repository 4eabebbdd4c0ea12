"""A pull killed with SIGKILL half-way, then run again, leaves exactly one order per
channel order; two `orders match` processes at once never match an order twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from avasam_cli.core.models import Order, OrderEvent, SourceOrder
from tests.fakes.channel_api import FakeShop, serve, shopify_order
from tests.helpers import set_up_catalogue, write
from tests.support import Cli

HEADER = "order_id,placed_at,name,address1,city,postcode,shipping_method,sku,quantity\n"


def avasam(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "avasam_cli", *args],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        sources = conn.scalar(
            select(func.count()).select_from(SourceOrder).where(SourceOrder.channel_id != 1)
        )
        orders = conn.scalar(select(func.count()).select_from(Order))
    engine.dispose()
    return int(sources or 0), int(orders or 0)


def drop_file(path: Path, first: int, count: int) -> None:
    rows = "".join(
        f"F{n},2026-11-20T08:00:00Z,Ann,1 St,Hull,HU1 1AA,Std,OAK-CHAIR-02,1\n"
        for n in range(first, first + count)
    )
    write(path, HEADER + rows)


def test_a_file_pull_killed_half_way(cli: Cli, db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    set_up_catalogue(cli, tmp_path)
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(folder))
    drop_file(folder / "1.csv", 0, 3000)
    drop_file(folder / "2.csv", 3000, 15000)
    drop_file(folder / "3.csv", 100, 200)  # repeats orders of 1.csv
    proc = avasam("channels", "pull", "drop")
    deadline = time.monotonic() + 120
    while not (folder / "processed" / "1.csv").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    sources, _ = counts(db_url)
    assert sources == 3000  # 1.csv committed; 2.csv's transaction died with the process
    assert (folder / "2.csv").exists()
    for _ in range(2):
        cli.ok("channels", "pull", "drop")
    assert counts(db_url) == (18000, 18000)
    assert sorted(p.name for p in (folder / "processed").iterdir()) == ["1.csv", "2.csv", "3.csv"]


def test_an_api_pull_killed_between_pages_resumes_from_its_cursor(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "shpat_secret_token")
    set_up_catalogue(cli, tmp_path)
    orders = [shopify_order(n, updated=f"2026-11-28T10:{n:02d}:00+00:00") for n in range(1, 6)]
    with serve(FakeShop("shopify", orders, block_on_request=3)) as shop:
        cli.ok(
            "channels",
            "add",
            "shop",
            "--type",
            "shopify",
            "--url",
            shop.url,
            "--allow-loopback-http",
            "--token-env",
            "SHOP_TOKEN",
        )
        proc = avasam("channels", "pull", "shop")
        assert shop.blocked.wait(60), proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        shop.release.set()
        assert counts(db_url) == (4, 4)  # pages 1 and 2 were committed
        cli.ok("channels", "pull", "shop")
        assert shop.bodies[3]["variables"]["query"] == "updated_at:>='2026-11-28T10:04:00+00:00'"
        cli.ok("channels", "pull", "shop")
    assert counts(db_url) == (5, 5)


def test_two_match_runs_at_once(cli: Cli, db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    set_up_catalogue(cli, tmp_path)
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(folder))
    cli.ok("channels", "map-shipping", "drop", "Std", "standard")
    write(
        folder / "a.csv",
        HEADER
        + "".join(
            f"M{n},2026-11-20T08:00:00Z,Ann,1 St,Hull,HU1 1AA,Std,SHOP-{n % 7},1\n"
            for n in range(2000)
        ),
    )
    cli.ok("channels", "pull", "drop")
    for n in range(7):
        cli.ok("products", "link", f"SHOP-{n}", "OAK-CHAIR-02")
    runs = [avasam("orders", "match", "-f", "csv") for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    # The job lock lets one run at a time: the other skips (no rows) or finds nothing left.
    matched = sum(int(out.splitlines()[1].split(",")[0]) for out, _ in outputs if out)
    assert matched == 2000
    assert all(out or err == "Job match is already running; skipped.\n" for out, err in outputs)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        events = conn.scalar(select(func.count()).where(OrderEvent.event == "matched"))
        queued = conn.scalar(select(func.count()).select_from(Order).where(Order.status == "queue"))
    engine.dispose()
    assert (events, queued) == (2000, 2000)
