"""Benchmark the intake jobs: `channels pull` from a file drop, `orders match`,
`orders process`, and the three of them with nothing to do on a big workspace.

    python bench/pull.py --orders 100000 --runs 5                 # SQLite
    python bench/pull.py --orders 100000 --runs 5 --postgres      # a throwaway PostgreSQL
    python bench/pull.py --cases idle --idle-db /tmp/bench1m/orders.db \\
        --idle-pg postgresql+psycopg://postgres@127.0.0.1:5432/bench

Every figure is the median of --runs whole `avasam` processes, beside its floor measured
in the same run:
- pull: a JSON Lines drop of N orders (1-3 lines each); the floor is the same rows (source
  orders, orders, lines, audit events) inserted into an empty copy of the schema in one
  transaction by the bare driver (sqlite3 `executemany`; psycopg `COPY`).
- match: N orders waiting in `matching` (unknown SKUs), then the SKUs linked.
- process: --process-orders queued orders paid from the balance.
- idle: a workspace built by `bench/generate.py --settled` (nothing waits for a job):
  `channels pull` of an empty drop folder, `orders match`, `orders process`; the floor is
  a bare Python process asking the database the same "anything to do?" question.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from avasam_cli.core.db import make_engine
from avasam_cli.core.migrate import upgrade
from avasam_cli.core.textfold import fold_text

AVASAM = [sys.executable, "-m", "avasam_cli"]
SKUS = [f"SKU-{n:04d}" for n in range(1, 201)]
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
Row = list[str]


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
        check=False,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"avasam {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, int(done.stderr.strip().splitlines()[-1]), done.stdout


def set_up(workdir: Path, env: dict[str, str]) -> None:
    feed = workdir / "feed.csv"
    feed.write_text(
        "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\n"
        + "".join(f"P{n},{sku},Oak thing {n},100000000,10.00,,20\n" for n, sku in enumerate(SKUS))
    )
    for args in (
        ["init"],
        ["suppliers", "add", "OAKCO", "--name", "Oak"],
        ["suppliers", "shipping", "OAKCO", "standard", "--price", "4.99"],
        ["products", "import", str(feed), "--supplier", "OAKCO"],
        ["channels", "add", "drop", "--type", "file", "--path", str(workdir / "drop")],
        ["channels", "map-shipping", "drop", "Standard", "standard"],
        ["account", "topup", "10000000"],  # 10^9 pence: within PostgreSQL's integer
    ):
        subprocess.run([*AVASAM, *args], env=env, check=True, capture_output=True)


# --- floors: the same rows through the bare driver -------------------------------------


def floor_rows(drop: Path) -> Iterator[tuple[list[Any], list[Any], list[Any], list[Any]]]:
    """(sources, orders, lines, events) per 1,000 orders of the drop, as tuples."""
    now = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    order_id = line_id = 0
    batch: list[dict[str, Any]] = []
    with drop.open(encoding="utf-8") as handle:
        for text_line in handle:
            batch.append(json.loads(text_line))
            if len(batch) == 1000:
                yield _floor_batch(batch, order_id, line_id, now)
                order_id += len(batch)
                line_id += sum(len(order["lines"]) for order in batch)
                batch = []
    if batch:
        yield _floor_batch(batch, order_id, line_id, now)


def _floor_batch(
    batch: list[dict[str, Any]], order_id: int, line_id: int, now: str
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    sources, orders, lines, events = [], [], [], []
    for order in batch:
        order_id += 1
        sources.append((order_id, 1, order["order_id"], order["order_id"], "h", now))
        orders.append(
            (order_id, order_id, 1, order["order_id"], 1, "queue", "unpaid", "unshipped",
             now, now, order["name"], order["address1"], order["city"], order["postcode"],
             "GB", "standard", "Standard", 0, 0, 0, 0, "GBP", 0, 1, now)
        )  # fmt: skip
        for n, line in enumerate(order["lines"], start=1):
            line_id += 1
            lines.append(
                (line_id, order_id, n, line["sku"], 1, line["sku"], "P1", "Oak thing",
                 fold_text("Oak thing"), line["quantity"], 1999, 0, 0, 0, 0)
            )  # fmt: skip
        events.append((order_id, now, "bench", "created", None, "queue", "{}"))
    return sources, orders, lines, events


ORDER_SQL = (
    "orders (id, source_order_id, channel_id, channel_reference, supplier_id, status, "
    "payment_status, shipping_status, placed_at, downloaded_at, name, address1, city, "
    "postcode, country, shipping_service, channel_shipping_method, items_pence, "
    "shipping_pence, vat_pence, total_pence, currency, note_count, item_count, updated_at)"
)
LINE_SQL = (
    "order_lines (id, order_id, line_no, channel_sku, product_id, sku, supplier_product_id, "
    "title, search_title, quantity, channel_unit_price_pence, unit_price_pence, vat_rate_bp, "
    "line_vat_pence, line_total_pence)"
)
SOURCE_SQL = "source_orders (id, channel_id, external_id, reference, content_hash, downloaded_at)"
EVENT_SQL = "order_events (order_id, at, actor, event, from_status, to_status, details)"


def _floor_parents(url: str) -> None:
    """A channel, supplier and product for the floor's rows to point at."""
    engine = make_engine(url, create=True)
    upgrade(engine)
    with engine.begin() as conn:
        if conn.execute(text("SELECT count(*) FROM channels WHERE id = 1")).scalar() == 0:
            conn.execute(
                text(
                    "INSERT INTO channels (id, name, type, enabled, config, created_at) "
                    "VALUES (1, 'drop', 'file', true, '{}', :now)"
                ),
                {"now": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO suppliers (id, code, name, international, excluded_postcodes, "
                "created_at) VALUES (1, 'OAKCO', 'Oak', false, '', :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO products (id, supplier_id, supplier_product_id, sku, title, stock,"
                " price_pence, rrp_pence, vat_rate_bp, updated_at) "
                "VALUES (1, 1, 'P1', 'SKU-0001', 'Oak thing', 1, 1000, NULL, 2000, :now)"
            ),
            {"now": NOW},
        )
    engine.dispose()


def sqlite_floor(db: Path, drop: Path) -> float:
    _floor_parents(f"sqlite:///{db}")
    started = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("BEGIN IMMEDIATE")
    for sources, orders, lines, events in floor_rows(drop):
        conn.executemany(f"INSERT INTO {SOURCE_SQL} VALUES ({', '.join('?' * 6)})", sources)
        conn.executemany(f"INSERT INTO {ORDER_SQL} VALUES ({', '.join('?' * 25)})", orders)
        conn.executemany(f"INSERT INTO {LINE_SQL} VALUES ({', '.join('?' * 15)})", lines)
        conn.executemany(f"INSERT INTO {EVENT_SQL} VALUES ({', '.join('?' * 7)})", events)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def postgres_floor(url: str, drop: Path) -> float:
    import psycopg

    _floor_parents(url)
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        with conn.cursor() as cursor:
            for sources, orders, lines, events in floor_rows(drop):
                for sql, rows in (
                    (SOURCE_SQL, sources),
                    (ORDER_SQL, orders),
                    (LINE_SQL, lines),
                    (EVENT_SQL, events),
                ):
                    with cursor.copy(f"COPY {sql} FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        conn.commit()
    return time.perf_counter() - started


# --- the cases ---------------------------------------------------------------------------


class Bench:
    def __init__(
        self,
        workdir: Path,
        url: str,
        floor_url: Callable[[int], str],
        clone: Callable[[str], str],
    ) -> None:
        self.workdir, self.url, self.floor_url, self.clone = workdir, url, floor_url, clone
        workdir.mkdir()
        self.env = {**os.environ, "AVASAM_DATABASE_URL": url}
        self.drop = workdir / "drop"
        self.drop.mkdir()
        set_up(workdir, self.env)
        self.rows: list[Row] = []

    def pull(self, orders: int, runs: int) -> None:
        seconds, rss, floors = [], [], []
        for run in range(runs):
            name = f"orders{run}.jsonl"
            write_drop(self.drop / name, orders, f"B{run}-")
            took, peak, _ = avasam(self.env, "channels", "pull", "drop")
            seconds.append(took)
            rss.append(peak)
            url = self.floor_url(run)
            processed = self.drop / "processed" / name
            if url.startswith("sqlite"):
                floors.append(sqlite_floor(Path(url.removeprefix("sqlite:///")), processed))
            else:
                floors.append(postgres_floor(url, processed))
        size = (self.drop / "processed" / "orders0.jsonl").stat().st_size
        took, floor = statistics.median(seconds), statistics.median(floors)
        self.rows.append(
            [
                f"pull {orders:,} orders ({size / 2**20:.0f} MiB JSON Lines)",
                f"{took:.2f} s = {orders / took:,.0f} orders/s",
                f"{max(rss) / 1024:.0f} MiB",
                f"{floor:.2f} s = {orders / floor:,.0f} orders/s",
            ]
        )

    def match(self, orders: int, runs: int) -> None:
        seconds, rss, floors = [], [], []
        for run in range(runs):
            prefix = f"SHOP{run}-"
            write_drop(self.drop / f"waiting{run}.jsonl", orders, f"W{run}-", sku_prefix=prefix)
            avasam(self.env, "channels", "pull", "drop")
            self._link(prefix)
            floors.append(self._match_floor(prefix))
            took, peak, out = avasam(self.env, "orders", "match", "-f", "csv")
            matched = int(out.splitlines()[1].split(",")[0])
            if matched != orders:
                raise SystemExit(f"orders match matched {matched}, not {orders}")
            seconds.append(took)
            rss.append(peak)
        self.rows.append(
            [
                f"orders match over {orders:,} waiting orders",
                f"{statistics.median(seconds):.2f} s",
                f"{max(rss) / 1024:.0f} MiB",
                f"the same UPDATEs and events in bare SQL: {statistics.median(floors):.2f} s",
            ]
        )

    def process(self, orders: int, runs: int) -> None:
        seconds, rss = [], []
        for run in range(runs):
            write_drop(self.drop / f"queued{run}.jsonl", orders, f"Q{run}-")
            avasam(self.env, "channels", "pull", "drop")
            took, peak, out = avasam(self.env, "orders", "process", "-f", "csv")
            paid = sum(",paid," in line for line in out.splitlines())
            if paid != orders:
                raise SystemExit(f"orders process paid {paid}, not {orders}")
            seconds.append(took)
            rss.append(peak)
        took = statistics.median(seconds)
        self.rows.append(
            [
                f"orders process of {orders:,} queued orders",
                f"{took:.2f} s = {orders / took:,.0f} orders/s",
                f"{max(rss) / 1024:.0f} MiB",
                "-",
            ]
        )

    def _match_floor(self, prefix: str) -> float:
        """On a copy of the workspace: the lines linked by one UPDATE per SKU, the orders
        moved to queue by one UPDATE, one event each, in one transaction of bare SQL."""
        copy = self.clone(self.url)
        sqlite = copy.startswith("sqlite")
        mark = "?" if sqlite else "%s"
        engine = create_engine(copy)
        with engine.connect() as reader:
            products = reader.execute(
                text("SELECT id, sku, supplier_product_id, title, supplier_id FROM products")
            ).all()
        engine.dispose()
        conn: Any
        now = NOW.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else NOW
        if sqlite:
            conn = sqlite3.connect(copy.removeprefix("sqlite:///"), isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-65536")
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            cursor: Any = conn
        else:
            import psycopg

            conn = psycopg.connect(copy.replace("postgresql+psycopg", "postgresql"))
            started = time.perf_counter()
            cursor = conn.cursor()
        cursor.execute(
            "INSERT INTO order_events (order_id, at, actor, event, from_status, to_status, "
            f"details) SELECT id, {mark}, 'bench', 'matched', 'matching', 'queue', "
            "'{\"lines\": 2}' FROM orders WHERE status = 'matching'",
            (now,),
        )
        for pid, sku, supplier_product_id, title, _ in products:
            cursor.execute(
                f"UPDATE order_lines SET product_id = {mark}, sku = {mark}, "
                f"supplier_product_id = {mark}, title = {mark}, search_title = {mark} "
                f"WHERE channel_sku = {mark}",
                (pid, sku, supplier_product_id, title, fold_text(title), prefix + sku),
            )
        cursor.execute(
            f"UPDATE orders SET status = 'queue', supplier_id = {mark}, "
            f"shipping_service = 'standard', updated_at = {mark} WHERE status = 'matching'",
            (products[0][4], now),
        )
        conn.commit() if not sqlite else conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.close()
        return seconds

    def _link(self, prefix: str) -> None:
        engine = create_engine(self.url)
        with engine.begin() as conn:
            ids: dict[str, int] = {
                sku: pid for sku, pid in conn.execute(text("SELECT sku, id FROM products"))
            }
            conn.execute(
                text(
                    "INSERT INTO sku_links (channel_id, channel_sku, product_id, created_at) "
                    "VALUES (NULL, :channel_sku, :product_id, :now)"
                ),
                [{"channel_sku": prefix + sku, "product_id": ids[sku], "now": NOW} for sku in SKUS],
            )
        engine.dispose()


IDLE_QUESTIONS = {
    "pull": "SELECT name, type, config FROM channels WHERE removed_at IS NULL AND enabled",
    "match": "SELECT id FROM orders WHERE status IN ('matching')",
    "process": (
        "SELECT id FROM orders WHERE status IN ('queue', 'held') AND payment_status = 'unpaid'"
    ),
}


def idle(url: str, runs: int, label: str) -> list[Row]:
    """The three jobs with nothing to do, on a workspace of `bench/generate.py --settled`."""
    env = {**os.environ, "AVASAM_DATABASE_URL": url}
    rows = []
    drop = _bench_drop(url)
    for job, args in (
        ("pull", ["channels", "pull", "--all"]),
        ("match", ["orders", "match"]),
        ("process", ["orders", "process"]),
    ):
        if job == "pull" and drop is not None:
            drop.mkdir(parents=True, exist_ok=True)
            for entry in drop.iterdir():
                if entry.is_file():
                    raise SystemExit(f"the drop folder {drop} is not empty")
        seconds = [avasam(env, *args)[0] for _ in range(runs)]
        floors = [_bare_question(url, IDLE_QUESTIONS[job]) for _ in range(runs)]
        rows.append(
            [
                f"idle `{' '.join(args)}` ({label}, 1M orders)",
                f"{statistics.median(seconds):.3f} s",
                "-",
                f"bare python + driver query: {statistics.median(floors):.3f} s",
            ]
        )
    imports = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import avasam_cli.core.models"], check=True)
        imports.append(time.perf_counter() - started)
    rows.append(
        [
            "(floor of any ORM command: python -c 'import avasam_cli.core.models')",
            f"{statistics.median(imports):.3f} s",
            "-",
            "-",
        ]
    )
    return rows


def _bench_drop(url: str) -> Path | None:
    engine = create_engine(url)
    with engine.connect() as conn:
        configs = conn.execute(text("SELECT config FROM channels WHERE type = 'file'")).scalars()
        folders = [json.loads(config).get("path") for config in configs]
    engine.dispose()
    return Path(folders[0]) if folders and folders[0] else None


def _bare_question(url: str, sql: str) -> float:
    if url.startswith("sqlite"):
        code = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute(sys.argv[2]).fetchall()"
        )
        target = url.removeprefix("sqlite:///")
    else:
        code = (
            "import psycopg, sys; c = psycopg.connect(sys.argv[1]); "
            "c.execute(sys.argv[2]).fetchall()"
        )
        target = url.replace("postgresql+psycopg", "postgresql")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, target, sql], check=True)
    return time.perf_counter() - started


