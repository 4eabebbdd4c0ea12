"""Test helpers: a catalogue to work with, and a snapshot of the whole database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, select

PRODUCTS_CSV = """ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate
OAK-1001,OAK-TABLE-01,Solid Oak Dining Table,5,120.00,199.99,20
OAK-1002,OAK-CHAIR-02,Oak Dining Chair,40,35.50,59.99,20
OAK-1003,OAK-SHELF-03,Oak Wall Shelf,0,18.25,29.99,20
"""


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def set_up_catalogue(cli: Any, tmp_path: Path, *, balance: str | None = "500") -> None:
    """Supplier OAKCO (UK only, excluding HS, ZE, KW15-17, BT), standard 4.99, 3 products."""
    cli.ok(
        "suppliers", "add", "OAKCO", "--name", "Oak & Co", "--exclude-postcodes", "HS,ZE,KW15-17,BT"
    )
    cli.ok("suppliers", "shipping", "OAKCO", "standard", "--price", "4.99", "--vat", "20")
    cli.ok(
        "products", "import", str(write(tmp_path / "feed.csv", PRODUCTS_CSV)), "--supplier", "OAKCO"
    )
    if balance:
        cli.ok("account", "topup", balance)


def add_order(
    cli: Any,
    *extra: str,
    postcode: str = "SW1A 1AA",
    item: str = "OAK-CHAIR-02:2",
    reference: str | None = None,
) -> Any:
    args = [
        "orders",
        "add",
        "--name",
        "Ann Lee",
        "--address1",
        "1 High St",
        "--city",
        "London",
        "--postcode",
        postcode,
        "--item",
        item,
        "--shipping-service",
        "standard",
        *extra,
    ]
    if reference:
        args += ["--reference", reference]
    return cli(*args)


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to check that a failed command changed nothing."""
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        state = {
            name: sorted(tuple(str(v) for v in row) for row in conn.execute(select(table)))
            for name, table in metadata.tables.items()
        }
    engine.dispose()
    return state


def json_rows(text: str) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in text.splitlines() if line.strip()]


def add_waiting_order(url: str, reference: str, channel_sku: str = "UNKNOWN-SKU") -> None:
    """An order whose line is not linked to a product yet (status `matching`)."""
    from datetime import UTC, datetime

    from sqlalchemy.orm import Session

    from avasam_cli.core.db import make_engine
    from avasam_cli.core.incoming import Delivery, IncomingLine, IncomingOrder
    from avasam_cli.core.services.intake import create_orders, insert_sources

    engine = make_engine(url)
    now = datetime.now(UTC)
    incoming = IncomingOrder(
        delivery=Delivery(name="Wait Ing", address1="1 St", city="Hull", postcode="HU1 1AA"),
        lines=[IncomingLine(channel_sku=channel_sku, quantity=1, title="Mystery lamp")],
        placed_at=now,
        shipping_service="standard",
        external_id=reference,
        reference=reference,
    )
    with Session(engine) as session:
        [source_id] = insert_sources(session, 1, [incoming], now)
        create_orders(session, 1, [(source_id, incoming)], actor="tester", now=now)
        session.commit()
    engine.dispose()


def execute(url: str, sql: str) -> None:
    from sqlalchemy import text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def bulk_open_orders(cli: Any, tmp_path: Path, count: int, prefix: str = "B") -> None:
    """`count` open orders for OAKCO, through a file drop and `orders process`."""
    feed = (
        "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\n"
        "OAK-9000,OAK-PEG-90,Oak peg,1000000,0.10,,20\n"
    )
    cli.ok("products", "import", str(write(tmp_path / "pegs.csv", feed)), "--supplier", "OAKCO")
    cli.ok("account", "topup", "1000000")
    drop = tmp_path / f"bulk-{prefix}"
    drop.mkdir()
    rows = "".join(
        f"{prefix}{n},2026-11-28T10:00:00Z,Ann Lee,{n} High St,London,SW1A 1AA,"
        f"Standard,OAK-PEG-90,{1 + n % 3}\n"
        for n in range(count)
    )
    write(
        drop / "bulk.csv",
        "order_id,placed_at,name,address1,city,postcode,shipping_method,sku,quantity\n" + rows,
    )
    cli.ok("channels", "add", f"bulk-{prefix}", "--type", "file", "--path", str(drop))
    cli.ok("channels", "map-shipping", f"bulk-{prefix}", "Standard", "standard")
    cli.ok("channels", "pull", f"bulk-{prefix}")
    cli.ok("orders", "process")
