"""What the fast paths of intake, matching and processing must keep (issue 12): rows handed
straight to the driver read back exactly as the ORM would have written them, set-based
matching writes the same audit trail and splits, and a batch of `orders process` keeps each
order's payment all or nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from avasam_cli.core.channels.files import anything_dropped
from avasam_cli.core.config import Settings
from avasam_cli.core.incoming import IncomingLine
from avasam_cli.core.models import Account, LedgerEntry, Order, OrderEvent, OrderLine
from avasam_cli.core.services import account, catalogue, channels, processing, sku_links
from avasam_cli.core.services.intake import LINE_COLUMNS, line_row, line_tuple
from avasam_cli.core.services.matching import match_waiting
from avasam_cli.core.services.processing import process_pending
from avasam_cli.core.services.product_import import import_products
from avasam_cli.core.services.pull import pull_channel
from avasam_cli.core.textfold import fold_text
from avasam_cli.core.workspace import Workspace
from tests.helpers import PRODUCTS_CSV, execute, snapshot, write
from tests.support import new_pg_database

PINE_CSV = """ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate
PINE-1,PINE-BED-01,Pine bed,3,80.00,,20
"""
NOW = "2026-11-28T10:00:00.123456+00:00"


def _workspace(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """OAKCO (3 products, standard 4.99), PINECO (1 product, standard 6.00), a file channel
    `drop` whose method "Std" is the standard service; the clock pinned at NOW."""
    monkeypatch.setenv("AVASAM_NOW", NOW)
    ws = Workspace(Settings.resolve(url))
    for code, feed in (("OAKCO", PRODUCTS_CSV), ("PINECO", PINE_CSV)):
        catalogue.add_supplier(ws, code, code.title(), international=False, exclude_postcodes="HS")
        price = "4.99" if code == "OAKCO" else "6.00"
        catalogue.set_shipping(ws, code, "standard", price=price, vat="20", carrier=None)
        import_products(ws, write(tmp_path / f"{code}.csv", feed), code, skip_invalid=False)
    (tmp_path / "drop").mkdir(exist_ok=True)
    channels.add_channel(ws, "drop", "file", {"path": str(tmp_path / "drop")})
    channels.map_shipping(ws, "drop", "Std", "standard")
    return ws


@pytest.fixture
def ws(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    workspace = _workspace(db_url, tmp_path, monkeypatch)
    yield workspace
    workspace.close()


def drop(ws: Workspace, tmp_path: Path, name: str, orders: list[dict[str, Any]]) -> None:
    folder = tmp_path / "drop"
    (folder / name).write_text("".join(json.dumps(order) + "\n" for order in orders))


def order(ref: str, *lines: tuple[str, int], title: str = "Thing", postcode: str = "SW1A 1AA"):  # type: ignore[no-untyped-def]
    return {
        "order_id": ref,
        "placed_at": "2026-11-27T09:30:00+00:00",
        "name": "Ann Lee",
        "address1": "1 High St",
        "city": "London",
        "postcode": postcode,
        "shipping_method": "Std",
        "lines": [
            {"sku": sku, "title": title, "quantity": qty, "unit_price": "10.00"}
            for sku, qty in lines
        ],
    }


def events(ws: Workspace, order_id: int) -> list[tuple[str, str | None, str | None, str | None]]:
    with ws.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(
                OrderEvent.event, OrderEvent.from_status, OrderEvent.to_status, OrderEvent.details
            )
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_line_tuple_holds_the_values_of_line_row() -> None:
    line = IncomingLine(
        channel_sku="SKU-1", quantity=2, title="Café ŁÓDŹ", channel_unit_price_pence=5
    )
    row = {**line_row(7, 1, line), "id": 99}
    assert line_tuple(99, 7, 1, line) == tuple(row[column] for column in LINE_COLUMNS)


def test_a_pulled_order_reads_back_as_the_orm_would_have_written_it(
    ws: Workspace, tmp_path: Path, db_url: str
) -> None:
    drop(
        ws,
        tmp_path,
        "a.jsonl",
        [
            order("R1", ("SHOP-LAMP", 1), title="Lampe à poser Łódź"),
            order("R2", ("OAK-CHAIR-02", 2)),
        ],
    )
    summary = pull_channel(ws, "drop", None)
    assert (summary.new, summary.matched, summary.waiting, summary.error) == (2, 1, 1, None)
    now = datetime.fromisoformat(NOW)
    with ws.uow(read_only=True) as uow:
        lines = uow.session.scalars(select(OrderLine).order_by(OrderLine.id)).all()
        assert [(line.title, line.search_title) for line in lines] == [
            ("Lampe à poser Łódź", fold_text("Lampe à poser Łódź")),
            ("Oak Dining Chair", fold_text("Oak Dining Chair")),
        ]
        orders = uow.session.scalars(select(Order).order_by(Order.id)).all()
        assert [(o.channel_reference, o.status, o.supplier_id is None) for o in orders] == [
            ("R1", "matching", True),
            ("R2", "queue", False),
        ]
        assert {o.downloaded_at for o in orders} == {now}  # aware UTC, microseconds kept
        assert {o.updated_at for o in orders} == {now}
        assert {o.placed_at for o in orders} == {datetime(2026, 11, 27, 9, 30, tzinfo=UTC)}
        if db_url.startswith("sqlite"):  # the very text SQLAlchemy's DateTime writes
            stored = uow.session.execute(text("SELECT downloaded_at FROM orders")).scalars()
            assert set(stored) == {"2026-11-28 10:00:00.123456"}
        ids = [o.id for o in orders]
    assert [e[:3] for e in events(ws, ids[0])] == [("created", None, "matching")]
    assert events(ws, ids[1])[0][:3] == ("created", None, "queue")


def test_set_based_matching_splits_by_supplier_and_audits_each_order(
    ws: Workspace, tmp_path: Path
) -> None:
    drop(
        ws,
        tmp_path,
        "a.jsonl",
        [
            order("M1", ("SHOP-OAK", 1), ("SHOP-PINE", 1), ("SHOP-OAK", 2)),
            order("M2", ("SHOP-OAK", 1)),
            order("M3", ("SHOP-NEVER", 1)),
        ],
    )
    pull_channel(ws, "drop", None)
    sku_links.link(ws, "SHOP-OAK", "OAK-CHAIR-02", None)
    sku_links.link(ws, "SHOP-PINE", "PINE-BED-01", None)
    summary = match_waiting(ws, include_unmatched=False)
    assert (summary.matched, summary.waiting) == (3, 1)
    with ws.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(Order.id, Order.channel_reference, Order.status, Order.item_count).order_by(
                Order.id
            )
        ).all()
        lines = uow.session.execute(
            select(OrderLine.order_id, OrderLine.line_no, OrderLine.sku, OrderLine.title,
                   OrderLine.search_title)
            .order_by(OrderLine.order_id, OrderLine.line_no)
        ).all()  # fmt: skip
    (m1, ref1, status1, items1), (m2, _, status2, items2), (m3, _, status3, _), (split, ref, *_) = (
        rows
    )
    assert (ref1, status1, items1, status2, items2, status3) == (
        "M1",
        "queue",
        3,
        "queue",
        1,
        "matching",
    )
    assert ref == "M1"  # the pine line went to an order of its own
    assert [tuple(line) for line in lines] == [
        (m1, 1, "OAK-CHAIR-02", "Oak Dining Chair", "oak dining chair"),
        (m1, 2, "OAK-CHAIR-02", "Oak Dining Chair", "oak dining chair"),
        (m2, 1, "OAK-CHAIR-02", "Oak Dining Chair", "oak dining chair"),
        (m3, 1, None, "Thing", "thing"),
        (split, 1, "PINE-BED-01", "Pine bed", "pine bed"),
    ]
    assert [e[:3] for e in events(ws, m1)] == [
        ("created", None, "matching"),
        ("matched", "matching", "queue"),
    ]
    assert [e[:3] for e in events(ws, m2)] == [
        ("created", None, "matching"),
        ("matched", "matching", "queue"),
    ]
    assert [e[:3] for e in events(ws, m3)] == [("created", None, "matching")]
    assert [(e[0], e[1], e[2], json.loads(e[3] or "{}")) for e in events(ws, split)] == [
        ("created", None, "matching", {"split_from": m1}),
        ("matched", "matching", "queue", {"lines": 1}),
    ]


def test_a_failing_payment_in_a_batch_leaves_its_neighbours_paid(
    ws: Workspace, tmp_path: Path
) -> None:
    # Chairs are 35.50 + 20% VAT; shipping 4.99 + VAT. One chair: 48.59; twenty: 858.59.
    drop(
        ws,
        tmp_path,
        "a.jsonl",
        [
            order("P1", ("OAK-CHAIR-02", 1)),
            order("P2", ("OAK-CHAIR-02", 20)),
            order("P3", ("OAK-CHAIR-02", 1)),
            order("P4", ("OAK-CHAIR-02", 1), postcode="NOT A POSTCODE"),
        ],
    )
    pull_channel(ws, "drop", None)
    account.topup(ws, "100", None)
    outcomes = {o.reference: o for o in process_pending(ws)}
    assert {ref: (o.status, o.payment_status) for ref, o in outcomes.items()} == {
        "P1": ("open", "paid"),
        "P2": ("queue", "unpaid"),
        "P3": ("open", "paid"),
        "P4": ("held", "unpaid"),
    }
    assert outcomes["P2"].detail.startswith(
        "payment failed: balance 51.41 GBP is less than the order total 857.99 GBP"
    )
    with ws.uow(read_only=True) as uow:
        session = uow.session
        assert session.get_one(Account, 1).balance_pence == 10000 - 2 * 4859
        ledger = session.execute(
            select(
                LedgerEntry.kind, LedgerEntry.amount_pence, LedgerEntry.balance_after_pence
            ).order_by(LedgerEntry.id)
        ).all()
        assert [tuple(row) for row in ledger] == [
            ("topup", 10000, 10000),
            ("payment", -4859, 5141),
            ("payment", -4859, 282),
        ]
        ids = {ref: oid for ref, oid in session.execute(select(Order.channel_reference, Order.id))}
        p2 = session.get_one(Order, ids["P2"])
        assert (p2.total_pence, p2.number, p2.paid_at) == (85799, None, None)
        assert p2.payment_error is not None and "51.41 GBP" in p2.payment_error
        stock = session.execute(text("SELECT stock FROM products WHERE sku = 'OAK-CHAIR-02'"))
        assert stock.scalar() == 40 - 2
    assert [e[0] for e in events(ws, ids["P1"])] == [
        "created",
        "invoiced",
        "payment_taken",
        "passed_to_supplier",
    ]
    assert [e[0] for e in events(ws, ids["P2"])] == ["created", "payment_failed"]
    assert [e[:3] for e in events(ws, ids["P4"])][1] == ("held", "queue", "held")
    # Run again: the paid ones are not charged twice; P2 fails against the new balance (a
    # new event), and a third run, failing the same way, adds nothing to its audit.
    assert [o.reference for o in process_pending(ws)] == ["P2", "P4"]
    assert [o.reference for o in process_pending(ws)] == ["P2", "P4"]
    assert [e[0] for e in events(ws, ids["P2"])] == ["created", "payment_failed", "payment_failed"]
    assert [e[0] for e in events(ws, ids["P4"])] == ["created", "held"]


@pytest.fixture
def twin_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A second empty workspace of the same kind as db_url."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "twin" / "avasam.db"
        path.parent.mkdir()
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    pg = request.getfixturevalue("postgres_server")
    return new_pg_database(pg, request.getfixturevalue("pg_template"))


def test_a_batch_writes_what_one_order_at_a_time_writes(
    db_url: str, twin_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch path and the one-order path (what a failed batch falls back to) leave the
    same rows in every table, held orders, released ones and payment failures included."""

    def run(url: str, folder: Path, batched: bool) -> dict[str, list[tuple[Any, ...]]]:
        folder.mkdir()
        ws = _workspace(url, folder, monkeypatch)
        drop(ws, folder, "a.jsonl", [
            order("B1", ("OAK-CHAIR-02", 1), ("OAK-TABLE-01", 1)),
            order("B2", ("OAK-TABLE-01", 5)),  # out of stock once B1 has one
            order("B3", ("OAK-SHELF-03", 1)),  # none in stock
            order("B4", ("PINE-BED-01", 1), postcode="HS1 2AA"),
            order("B5", ("OAK-CHAIR-02", 30)),  # more than the balance
            order("B6", ("OAK-CHAIR-02", 2), ("PINE-BED-01", 1)),  # split by supplier
        ])  # fmt: skip
        pull_channel(ws, "drop", None)
        account.topup(ws, "400", None)
        with monkeypatch.context() as patch:
            if not batched:
                patch.setattr(processing, "process_batch", _broken)
            first = [vars(o) for o in process_pending(ws)]
            account.topup(ws, "2000", None)  # B5 can be paid now
            execute(url, "UPDATE products SET stock = 5 WHERE sku = 'OAK-SHELF-03'")  # B3 too
            second = [vars(o) for o in process_pending(ws)]
        ws.close()
        outcomes = [tuple(str(v) for v in o.values()) for o in first + second]
        return {"outcomes": outcomes, **snapshot(url)}

    batched = run(db_url, tmp_path / "batched", batched=True)
    one_by_one = run(twin_url, tmp_path / "single", batched=False)
    assert batched.keys() == one_by_one.keys()
    for key in batched:
        if key not in ("channels", "job_runs"):  # channels name their own folders
            assert batched[key] == one_by_one[key], key
    audited = {row[4] for row in batched["order_events"]}
    assert {"payment_failed", "held", "released", "passed_to_supplier"} <= audited


def _broken(*_args: Any) -> Any:
    raise RuntimeError("forced: process one order at a time")


def test_anything_dropped_is_what_a_pull_would_look_at(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    assert anything_dropped(str(folder))  # missing: the pull says so
    folder.mkdir()
    (folder / "processed").mkdir()
    (folder / "rejected").mkdir()
    (folder / ".orders.csv").write_text("")  # still being written
    (folder / "notes.txt").write_text("")
    assert not anything_dropped(str(folder))
    (folder / "a.JSONL").symlink_to(tmp_path / "elsewhere")  # reported by the pull
    assert anything_dropped(str(folder))