@contextmanager
def postgres() -> Iterator[Callable[[str | None], str]]:
    """A throwaway PostgreSQL server (the test suite's); yields a new-database maker (a copy
    of the database named, or an empty one)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support import new_pg_database, start_postgres

    with start_postgres() as server:
        yield lambda template: new_pg_database(server, template)


def sqlite_clone(url: str) -> str:
    source = Path(url.removeprefix("sqlite:///"))
    target = source.with_name("clone.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(source) as conn:
        conn.execute(f"VACUUM INTO '{target}'")
    return f"sqlite:///{target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--process-orders", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    parser.add_argument("--cases", default="pull,match,process", help="pull,match,process,idle")
    parser.add_argument("--idle-db", help="a SQLite file from bench/generate.py --settled")
    parser.add_argument("--idle-pg", help="a PostgreSQL URL from bench/generate.py --settled")
    args = parser.parse_args()
    cases = set(args.cases.split(","))
    rows: list[Row] = []
    workdir = Path(tempfile.mkdtemp(prefix="avasam-bench-"))
    try:
        with ExitStack() as stack:
            benches: list[Bench] = []
            new_db = stack.enter_context(postgres()) if args.postgres else None

            def bench(name: str) -> Bench:
                """A new workspace: the process case must not pay for what the others left
                queued."""
                if new_db is not None:
                    make = new_db
                    made = Bench(
                        workdir / name,
                        make(None),
                        lambda _run: make(None),
                        lambda url: make(url.rsplit("/", 1)[1]),
                    )
                else:
                    made = Bench(
                        workdir / name,
                        f"sqlite:///{workdir / name / 'avasam.db'}",
                        lambda run: f"sqlite:///{workdir / name / f'floor{run}.db'}",
                        sqlite_clone,
                    )
                benches.append(made)
                return made

            if cases & {"pull", "match"}:
                first = bench("intake")
                if "pull" in cases:
                    first.pull(args.orders, args.runs)
                if "match" in cases:
                    first.match(args.orders, args.runs)
            if "process" in cases:
                bench("process").process(args.process_orders, args.runs)
            rows += [row for made in benches for row in made.rows]
            if "idle" in cases:
                if args.idle_db:
                    rows += idle(f"sqlite:///{args.idle_db}", args.runs, "SQLite")
                if args.idle_pg:
                    rows += idle(args.idle_pg, args.runs, "PostgreSQL")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n{database}, median of {args.runs} runs\n")
    print("| case | avasam | peak RSS | floor |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
