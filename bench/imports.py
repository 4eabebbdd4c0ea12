"""Benchmark supplier feeds (issue 14): one `avasam imports run` of a 50,000-row dispatch
file and one of a 100,000-row stock file, on a 1M-order workspace, beside a raw bulk update
of the same rows (the floor) measured in the same run.

    python bench/imports.py --sqlite /tmp/bench1m/sqlite-1m/orders.db --runs 3
    python bench/imports.py --postgres postgresql+psycopg://postgres@127.0.0.1:PORT/bench_1m

The workspace is one made by bench/generate.py (5 suppliers, about 40,000 open orders
each): a SQLite file (copied, never changed) or a PostgreSQL database (used as a template,
never changed; nothing may be connected to it). Set-up, once, on a copy: `avasam init`;
the open orders of SUP2 reassigned to SUP1 (one UPDATE) so that SUP1 owns about 80,000;
supplier BULK with 100,000 new products from a full feed (`avasam products import`, timed
for information); a folder import `bench` (SUP1's dispatches) and `bench-stock` (BULK's
stock). Then every measurement starts from a fresh copy of that set-up (SQLite: a file
copy; PostgreSQL: CREATE DATABASE ... TEMPLATE), outside the timing:

- avasam: the file is put in the import's folder and ONE `avasam imports run NAME -f json`
  process is timed (wall clock, process start included); its JSON must say every row
  changed. AVASAM_IMPORT_SETTLE is 0 (--settle): avasam's default first waits 10 s
  between two listings of the folder, a fixed wait that is not the apply.
- floor (driver): the same rows applied by the database driver (sqlite3 module / psycopg
  3) in one transaction, in this process (no process start): reading the CSV, then
  executemany of the UPDATEs (and, for dispatches, of the audit INSERTs into
  order_events, one per order). "stock floor+history" adds one product_changes row per
  product, as avasam keeps. Neither writes avasam's channel_updates (outbox) rows.
- floor (shell): the same file loaded into a temp table by the `sqlite3` shell (`.import`)
  or `psql` (`\\copy`), then one set-based UPDATE (and INSERT ... SELECT), one transaction,
  shell start included.

Each figure is run --runs times; the best and the spread (slowest) are printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AVASAM = [sys.executable, "-m", "avasam_cli"]
BENCH_SUPPLIER, SECOND_SUPPLIER, STOCK_SUPPLIER = "SUP1", "SUP2", "BULK"
DISPATCH_IMPORT, STOCK_IMPORT = "bench", "bench-stock"
DISPATCH_FILE, STOCK_FILE = "dispatches.csv", "stock.csv"
SOURCE = f"import {DISPATCH_IMPORT}, file {DISPATCH_FILE}"
ACTOR = "bench-imports"


# --- the two databases ------------------------------------------------------------------


class SqliteDb:
    """The set-up is a copy of the source file; each measurement gets a copy of the set-up."""

    name = "SQLite"

    def __init__(self, source: Path, workdir: Path) -> None:
        self.source, self.setup, self.path = source, workdir / "setup.db", workdir / "run.db"
        self.current = self.setup

    @property
    def url(self) -> str:
        return f"sqlite:///{self.current}"

    def prepare(self) -> None:
        shutil.copy(self.source, self.setup)

    def save(self) -> None:
        with sqlite3.connect(self.setup) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.current = self.path

    def restore(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copy(self.setup, self.path)

    def drop(self) -> None:
        pass

    @contextmanager
    def connect(self) -> Iterator[Any]:
        conn = sqlite3.connect(self.current, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    def param(self, sql: str) -> str:
        return sql

    def stamp(self, at: datetime) -> Any:
        return at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def shell(self, script: str) -> None:
        subprocess.run(
            ["sqlite3", "-bail", str(self.current)],
            input=script,
            text=True,
            check=True,
            capture_output=True,
        )

    def shell_load(self, table: str, path: Path) -> str:
        return f".import --csv --skip 1 {path} {table}\n"


class PostgresDb:
    """The set-up is a database made from the source as a template; each measurement gets
    a database made from the set-up (STRATEGY FILE_COPY: a copy of its files)."""

    name = "PostgreSQL"

    def __init__(self, source_url: str) -> None:
        from sqlalchemy import make_url

        self.source = make_url(source_url)
        self.setup_name, self.run_name = "avasam_bench_imports_setup", "avasam_bench_imports"
        self.current = self.setup_name

    @property
    def url(self) -> str:
        return self.source.set(database=self.current).render_as_string(hide_password=False)

    def _libpq(self, database: str) -> str:
        url = self.source.set(drivername="postgresql", database=database)
        return url.render_as_string(hide_password=False)

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self._libpq("postgres"), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def prepare(self) -> None:
        self._admin(
            f"DROP DATABASE IF EXISTS {self.run_name}",
            f"DROP DATABASE IF EXISTS {self.setup_name}",
            f"CREATE DATABASE {self.setup_name} TEMPLATE {self.source.database} STRATEGY FILE_COPY",
        )

    def save(self) -> None:
        import psycopg

        with psycopg.connect(self._libpq(self.setup_name), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        self.current = self.run_name

    def restore(self) -> None:
        self._admin(
            f"DROP DATABASE IF EXISTS {self.run_name}",
            f"CREATE DATABASE {self.run_name} TEMPLATE {self.setup_name} STRATEGY FILE_COPY",
        )

    def drop(self) -> None:
        self._admin(
            f"DROP DATABASE IF EXISTS {self.run_name}",
            f"DROP DATABASE IF EXISTS {self.setup_name}",
        )

    @contextmanager
    def connect(self) -> Iterator[Any]:
        import psycopg

        conn = psycopg.connect(self._libpq(self.current), autocommit=True)
        try:
            yield conn
        finally:
            conn.close()

    def param(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def stamp(self, at: datetime) -> Any:
        return at

    def shell(self, script: str) -> None:
        subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self._libpq(self.current)],
            input=script,
            text=True,
            check=True,
            capture_output=True,
        )

    def shell_load(self, table: str, path: Path) -> str:
        return f"\\copy {table} FROM '{path}' WITH (FORMAT csv, HEADER true)\n"


Db = SqliteDb | PostgresDb


# --- set-up -----------------------------------------------------------------------------


def avasam(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [*AVASAM, *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def execute(db: Db, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        cur = conn.execute(db.param(sql), params) if params else conn.execute(sql)
        return list(cur.fetchall()) if cur.description else []


def set_up(db: Db, workdir: Path, env: dict[str, str], dispatches: int, products: int) -> str:
    """Returns a line saying what the set-up did and how long `products import` took."""
    started = time.perf_counter()
    db.prepare()
    avasam(env, "init")
    ids = dict(execute(db, "SELECT code, id FROM suppliers"))
    bench_id, second_id = ids[BENCH_SUPPLIER], ids[SECOND_SUPPLIER]
    with db.connect() as conn:
        moved = conn.execute(
            db.param("UPDATE orders SET supplier_id = ? WHERE supplier_id = ? AND status = 'open'"),
            (bench_id, second_id),
        ).rowcount
    numbers = [
        number
        for (number,) in execute(
            db,
            "SELECT number FROM orders WHERE supplier_id = ? AND status = 'open' "
            f"ORDER BY id LIMIT {dispatches}",
            (bench_id,),
        )
    ]
    if len(numbers) < dispatches:
        raise SystemExit(f"{BENCH_SUPPLIER} has only {len(numbers)} open orders")
    with (workdir / DISPATCH_FILE).open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["OrderNumber", "Status", "TrackingNumber", "Carrier"])
        writer.writerows([n, "SHIPPED", f"TRK-{n}", "Royal Mail"] for n in numbers)

    avasam(env, "suppliers", "add", STOCK_SUPPLIER, "--name", "Bulk feed")
    feed = workdir / "feed.csv"
    with feed.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["ProductId", "SKU", "Title", "StockQuantity", "PriceExclVAT", "RRPExclVAT", "VAT%Rate"]
        )
        writer.writerows(
            [f"B{n:06d}", f"BULK-{n:06d}", f"Bulk item {n}", 10, f"{1 + n % 500}.99", "", 20]
            for n in range(products)
        )
    imported = time.perf_counter()
    avasam(env, "products", "import", str(feed), "--supplier", STOCK_SUPPLIER)
    imported = time.perf_counter() - imported
    with (workdir / STOCK_FILE).open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["SKU", "StockQuantity", "PriceExclVAT"])
        # every row changes both values: stock 10 -> 11..30, price +0.50
        writer.writerows(
            [f"BULK-{n:06d}", 11 + n % 20, f"{1 + n % 500}.49"] for n in range(products)
        )

    for name, supplier, kind in (
        (DISPATCH_IMPORT, BENCH_SUPPLIER, "dispatches"),
        (STOCK_IMPORT, STOCK_SUPPLIER, "stock"),
    ):
        folder = workdir / f"in-{name}"
        folder.mkdir(exist_ok=True)
        avasam(env, "imports", "add", name, "--supplier", supplier, "--kind", kind,
               "--protocol", "file", "--remote-dir", str(folder))  # fmt: skip
    db.save()
    return (
        f"set-up in {time.perf_counter() - started:.0f} s: {moved:,} open orders of "
        f"{SECOND_SUPPLIER} reassigned to {BENCH_SUPPLIER}; `products import` of a full feed "
        f"of {products:,} new products: {imported:.1f} s"
    )


# --- the measurements -------------------------------------------------------------------


def run_import(
    db: Db,
    workdir: Path,
    env: dict[str, str],
    name: str,
    file: str,
    rows: int,
    profile: Path | None = None,
) -> float:
    """ONE `avasam imports run NAME` process over the file; checks every row changed."""
    folder = workdir / f"in-{name}"
    shutil.rmtree(folder)
    folder.mkdir()
    shutil.copy(workdir / file, folder / file)
    prefix = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else []
    command = [*prefix, *(AVASAM[1:] if profile else AVASAM), "imports", "run", name, "-f", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    [result] = json.loads(done.stdout)
    if result["outcome"] != "applied" or result["changed"] != rows:
        raise SystemExit(f"{name}: expected {rows} rows changed, got {result}")
    return seconds


def dispatch_floor(db: Db, workdir: Path, rows: int) -> float:
    started = time.perf_counter()
    at = db.stamp(datetime.now(UTC))
    with (workdir / DISPATCH_FILE).open(newline="") as handle:
        parsed = list(csv.DictReader(handle))
    updates = [
        (r["TrackingNumber"], r["Carrier"], at, at, r["OrderNumber"].upper()) for r in parsed
    ]
    events = [
        (
            at,
            ACTOR,
            json.dumps(
                {"tracking": r["TrackingNumber"], "carrier": r["Carrier"], "source": SOURCE}
            ),
            r["OrderNumber"].upper(),
        )
        for r in parsed
    ]
    with db.connect() as conn:
        conn.execute("BEGIN")
        cur = conn.cursor()
        cur.executemany(
            db.param(
                "UPDATE orders SET status = 'dispatched', shipping_status = 'shipped', "
                "tracking_number = ?, carrier = ?, dispatched_at = ?, updated_at = ? "
                "WHERE number = ?"
            ),
            updates,
        )
        cur.executemany(
            db.param(
                "INSERT INTO order_events (order_id, at, actor, event, from_status, to_status, "
                "details) SELECT id, ?, ?, 'dispatched', 'open', 'dispatched', ? FROM orders "
                "WHERE number = ?"
            ),
            events,
        )
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    check(db, "SELECT count(*) FROM orders WHERE tracking_number LIKE 'TRK-%'", rows)
    check(db, "SELECT count(*) FROM order_events WHERE actor = 'bench-imports'", rows)
    return seconds


def stock_floor(db: Db, workdir: Path, rows: int, history: bool) -> float:
    """The UPDATE of the products; with `history`, also one product_changes row each (as
    avasam keeps)."""
    started = time.perf_counter()
    at = db.stamp(datetime.now(UTC))
    with (workdir / STOCK_FILE).open(newline="") as handle:
        parsed = list(csv.DictReader(handle))
    updates = [
        (int(r["StockQuantity"]), round(float(r["PriceExclVAT"]) * 100), at, r["SKU"])
        for r in parsed
    ]
    with db.connect() as conn:
        conn.execute("BEGIN")
        cur = conn.cursor()
        cur.executemany(
            db.param(
                "UPDATE products SET stock = ?, price_pence = ?, updated_at = ? WHERE sku = ?"
            ),
            updates,
        )
        if history:
            cur.executemany(
                db.param(
                    "INSERT INTO product_changes (product_id, at, actor, source, details) "
                    "SELECT id, ?, ?, ?, ? FROM products WHERE sku = ?"
                ),
                [
                    (
                        at,
                        ACTOR,
                        f"import {STOCK_IMPORT}, file {STOCK_FILE}",
                        json.dumps({"stock": [10, s], "price_pence": [None, p]}),
                        sku,
                    )
                    for s, p, _, sku in updates
                ],
            )
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    check(db, "SELECT count(*) FROM products WHERE sku LIKE 'BULK-%' AND stock <> 10", rows)
    return seconds


def dispatch_shell(db: Db, workdir: Path, rows: int) -> float:
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    details = (
        "json_object('tracking', d.tracking, 'carrier', d.carrier, 'source', '{0}')"
        if isinstance(db, SqliteDb)
        else "json_build_object('tracking', d.tracking, 'carrier', d.carrier, 'source', '{0}')"
    ).format(SOURCE)
    script = (
        "BEGIN;\n"
        "CREATE TEMP TABLE d (number text PRIMARY KEY, status text, tracking text, carrier text);\n"
        + db.shell_load("d", workdir / DISPATCH_FILE)
        + f"INSERT INTO order_events (order_id, at, actor, event, from_status, to_status, "
        f"details) SELECT o.id, '{at}', '{ACTOR}', 'dispatched', 'open', 'dispatched', "
        f"{details} FROM d JOIN orders o ON o.number = d.number;\n"
        "UPDATE orders SET status = 'dispatched', shipping_status = 'shipped', "
        f"tracking_number = d.tracking, carrier = d.carrier, dispatched_at = '{at}', "
        f"updated_at = '{at}' FROM d WHERE orders.number = d.number;\n"
        "COMMIT;\n"
    )
    seconds = timed(lambda: db.shell(script))
    check(db, "SELECT count(*) FROM orders WHERE tracking_number LIKE 'TRK-%'", rows)
    return seconds


def stock_shell(db: Db, workdir: Path, rows: int) -> float:
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    script = (
        "BEGIN;\n"
        "CREATE TEMP TABLE s (sku text PRIMARY KEY, stock integer, price numeric);\n"
        + db.shell_load("s", workdir / STOCK_FILE)
        + "UPDATE products SET stock = s.stock, price_pence = CAST(round(s.price * 100) AS "
        f"integer), updated_at = '{at}' FROM s WHERE products.sku = s.sku;\n"
        "COMMIT;\n"
    )
    seconds = timed(lambda: db.shell(script))
    check(db, "SELECT count(*) FROM products WHERE sku LIKE 'BULK-%' AND stock <> 10", rows)
    return seconds


def check(db: Db, sql: str, expected: int) -> None:
    [(found,)] = execute(db, sql)
    if found != expected:
        raise SystemExit(f"{sql}: {found}, expected {expected}")


def code_version() -> str:
    """The commit measured, and whether avasam_cli/ differs from it (read-only git)."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "avasam_cli"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "(not a git checkout)"
    return f"at {head}" + (" with avasam_cli/ modified" if dirty else "")


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# --- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite", type=Path, metavar="FILE", help="a generated SQLite file")
    where.add_argument("--postgres", metavar="URL", help="a generated PostgreSQL database")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dispatches", type=int, default=50_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="AVASAM_IMPORT_SETTLE for the timed runs (default 0: the apply alone; "
        "avasam's own default waits 10 s between two listings first)",
    )
    parser.add_argument("--no-shell", action="store_true", help="skip the sqlite3/psql floors")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="then one cProfile run of each, into DIR"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="avasam-bench-imports-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db: Db = SqliteDb(args.sqlite, workdir) if args.sqlite else PostgresDb(args.postgres)
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(workdir / "state"),
        "AVASAM_ACTOR": ACTOR,
        "AVASAM_IMPORT_SETTLE": str(args.settle),
    }
    print(f"avasam {code_version()}, AVASAM_IMPORT_SETTLE={args.settle:g}", flush=True)
    n_d, n_p = args.dispatches, args.products
    try:
        env["AVASAM_DATABASE_URL"] = db.url
        print(set_up(db, workdir, env, n_d, n_p), flush=True)
        env["AVASAM_DATABASE_URL"] = db.url
        cases: dict[str, Callable[[], float]] = {
            "dispatch avasam": lambda: run_import(
                db, workdir, env, DISPATCH_IMPORT, DISPATCH_FILE, n_d
            ),
            "dispatch floor": lambda: dispatch_floor(db, workdir, n_d),
            "dispatch shell": lambda: dispatch_shell(db, workdir, n_d),
            "stock avasam": lambda: run_import(db, workdir, env, STOCK_IMPORT, STOCK_FILE, n_p),
            "stock floor": lambda: stock_floor(db, workdir, n_p, history=False),
            "stock floor+history": lambda: stock_floor(db, workdir, n_p, history=True),
            "stock shell": lambda: stock_shell(db, workdir, n_p),
        }
        if args.no_shell:
            cases = {k: v for k, v in cases.items() if "shell" not in k}
        times: dict[str, list[float]] = {name: [] for name in cases}
        for round_ in range(args.runs):
            for name, case in cases.items():
                db.restore()
                times[name].append(case())
                print(f"  run {round_ + 1} {name}: {times[name][-1]:.2f} s", flush=True)
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\n{db.name}, best of {args.runs} (slowest in brackets); load average {load}")
        for name, values in times.items() if args.runs else ():
            print(f"{name:>22}: {min(values):6.2f} s ({max(values):.2f})")
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            for name, file, rows in (
                (DISPATCH_IMPORT, DISPATCH_FILE, n_d),
                (STOCK_IMPORT, STOCK_FILE, n_p),
            ):
                db.restore()
                output = args.profile / f"{db.name.lower()}-{name}.prof"
                seconds = run_import(db, workdir, env, name, file, rows, profile=output)
                print(f"profiled {name}: {seconds:.2f} s -> {output}")
    finally:
        db.drop()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
