"""Build a benchmark workspace: N orders (1-3 lines each) in SQLite or PostgreSQL, quickly.

    python bench/generate.py /tmp/bench1m/orders.db --orders 1000000
    python bench/generate.py postgresql+psycopg://postgres@127.0.0.1:5432/bench --orders 10000000

The schema comes from the real migrations (as `avasam init`). SQLite: rows go in with the
sqlite3 module in large batches. PostgreSQL: the database is created if it is not there
(it must be empty if it is), rows go in with `COPY` (psycopg 3), then `VACUUM ANALYZE`.
Values are in the exact formats SQLAlchemy writes, so avasam reads them as its own.
Deterministic: the same seed gives the same orders on both databases. Rows are made and
sent a batch at a time, never held whole, so 10,000,000 orders need little memory.

On PostgreSQL the secondary indexes, unique constraints and foreign keys of the four big
tables are dropped before the load and recreated afterwards from their own catalogue
definitions (one sort per index instead of 20M random index inserts and FK look-ups); the
script then checks that every index and constraint is back exactly as the migrations made
it (what `\\d orders` shows).

`--settled`: no order waits for a cron job (queue and held orders become open and paid,
matching ones unmatched), as in a workspace whose jobs have caught up; `bench/run.py` uses
it so that `orders process` and `orders match` are timed with nothing to do.
`--drop DIR`: the folder of the file channel `bench` that every order came from.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from avasam_cli.core.db import make_engine
from avasam_cli.core.migrate import upgrade
from avasam_cli.core.textfold import fold_text

MATERIALS = [
    "Oak",
    "Pine",
    "Walnut",
    "Teak",
    "Birch",
    "Ash",
    "Maple",
    "Cherry",
    "Beech",
    "Elm",
    "Bamboo",
    "Rattan",
    "Steel",
    "Brass",
    "Glass",
    "Marble",
    "Velvet",
    "Linen",
    "Wool",
    "Cotton",
]
ITEMS = [
    "Dining Table",
    "Side Table",
    "Coffee Table",
    "Dining Chair",
    "Arm Chair",
    "Bar Stool",
    "Bookcase",
    "Wall Shelf",
    "Sideboard",
    "Wardrobe",
    "Bed Frame",
    "Bedside Table",
    "Desk",
    "Office Chair",
    "Bench",
    "Lamp",
    "Floor Lamp",
    "Mirror",
    "Rug",
    "Cushion",
    "Throw",
    "Curtain",
    "Clock",
    "Vase",
    "Planter",
    "Basket",
    "Tray",
    "Candle Holder",
    "Coat Rack",
    "Shoe Rack",
    "TV Unit",
    "Console Table",
    "Footstool",
    "Ottoman",
    "Sofa",
    "Loveseat",
    "Chest of Drawers",
    "Dressing Table",
    "Headboard",
    "Cabinet",
    "Display Unit",
    "Room Divider",
    "Ladder Shelf",
    "Magazine Rack",
    "Picture Frame",
    "Storage Box",
    "Towel Rail",
    "Wine Rack",
    "Nest of Tables",
    "Trolley",
]
FIRST = [
    "Ann",
    "Bob",
    "Cara",
    "Dev",
    "Ella",
    "Finn",
    "Gita",
    "Hugo",
    "Iris",
    "Jack",
    "Kemi",
    "Liam",
    "Maya",
    "Noah",
    "Orla",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
]
LAST = [
    "Lee",
    "Smith",
    "Jones",
    "Patel",
    "Brown",
    "Khan",
    "Evans",
    "Wilson",
    "Taylor",
    "Murphy",
    "Walker",
    "Wright",
    "Green",
    "Hall",
    "Wood",
    "Clarke",
    "Hughes",
    "Ali",
]
POSTCODES = [
    "SW1A 1AA",
    "M1 1AE",
    "LS1 4AP",
    "B33 8TH",
    "CR2 6XH",
    "EH1 1YZ",
    "BS1 4DJ",
    "YO1 7LZ",
    "CF10 1EP",
    "NE1 7RU",
    "G1 1XQ",
    "L1 8JQ",
]
START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 28, tzinfo=UTC)
SPAN_SECONDS = int((NOW - START).total_seconds())
BATCH = 20_000
CHANNEL = 2  # the file channel `bench` (1 is the migrations' `manual`)
BIG_TABLES = ("source_orders", "orders", "order_lines", "order_events")

Row = tuple[Any, ...]
# id, supplier id, sku, supplier product id, title, price, folded title
Product = tuple[int, int, str, str, str, int, str]

SOURCE_COLUMNS = "id, channel_id, external_id, reference, content_hash, downloaded_at"
ORDER_COLUMNS = (
    "id, source_order_id, channel_reference, channel_id, supplier_id, number, status, "
    "placed_at, downloaded_at, payment_status, shipping_status, hold_reason, cancel_reason, "
    "payment_error, name, address1, address2, city, county, postcode, country, phone, email, "
    "shipping_service, channel_shipping_method, items_pence, shipping_pence, vat_pence, "
    "total_pence, currency, tracking_number, carrier, paid_at, received_by_supplier_at, "
    "dispatched_at, note_count, updated_at, item_count"
)
LINE_COLUMNS = (
    "order_id, line_no, channel_sku, product_id, sku, supplier_product_id, title, quantity, "
    "channel_unit_price_pence, unit_price_pence, vat_rate_bp, line_vat_pence, "
    "line_total_pence, id, search_title"
)
EVENT_COLUMNS = "id, order_id, at, actor, event, from_status, to_status, details"


@dataclass
class Batch:
    """One batch of rows for each big table, in BIG_TABLES order."""

    sources: list[Row]
    orders: list[Row]
    lines: list[Row]
    events: list[Row]

    def tables(self) -> list[tuple[str, str, list[Row]]]:
        return [
            ("source_orders", SOURCE_COLUMNS, self.sources),
            ("orders", ORDER_COLUMNS, self.orders),
            ("order_lines", LINE_COLUMNS, self.lines),
            ("order_events", EVENT_COLUMNS, self.events),
        ]


def stamp(moment: datetime, zone: str = "") -> str:
    """The text SQLAlchemy's SQLite DateTime stores (UTC, no offset); with zone "+00", a
    PostgreSQL timestamptz literal of the same instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + zone


