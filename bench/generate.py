"""Build a benchmark workspace: N orders (1-3 lines each) in a SQLite file, quickly.

    python bench/generate.py bench/data/orders.db --orders 1000000

The schema comes from `avasam init` (the real migrations); rows go in with the sqlite3
module in large batches, in the exact formats SQLAlchemy writes, so avasam reads them as
its own. Deterministic: the same seed gives the same database.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
SPAN_SECONDS = int((datetime(2026, 11, 28, tzinfo=UTC) - START).total_seconds())
BATCH = 20_000


def stamp(moment: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (UTC, no offset)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(path: Path, orders: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}", create=True)
    upgrade(engine)
    engine.dispose()

    rng = random.Random(seed)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")  # a throwaway file: no rollback journal
    db.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache for the index builds
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    now = stamp(datetime(2026, 11, 28, tzinfo=UTC))
    products = _catalogue(db, now)
    for first in range(1, orders + 1, BATCH):
        ids = range(first, min(first + BATCH, orders + 1))
        order_rows, line_rows, event_rows = [], [], []
        for order_id in ids:
            order, lines = _order(rng, order_id, products)
            order_rows.append(order)
            line_rows.extend(lines)
            event_rows.append((order_id, order[7], "bench", "created", None, "queue", None))
        db.executemany(
            f"INSERT INTO source_orders VALUES ({_marks(6)})",
            [(o[0], 1, f"bench-{o[0]}", o[2], None, o[8]) for o in order_rows],
        )
        db.executemany(f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES ({_marks(38)})", order_rows)
        db.executemany(f"INSERT INTO order_lines ({LINE_COLUMNS}) VALUES ({_marks(15)})", line_rows)
        db.executemany(
            "INSERT INTO order_events (order_id, at, actor, event, from_status, "
            "to_status, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
            event_rows,
        )
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()


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


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _catalogue(db: sqlite3.Connection, now: str) -> list[tuple[int, int, str, str, str, int]]:
    products = []
    for supplier in range(1, 6):
        db.execute(
            "INSERT INTO suppliers VALUES (?, ?, ?, ?, ?, ?)",
            (supplier, f"SUP{supplier}", f"Supplier {supplier}", 0, "HS,ZE", now),
        )
        db.execute(
            "INSERT INTO shipping_services VALUES (?, ?, 'standard', 499, 2000, NULL)",
            (supplier, supplier),
        )
    product_id = 0
    for material in MATERIALS:
        for item in ITEMS:
            for variant in ("", " Large"):
                product_id += 1
                supplier = product_id % 5 + 1
                title = f"{material} {item}{variant}"
                sku = f"SKU-{product_id:05d}"
                price = 500 + (product_id * 37) % 20000
                db.execute(
                    "INSERT INTO products VALUES (?, ?, ?, ?, ?, 1000, ?, NULL, 2000, ?)",
                    (product_id, supplier, f"P{product_id:06d}", sku, title, price, now),
                )
                products.append((product_id, supplier, sku, f"P{product_id:06d}", title, price))
    return products


_line_id = 0


def _order(
    rng: random.Random, order_id: int, products: list[tuple[int, int, str, str, str, int]]
) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
    global _line_id
    placed = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
    supplier = rng.randrange(1, 6)
    own = products[(supplier - 2) % 5 :: 5]  # product id p = index + 1 has supplier p % 5 + 1
    lines, items = [], 0
    for line_no in range(1, rng.choice((1, 1, 2, 2, 3)) + 1):
        pid, _, sku, spid, title, price = own[rng.randrange(len(own))]
        qty = rng.choice((1, 1, 1, 2, 3))
        net = price * qty
        vat = (net * 2000 + 5000) // 10000
        _line_id += 1
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
                _line_id,
                fold_text(title),
            )
        )
        items += net
    roll = rng.random()
    status, payment, shipping = (
        ("dispatched", "paid", "shipped")
        if roll < 0.70
        else ("open", "paid", "unshipped")
        if roll < 0.82
        else ("cancelled", "refunded", "unshipped")
        if roll < 0.90
        else ("queue", "unpaid", "unshipped")
        if roll < 0.95
        else ("held", "unpaid", "unshipped")
        if roll < 0.98
        else ("unmatched", "unpaid", "unshipped")
        if roll < 0.99
        else ("matching", "unpaid", "unshipped")
    )
    paid = payment != "unpaid"
    vat_total = sum(line[11] for line in lines) + (100 if paid else 0)
    total = items + 499 + vat_total if paid else 0
    at = stamp(placed)
    later = stamp(placed + timedelta(hours=2))
    order = (
        order_id,
        order_id,
        f"CH-{order_id:08d}",
        1,
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
        sum(line[7] for line in lines),
    )
    return order, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    generate(args.path, args.orders, args.seed)
    print(f"{args.orders:,} orders in {time.perf_counter() - started:.1f} s -> {args.path}")


if __name__ == "__main__":
    main()
