"""Benchmark whole `avasam orders list` processes on a generated workspace.

    python bench/generate.py bench/data/orders.db --orders 1000000
    python bench/orders_list.py bench/data/orders.db

Each command runs as a fresh process (what a user waits for), several times; the median
is reported beside the floor: the same query in the `sqlite3` shell, and the bare cost of
starting Python and importing SQLAlchemy's ORM.

Superseded by bench/run.py (every figure of issue 12, SQLite and PostgreSQL); kept to
reproduce the 2026-11-29 run recorded in bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

AVASAM = [sys.executable, "-m", "avasam_cli"]
COLUMNS = "id, number, channel_reference, placed_at, name, item_count, total_pence, status"
VISIBLE = "status != 'matching'"
# October 2026 in Europe/London, as UTC: BST until 25 October.
OCTOBER = "placed_at >= '2026-09-30 23:00:00.000000' AND placed_at < '2026-11-01 00:00:00.000000'"

CASES = [
    (
        "filtered list: status + payment + one month, 50 rows",
        0.5,
        [
            "orders",
            "list",
            "--status",
            "dispatched",
            "--payment",
            "paid",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
        ],
        f"SELECT {COLUMNS} FROM orders WHERE status = 'dispatched' AND payment_status = 'paid' "
        f"AND {OCTOBER} ORDER BY placed_at DESC LIMIT 50",
    ),
    (
        "--search by SKU",
        0.5,
        ["orders", "list", "--search", "SKU-00247"],
        f"SELECT {COLUMNS} FROM orders WHERE {VISIBLE} AND id IN (SELECT order_id FROM "
        "order_lines WHERE product_id IN (SELECT id FROM products WHERE sku = 'SKU-00247')) "
        "ORDER BY placed_at DESC LIMIT 50",
    ),
    (
        "--search by title words",
        1.0,
        ["orders", "list", "--search", "oak dining table"],
        f"SELECT {COLUMNS} FROM orders WHERE {VISIBLE} AND EXISTS (SELECT 1 FROM order_lines l "
        "WHERE l.order_id = orders.id AND lower(l.title) LIKE '%oak%' AND lower(l.title) LIKE "
        "'%dining%' AND lower(l.title) LIKE '%table%') ORDER BY placed_at DESC LIMIT 50",
    ),
    (
        "--count (every visible order)",
        0.5,
        ["orders", "list", "--count"],
        f"SELECT count(*) FROM orders WHERE {VISIBLE}",
    ),
    (
        "--count, filtered",
        0.5,
        [
            "orders",
            "list",
            "--count",
            "--status",
            "open",
            "--payment",
            "paid",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
        ],
        f"SELECT count(*) FROM orders WHERE status = 'open' AND payment_status = 'paid' "
        f"AND {OCTOBER}",
    ),
    ("avasam --help", 0.2, ["--help"], None),
]


def timed(command: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def streaming(env: dict[str, str]) -> tuple[float, float, int]:
    """`--all --format jsonl`: time to the first row, total time, peak RSS in KiB."""
    command = ["/usr/bin/time", "-f", "%M", *AVASAM, "orders", "list", "--all", "-f", "jsonl"]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    first = time.perf_counter() - started
    rows = 1 + sum(1 for _ in proc.stdout)
    _, err = proc.communicate()
    total = time.perf_counter() - started
    print(f"  streamed {rows:,} rows", file=sys.stderr)
    return first, total, int(err.decode().strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "AVASAM_DATABASE_URL": f"sqlite:///{args.database.resolve()}"}
    sqlite3 = shutil.which("sqlite3")
    imports = timed([sys.executable, "-c", "import sqlalchemy.orm"], env, args.runs)
    print("| case | target | avasam (median) | floor: sqlite3 shell | result |")
    print("| --- | --- | --- | --- | --- |")
    for name, target, argv, sql in CASES:
        ours = timed([*AVASAM, *argv], env, args.runs)
        floor = "-"
        if sql and sqlite3:
            floor = f"{timed([sqlite3, str(args.database), sql], env, args.runs):.3f} s"
        verdict = "meets" if ours < target else "MISSES"
        print(f"| {name} | < {target} s | {ours:.3f} s | {floor} | {verdict} |")
    print(
        f"\nFloor of any SQLAlchemy command: `python -c 'import sqlalchemy.orm'` = {imports:.3f} s"
    )
    first, total, rss = streaming(env)
    print(
        f"`orders list --all -f jsonl`: first row after {first:.2f} s, all rows in "
        f"{total:.1f} s, peak RSS {rss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