def batches(
    orders: int, seed: int, products: list[Product], zone: str, settled: bool
) -> Iterator[Batch]:
    rng = random.Random(seed)
    line_ids = itertools.count(1)
    for first in range(1, orders + 1, BATCH):
        batch = Batch([], [], [], [])
        for order_id in range(first, min(first + BATCH, orders + 1)):
            order, lines = _order(rng, order_id, products, line_ids, zone, settled)
            batch.sources.append((order_id, CHANNEL, f"bench-{order_id}", order[2], None, order[8]))
            batch.orders.append(order)
            batch.lines.extend(lines)
            batch.events.append(
                (order_id, order_id, order[7], "bench", "created", None, "queue", None)
            )
        yield batch


def catalogue(zone: str, drop: Path) -> tuple[list[tuple[str, str, list[Row]]], list[Product]]:
    """The small tables (channel, suppliers, shipping, products) and the product list."""
    now = stamp(NOW, zone)
    channel = (CHANNEL, "bench", "file", True, json.dumps({"path": str(drop.resolve())}), None, now)
    suppliers: list[Row] = []
    services: list[Row] = []
    for supplier in range(1, 6):
        suppliers.append((supplier, f"SUP{supplier}", f"Supplier {supplier}", False, "HS,ZE", now))
        services.append((supplier, supplier, "standard", 499, 2000, None))
    products: list[Product] = []
    product_rows: list[Row] = []
    product_id = 0
    for material in MATERIALS:
        for item in ITEMS:
            for variant in ("", " Large"):
                product_id += 1
                supplier = product_id % 5 + 1
                title = f"{material} {item}{variant}"
                sku, spid = f"SKU-{product_id:05d}", f"P{product_id:06d}"
                price = 500 + (product_id * 37) % 20000
                product_rows.append(
                    (product_id, supplier, spid, sku, title, 1000, price, None, 2000, now)
                )
                products.append((product_id, supplier, sku, spid, title, price, fold_text(title)))
    tables = [
        ("channels", "id, name, type, enabled, config, cursor, created_at", [channel]),
        (
            "suppliers",
            "id, code, name, international, excluded_postcodes, created_at",
            suppliers,
        ),
        (
            "shipping_services",
            "id, supplier_id, service, price_pence, vat_rate_bp, carrier",
            services,
        ),
        (
            "products",
            "id, supplier_id, supplier_product_id, sku, title, stock, price_pence, rrp_pence, "
            "vat_rate_bp, updated_at",
            product_rows,
        ),
    ]
    return tables, products


