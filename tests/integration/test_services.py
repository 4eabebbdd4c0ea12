"""The services called directly, as the command line calls them: a Workspace over a migrated
database of each kind, no option parsing, assertions on what the database then holds.
(In the shape of cosmicpython's tests/unit/test_services.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, func, select

from avasam_cli.core.config import Settings
from avasam_cli.core.models import Account, LedgerEntry, Order, OrderEvent, Supplier
from avasam_cli.core.services import account, catalogue, channels, sku_links
from avasam_cli.core.services.cancellation import cancel_orders
from avasam_cli.core.services.manual_orders import add_manual_order, build_manual_order
from avasam_cli.core.services.matching import match_waiting
from avasam_cli.core.services.processing import process_order, process_pending
from avasam_cli.core.services.product_import import import_products
from avasam_cli.core.services.pull import pull_channel
from avasam_cli.core.workspace import Workspace
from tests.helpers import PRODUCTS_CSV, execute, write

PINE_CSV = """ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate
PINE-1,PINE-BED-01,Pine bed,3,80.00,,20
"""


@pytest.fixture
def ws(db_url: str, tmp_path: Path) -> Iterator[Workspace]:
    """OAKCO (3 products, standard 4.99) and PINECO (1 product, standard 6.00)."""
    workspace = Workspace(Settings.resolve(db_url))
    for code, feed in (("OAKCO", PRODUCTS_CSV), ("PINECO", PINE_CSV)):
        catalogue.add_supplier(
            workspace, code, code.title(), international=False, exclude_postcodes="HS,ZE"
        )
        catalogue.set_shipping(
            workspace,
            code,
            "standard",
            price="4.99" if code == "OAKCO" else "6.00",
            vat="20",
            carrier=None,
        )
        import_products(workspace, write(tmp_path / f"{code}.csv", feed), code, skip_invalid=False)
    yield workspace
    workspace.close()


def manual(reference: str, item: str = "OAK-CHAIR-02:2", postcode: str = "SW1A 1AA") -> object:
    return build_manual_order(
        {
            "name": "Ann Lee",
            "address1": "1 High St",
            "city": "London",
            "postcode": postcode,
            "items": [item],
            "shipping_service": "standard",
            "reference": reference,
        }
    )


def balance_pence(ws: Workspace) -> int:
    with ws.uow(read_only=True) as uow:
        return uow.session.get_one(Account, 1).balance_pence


def ledger_total(ws: Workspace) -> int:
    with ws.uow(read_only=True) as uow:
        return int(
            uow.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_pence), 0))) or 0
        )


def orders_by_reference(ws: Workspace, reference: str) -> list[Row[Any]]:
    with ws.uow(read_only=True) as uow:
        return list(
            uow.session.execute(
                select(
                    Order.id, Order.number, Order.status, Order.payment_status, Order.payment_error
                )
                .where(Order.channel_reference == reference)
                .order_by(Order.id)
            )
        )


def test_a_paid_order_is_opened_and_charged_once(ws: Workspace) -> None:
    account.topup(ws, "100", None)
    [outcome] = add_manual_order(ws, manual("S1"))  # type: ignore[arg-type]
    assert (outcome.status, outcome.payment_status, outcome.total) == ("open", "paid", "91.19")
    assert balance_pence(ws) == 10000 - 9119
    assert list(process_pending(ws)) == []  # nothing left to charge
    assert balance_pence(ws) == 881 == ledger_total(ws)


def test_a_failed_payment_stays_queued_until_the_balance_can_pay(ws: Workspace) -> None:
    account.topup(ws, "50", None)
    [outcome] = add_manual_order(ws, manual("S1"))  # type: ignore[arg-type]
    assert (outcome.status, outcome.payment_status) == ("queue", "unpaid")
    [order] = orders_by_reference(ws, "S1")
    assert order.payment_error is not None and order.number is None
    assert balance_pence(ws) == 5000
    account.topup(ws, "50", None)
    [retried] = list(process_pending(ws))
    assert (retried.status, retried.payment_status) == ("open", "paid")
    assert balance_pence(ws) == 10000 - 9119 == ledger_total(ws)


def test_cancelling_refunds_once(ws: Workspace) -> None:
    account.topup(ws, "100", None)
    add_manual_order(ws, manual("S1"))  # type: ignore[arg-type]
    [first] = list(cancel_orders(ws, ["S1"], "price_error", None))
    assert first.ok and "refunded 91.19 GBP" in first.message
    [again] = list(cancel_orders(ws, ["S1"], "price_error", None))
    assert not again.ok and "already cancelled" in again.message
    [order] = orders_by_reference(ws, "S1")
    assert (order.status, order.payment_status) == ("cancelled", "refunded")
    assert balance_pence(ws) == 10000 == ledger_total(ws)


def _drop(ws: Workspace, tmp_path: Path, rows: str) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir(exist_ok=True)
    write(
        folder / "orders.csv",
        "order_id,placed_at,name,address1,city,postcode,shipping_method,sku,quantity\n" + rows,
    )
    return folder


def test_matching_splits_a_linked_order_per_supplier(ws: Workspace, tmp_path: Path) -> None:
    rows = (
        "C1,2026-11-28T10:00:00Z,Ann Lee,1 High St,London,SW1A 1AA,Std,SHOP-TABLE,1\n"
        "C1,2026-11-28T10:00:00Z,Ann Lee,1 High St,London,SW1A 1AA,Std,PINE-BED-01,1\n"
    )
    folder = _drop(ws, tmp_path, rows)
    channels.add_channel(ws, "drop", "file", {"path": str(folder)})
    channels.map_shipping(ws, "drop", "Std", "standard")
    summary = pull_channel(ws, "drop", None)
    assert (summary.new, summary.error) == (1, None)
    assert [o.status for o in orders_by_reference(ws, "C1")] == ["matching"]
    assert match_waiting(ws, include_unmatched=False).matched == 0  # still not linked
    sku_links.link(ws, "SHOP-TABLE", "OAK-TABLE-01", None)
    match_waiting(ws, include_unmatched=False)
    orders = orders_by_reference(ws, "C1")
    with ws.uow(read_only=True) as uow:
        suppliers = sorted(
            uow.session.scalars(
                select(Supplier.code)
                .join(Order, Order.supplier_id == Supplier.id)
                .where(Order.channel_reference == "C1")
            )
        )
        events = uow.session.scalar(
            select(func.count())
            .select_from(OrderEvent)
            .where(OrderEvent.order_id.in_([o.id for o in orders]))
        )
    assert suppliers == ["OAKCO", "PINECO"]
    assert [o.status for o in orders] == ["queue", "queue"]
    assert events and events >= 2  # every order's move is in its audit trail


def test_pulling_the_same_orders_again_adds_nothing(ws: Workspace, tmp_path: Path) -> None:
    rows = "".join(
        f"D{n},2026-11-28T10:00:00Z,Ann Lee,1 High St,London,SW1A 1AA,Std,OAK-CHAIR-02,1\n"
        for n in range(3)
    )
    folder = _drop(ws, tmp_path, rows)
    channels.add_channel(ws, "drop", "file", {"path": str(folder)})
    first = pull_channel(ws, "drop", None)
    assert first.new == 3
    (folder / "processed" / "orders.csv").rename(folder / "again.csv")
    second = pull_channel(ws, "drop", None)
    assert second.new == 0 and second.seen == 3
    with ws.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Order)) == 3


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite stores the absurd row
def test_one_broken_order_never_stops_the_queue(ws: Workspace, db_url: str) -> None:
    add_manual_order(ws, manual("BROKEN", item="OAK-CHAIR-02:1"))  # type: ignore[arg-type]
    add_manual_order(ws, manual("FINE", item="OAK-CHAIR-02:1"))  # type: ignore[arg-type]
    execute(db_url, "UPDATE order_lines SET quantity = 100000000000000000 WHERE order_id = 1")
    execute(db_url, "UPDATE products SET stock = 9223372036854775807 WHERE sku = 'OAK-CHAIR-02'")
    account.topup(ws, "100", None)
    outcomes = {o.reference: o for o in process_pending(ws)}
    assert outcomes["BROKEN"].detail.startswith("processing failed (OverflowError")
    assert (outcomes["FINE"].status, outcomes["FINE"].payment_status) == ("open", "paid")
    [broken] = orders_by_reference(ws, "BROKEN")
    assert (broken.status, broken.payment_status) == ("queue", "unpaid")
    assert broken.payment_error.startswith("processing failed (OverflowError")
    assert balance_pence(ws) == 10000 - 4859 == ledger_total(ws)


def _hold_state(ws: Workspace, reference: str) -> tuple[str, str | None, str | None]:
    with ws.uow(read_only=True) as uow:
        row = uow.session.execute(
            select(Order.status, Order.hold_reason, Order.hold_detail).where(
                Order.channel_reference == reference
            )
        ).one()
    return (row.status, row.hold_reason, row.hold_detail)


def test_both_processing_paths_hold_an_invalid_address_with_its_detail(
    ws: Workspace, db_url: str, tmp_path: Path
) -> None:
    """process_order (one order) and the batch set hold_detail alike and clear it on release."""
    rows = "".join(
        f"{ref},2026-11-28T10:00:00Z,Ann Lee,1 High St,,SW1A 1AA,Std,OAK-CHAIR-02,1\n"
        for ref in ("ONE", "BATCH")
    )
    folder = _drop(ws, tmp_path, rows)
    channels.add_channel(ws, "drop", "file", {"path": str(folder)})
    channels.map_shipping(ws, "drop", "Std", "standard")
    assert pull_channel(ws, "drop", None).new == 2
    account.topup(ws, "100", None)
    [one] = orders_by_reference(ws, "ONE")
    outcome = process_order(ws, one.id)
    assert outcome is not None and outcome.detail == "held: invalid_address"
    outcomes = {o.reference: o.detail for o in process_pending(ws)}
    assert outcomes == {"ONE": "held: invalid_address", "BATCH": "held: invalid_address"}
    held = ("held", "invalid_address", "city is missing")
    assert _hold_state(ws, "ONE") == held == _hold_state(ws, "BATCH")

    execute(db_url, "UPDATE orders SET city = 'London'")  # as a channel update would
    outcome = process_order(ws, one.id)
    assert outcome is not None and outcome.detail == "paid and passed to the supplier"
    outcomes = {o.reference: o.detail for o in process_pending(ws)}
    assert outcomes == {"BATCH": "paid and passed to the supplier"}
    assert _hold_state(ws, "ONE") == ("open", None, None) == _hold_state(ws, "BATCH")
