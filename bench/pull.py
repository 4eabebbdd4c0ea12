"""Benchmark `channels pull` from a file drop and `orders match`, on SQLite.

    python bench/pull.py --orders 100000

Writes a JSON Lines drop of N orders (1-3 lines each), pulls it with a whole `avasam`
process (time and peak RSS), then measures the floor: the same rows (source orders,
orders, lines, audit events) bulk-inserted with the sqlite3 module into an empty copy of
the schema. Then it makes N waiting orders (unknown SKUs), links the SKUs, and times
`orders match` over them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from avasam_cli.core.db import make_engine
from avasam_cli.core.migrate import upgrade

AVASAM = [sys.executable, "-m", "avasam_cli"]
SKUS = [f"SKU-{n:04d}" for n in range(1, 201)]


def write_drop(path: Path, count: int, prefix: str, sku_prefix: str = "") -> None:
    rng = random.Random(3)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            lines = [
                {
                    "sku": sku_prefix + rng.choice(SKUS),
                    "title": "Oak thing",
                    "quantity": rng.choice((1, 1, 2)),
                    "unit_price": "19.99",
                }
                for _ in range(rng.choice((1, 2, 2, 3)))
            ]
            out.write(
                json.dumps(
                    {
                        "order_id": f"{prefix}{n}",
                        "placed_at": "2026-11-28T10:00:00+00:00",
                        "name": "Ann Lee",
                        "address1": f"{n} High Street",
                        "city": "London",
                        "postcode": "SW1A 1AA",
                        "shipping_method": "Standard",
                        "lines": lines,
                    }
                )
                + "\n"
            )


def avasam(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    """Wall time, peak RSS (KiB) and stdout of one avasam process."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *AVASAM, *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, int(done.stderr.strip().splitlines()[-1]), done.stdout


def set_up(workdir: Path, env: dict[str, str]) -> None:
    feed = workdir / "feed.csv"
    feed.write_text(
        "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\n"
        + "".join(f"P{n},{sku},Oak thing {n},100000,10.00,,20\n" for n, sku in enumerate(SKUS))
    )
    for args in (
        ["init"],
        ["suppliers", "add", "OAKCO", "--name", "Oak"],
        ["suppliers", "shipping", "OAKCO", "standard", "--price", "4.99"],
        ["products", "import", str(feed), "--supplier", "OAKCO"],
        ["channels", "add", "drop", "--type", "file", "--path", str(workdir / "drop")],
        ["channels", "map-shipping", "drop", "Standard", "standard"],
    ):
        subprocess.run([*AVASAM, *args], env=env, check=True, capture_output=True)


def floor(db: Path, drop: Path) -> float:
    """The same rows as plain executemany INSERTs into an empty schema, in one transaction."""
    engine = make_engine(f"sqlite:///{db}", create=True)
    upgrade(engine)
    engine.dispose()
    started = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("BEGIN")
    now = "2026-11-28 10:00:00.000000"
    order_id = line_id = 0
    with drop.open(encoding="utf-8") as handle:
        batch: list[dict[str, object]] = []
        for text in handle:
            batch.append(json.loads(text))
            if len(batch) == 1000:
                order_id, line_id = _insert(conn, batch, order_id, line_id, now)
                batch = []
        _insert(conn, batch, order_id, line_id, now)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def _insert(
    conn: sqlite3.Connection, batch: list[dict[str, object]], order_id: int, line_id: int, now: str
) -> tuple[int, int]:
    sources, orders, lines, events = [], [], [], []
    for order in batch:
        order_id += 1
        sources.append((order_id, 2, order["order_id"], order["order_id"], "h", now))
        orders.append(
            (
                order_id,
                order_id,
                2,
                order["order_id"],
                1,
                "queue",
                "unpaid",
                "unshipped",
                now,
                now,
                order["name"],
                order["address1"],
                order["city"],
                order["postcode"],
                "GB",
                "standard",
                "Standard",
                0,
                0,
                0,
                0,
                "GBP",
                0,
                1,
                now,
            )
        )
        for n, line in enumerate(order["lines"], start=1):  # type: ignore[arg-type]
            line_id += 1
            lines.append(
                (
                    line_id,
                    order_id,
                    n,
                    line["sku"],
                    1,
                    line["sku"],
                    "P1",
                    "Oak thing",
                    line["quantity"],
                    1999,
                    0,
                    0,
                    0,
                    0,
                )
            )
        events.append((order_id, now, "bench", "created", None, "queue", "{}"))
    conn.executemany("INSERT INTO source_orders VALUES (?, ?, ?, ?, ?, ?)", sources)
    conn.executemany(
        "INSERT INTO orders (id, source_order_id, channel_id, channel_reference, supplier_id, "
        "status, payment_status, shipping_status, placed_at, downloaded_at, name, address1, "
        "city, postcode, country, shipping_service, channel_shipping_method, items_pence, "
        "shipping_pence, vat_pence, total_pence, currency, note_count, item_count, updated_at) "
        f"VALUES ({', '.join('?' * 25)})",
        orders,
    )
    conn.executemany(
        "INSERT INTO order_lines (id, order_id, line_no, channel_sku, product_id, sku, "
        "supplier_product_id, title, quantity, channel_unit_price_pence, unit_price_pence, "
        f"vat_rate_bp, line_vat_pence, line_total_pence) VALUES ({', '.join('?' * 14)})",
        lines,
    )
    conn.executemany(
        "INSERT INTO order_events (order_id, at, actor, event, from_status, "
        "to_status, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
        events,
    )
    return order_id, line_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="avasam-bench-"))
    try:
        env = {**os.environ, "AVASAM_DATABASE_URL": f"sqlite:///{workdir / 'avasam.db'}"}
        (workdir / "drop").mkdir()
        set_up(workdir, env)
        write_drop(workdir / "drop" / "orders.jsonl", args.orders, "B")
        size = (workdir / "drop" / "orders.jsonl").stat().st_size
        seconds, rss, _ = avasam(env, "channels", "pull", "drop")
        floor_seconds = floor(workdir / "floor.db", workdir / "drop" / "processed" / "orders.jsonl")
        print(
            f"| pull {args.orders:,} orders ({size / 2**20:.0f} MiB JSON Lines) | "
            f"{seconds:.1f} s = {args.orders / seconds:,.0f} orders/s | peak RSS "
            f"{rss / 1024:.0f} MiB | floor, sqlite3 executemany of the same rows: "
            f"{floor_seconds:.1f} s = {args.orders / floor_seconds:,.0f} orders/s |"
        )

        write_drop(workdir / "drop" / "waiting.jsonl", args.orders, "W", sku_prefix="SHOP-")
        avasam(env, "channels", "pull", "drop")
        for sku in SKUS:
            subprocess.run(
                [*AVASAM, "products", "link", f"SHOP-{sku}", sku],
                env=env,
                check=True,
                capture_output=True,
            )
        seconds, rss, out = avasam(env, "orders", "match", "-f", "csv")
        matched = out.splitlines()[1].split(",")[0]
        print(
            f"| orders match over {args.orders:,} waiting orders | {seconds:.1f} s "
            f"({matched} matched) | peak RSS {rss / 1024:.0f} MiB | |"
        )
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