def _insert(table: str, columns: str, mark: str) -> str:
    marks = ", ".join([mark] * (columns.count(",") + 1))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})"


# --- SQLite -----------------------------------------------------------------------------


def generate_sqlite(path: Path, orders: int, seed: int, drop: Path, settled: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}", create=True)
    upgrade(engine)
    engine.dispose()

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")  # a throwaway file: no rollback journal
    db.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache for the index builds
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    small, products = catalogue("", drop)
    for table, columns, rows in small:
        db.executemany(_insert(table, columns, "?"), rows)
    for batch in batches(orders, seed, products, "", settled):
        for table, columns, rows in batch.tables():
            db.executemany(_insert(table, columns, "?"), rows)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()


# --- PostgreSQL -------------------------------------------------------------------------


def generate_postgres(url: str, orders: int, seed: int, drop: Path, settled: bool) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    _create_database(parsed.set(database="postgres"), parsed.database or "")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()

    with psycopg.connect(_dsn(parsed)) as db:
        db.execute("SET synchronous_commit = off")
        db.execute("SET maintenance_work_mem = '1GB'")
        small, products = catalogue("+00", drop)
        with db.cursor() as cur:
            for table, columns, rows in small:
                cur.executemany(_insert(table, columns, "%s"), rows)
        before = _schema(db)
        dropped = _drop_secondary(db)
        started = time.perf_counter()
        with db.cursor() as cur:
            for n, batch in enumerate(batches(orders, seed, products, "+00", settled), 1):
                for table, columns, rows in batch.tables():
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                if n % 25 == 0:
                    _say(f"  {n * BATCH:,} orders copied, {time.perf_counter() - started:.0f} s")
        _say(f"  rows copied in {time.perf_counter() - started:.0f} s; rebuilding indexes")
        for statement in dropped:
            started = time.perf_counter()
            db.execute(statement)
            _say(f"  {time.perf_counter() - started:6.1f} s  {statement[:100]}")
        for table, _, _ in [*small, *Batch([], [], [], []).tables()]:
            db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        after = _schema(db)
        if after != before:
            raise SystemExit(f"indexes or constraints differ after the load: {before ^ after}")
        db.commit()
    with psycopg.connect(_dsn(parsed), autocommit=True) as db:
        started = time.perf_counter()
        db.execute("VACUUM ANALYZE")
        _say(f"  VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")


def _dsn(parsed: Any) -> str:
    return str(parsed.render_as_string(hide_password=False))


def _create_database(admin: Any, name: str) -> None:
    """Create the database if it is not there; refuse one that has tables."""
    import psycopg

    with psycopg.connect(_dsn(admin), autocommit=True) as db:
        if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            with psycopg.connect(_dsn(admin.set(database=name))) as target:
                found = target.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                ).fetchone()
            if found and found[0]:
                raise SystemExit(f"the database {name} is not empty; drop it or name a new one")
            return
        db.execute(f'CREATE DATABASE "{name}"')


def _schema(db: Any) -> set[tuple[str, ...]]:
    """Every index and constraint of the big tables, as its definition."""
    indexes = db.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename = ANY(%s)",
        (list(BIG_TABLES),),
    ).fetchall()
    constraints = db.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid::regclass::text = ANY(%s)",
        (list(BIG_TABLES),),
    ).fetchall()
    return {tuple(row) for row in [*indexes, *constraints]}


def _drop_secondary(db: Any) -> list[str]:
    """Drop the foreign keys, unique constraints and plain indexes of the big tables (primary
    keys stay: ids arrive in order, so they only ever append); return the statements that
    put them back, in an order that works (constraints' indexes before the foreign keys)."""
    tables = list(BIG_TABLES)
    constraints = db.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
        "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u') "
        "ORDER BY contype DESC, conname",
        (tables,),
    ).fetchall()
    indexes = db.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
        "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = i.indexname::regclass) ORDER BY i.indexname",
        (tables,),
    ).fetchall()
    restore: list[str] = []
    fks: list[str] = []
    for table, name, definition, kind in constraints:
        db.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        statement = f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        (fks if kind == "f" else restore).append(statement)
    for name, definition in indexes:
        db.execute(f"DROP INDEX {name}")
        restore.append(definition)
    return [*restore, *fks]


def _say(text: str) -> None:
    print(text, flush=True)


# --- the orders ---------------------------------------------------------------------------


def _order(
    rng: random.Random,
    order_id: int,
    products: list[Product],
    line_ids: Iterator[int],
    zone: str,
    settled: bool,
) -> tuple[Row, list[Row]]:
    placed = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
    supplier = rng.randrange(1, 6)
    own = products[(supplier - 2) % 5 :: 5]  # product id p = index + 1 has supplier p % 5 + 1
    lines: list[Row] = []
    items = quantities = 0
    for line_no in range(1, rng.choice((1, 1, 2, 2, 3)) + 1):
        pid, _, sku, spid, title, price, folded = own[rng.randrange(len(own))]
        qty = rng.choice((1, 1, 1, 2, 3))
        net = price * qty
        vat = (net * 2000 + 5000) // 10000
        lines.append(
            (
                order_id,
                line_no,
                sku,
                pid,
                sku,
                spid,
                title,
                qty,
                None,
                price,
                2000,
                vat,
                net + vat,
                next(line_ids),
                folded,
            )
        )
        items += net
        quantities += qty
    status, payment, shipping = _status(rng.random(), settled)
    paid = payment != "unpaid"
    vat_total = sum(line[11] for line in lines) + (100 if paid else 0)
    total = items + 499 + vat_total if paid else 0
    at = stamp(placed, zone)
    later = stamp(placed + timedelta(hours=2), zone)
    order = (
        order_id,
        order_id,
        f"CH-{order_id:08d}",
        CHANNEL,
        supplier,
        f"AV{order_id:07d}" if paid else None,
        status,
        at,
        at,
        payment,
        shipping,
        "excluded_postcode" if status == "held" else None,
        "customer_changed_mind" if status == "cancelled" else None,
        None,
        f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        f"{rng.randrange(1, 200)} High Street",
        None,
        "Town",
        None,
        rng.choice(POSTCODES),
        "GB",
        None,
        None,
        "standard",
        None,
        items if paid else 0,
        499 if paid else 0,
        vat_total if paid else 0,
        total,
        "GBP",
        f"RM{order_id:09d}GB" if shipping == "shipped" else None,
        "Royal Mail" if shipping == "shipped" else None,
        later if paid else None,
        later if paid else None,
        later if shipping == "shipped" else None,
        0,
        at,
        quantities,
    )
    return order, lines


def _status(roll: float, settled: bool) -> tuple[str, str, str]:
    """70% dispatched, 12% open, 8% cancelled, 5% queue, 3% held, 1% unmatched, 1% matching;
    settled, the waiting ones (queue, held, matching) are open and paid or unmatched."""
    if roll < 0.70:
        return "dispatched", "paid", "shipped"
    if roll < 0.82:
        return "open", "paid", "unshipped"
    if roll < 0.90:
        return "cancelled", "refunded", "unshipped"
    if roll < 0.98 and settled:
        return "open", "paid", "unshipped"
    if roll < 0.95:
        return "queue", "unpaid", "unshipped"
    if roll < 0.98:
        return "held", "unpaid", "unshipped"
    if roll < 0.99 or settled:
        return "unmatched", "unpaid", "unshipped"
    return "matching", "unpaid", "unshipped"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("target", nargs="?", help="a SQLite file, or a postgresql+psycopg:// URL")
    parser.add_argument("--postgres", metavar="URL", help="the same as a URL target")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--drop",
        type=Path,
        help="the bench channel's drop folder (default: beside a SQLite "
        "file, else /tmp/avasam-bench-drop)",
    )
    parser.add_argument(
        "--settled", action="store_true", help="no order in queue, held or matching"
    )
    args = parser.parse_args()
    target = args.postgres or args.target
    if not target:
        parser.error("give a SQLite file or a PostgreSQL URL")
    started = time.perf_counter()
    if target.startswith("postgresql"):
        drop = args.drop or Path("/tmp/avasam-bench-drop")
        generate_postgres(target, args.orders, args.seed, drop, args.settled)
    else:
        drop = args.drop or Path(target).resolve().parent / "drop"
        generate_sqlite(Path(target), args.orders, args.seed, drop, args.settled)
    print(f"{args.orders:,} orders in {time.perf_counter() - started:.1f} s -> {target}")


if __name__ == "__main__":
    main()
