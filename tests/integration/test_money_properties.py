"""The money rules under random sequences of what sellers, suppliers and cron do (hypothesis):
top-ups, manual orders, processing, cancels, dispatches, supplier cancels and re-processing,
on SQLite and PostgreSQL. After every step the ledger sums to the balance, the balance is
never negative, and no order is paid or refunded more than once."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from avasam_cli.core.config import Settings
from avasam_cli.core.errors import AvasamError
from avasam_cli.core.models import Account, LedgerEntry, Order
from avasam_cli.core.services import account, catalogue
from avasam_cli.core.services.cancellation import cancel_orders
from avasam_cli.core.services.dispatch import dispatch_order, import_dispatches
from avasam_cli.core.services.manual_orders import add_manual_order, build_manual_order
from avasam_cli.core.services.processing import process_pending
from avasam_cli.core.services.product_import import import_products
from avasam_cli.core.workspace import Workspace
from tests.helpers import PRODUCTS_CSV, write
from tests.support import PostgresServer, new_pg_database

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("topup"), st.integers(1, 300)),
        st.tuples(
            st.just("add"), st.sampled_from(["OAK-CHAIR-02", "OAK-TABLE-01"]), st.integers(1, 3)
        ),
        st.tuples(st.just("process")),
        st.tuples(st.just("cancel"), st.integers(0, 20)),
        st.tuples(st.just("dispatch"), st.integers(0, 20)),
        st.tuples(st.just("supplier_cancel"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=14,
)


@contextmanager
def fresh_workspace(kind: str, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    """A new migrated database per example (hypothesis runs many in one test)."""
    folder = Path(tempfile.mkdtemp(prefix="avasam-money-"))
    if kind == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), folder / "money.db")
        url = f"sqlite:///{folder / 'money.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = new_pg_database(server, request.getfixturevalue("pg_template"))
    ws = Workspace(
        Settings.resolve(url, {"AVASAM_ACTOR": "hypothesis", "AVASAM_DATABASE_URL": url})
    )
    try:
        catalogue.add_supplier(ws, "OAKCO", "Oak", international=False, exclude_postcodes="")
        catalogue.set_shipping(ws, "OAKCO", "standard", price="4.99", vat="20", carrier=None)
        import_products(ws, write(folder / "feed.csv", PRODUCTS_CSV), "OAKCO", skip_invalid=False)
        yield ws
    finally:
        ws.close()
        shutil.rmtree(folder, ignore_errors=True)


def apply(ws: Workspace, action: tuple[object, ...], step: int, folder: Path) -> None:
    kind = action[0]
    references = _references(ws)
    try:
        if kind == "topup":
            account.topup(ws, str(action[1]), None)
        elif kind == "add":
            add_manual_order(
                ws,
                build_manual_order(
                    {
                        "name": "Ann Lee",
                        "address1": "1 High St",
                        "city": "London",
                        "postcode": "SW1A 1AA",
                        "items": [f"{action[1]}:{action[2]}"],
                        "shipping_service": "standard",
                        "reference": f"R{step}",
                    }
                ),
            )
        elif kind == "process":
            list(process_pending(ws))
        elif references and kind == "cancel":
            list(cancel_orders(ws, [_pick(references, action[1])], "price_error", None))
        elif references and kind == "dispatch":
            dispatch_order(ws, _pick(references, action[1]), f"T{step}", None)
        elif references and kind == "supplier_cancel":
            number = _number_of(ws, _pick(references, action[1]))
            if number:
                feed = write(
                    folder / f"d{step}.csv",
                    f"OrderNumber,Status,TrackingNumber,Carrier\n{number},CANCELLED,,\n",
                )
                list(import_dispatches(ws, feed))
    except AvasamError:
        pass  # refused (not allowed, not enough stock, ...): the rules below must still hold


def _references(ws: Workspace) -> list[str]:
    with ws.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Order.channel_reference).order_by(Order.id)))


def _pick(references: list[str], index: object) -> str:
    assert isinstance(index, int)
    return references[index % len(references)]


def _number_of(ws: Workspace, reference: str) -> str | None:
    with ws.uow(read_only=True) as uow:
        return uow.session.scalar(select(Order.number).where(Order.channel_reference == reference))


def check_the_money(ws: Workspace) -> None:
    with ws.uow(read_only=True) as uow:
        session = uow.session
        balance = session.get_one(Account, 1).balance_pence
        total = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_pence), 0)))
        assert balance == total, "the ledger does not sum to the balance"
        assert balance >= 0, "the balance went negative"
        entries: dict[tuple[int | None, str], int] = {}
        for order_id, kind in session.execute(
            select(LedgerEntry.order_id, LedgerEntry.kind).where(LedgerEntry.order_id.is_not(None))
        ):
            entries[(order_id, kind)] = entries.get((order_id, kind), 0) + 1
        for order in session.scalars(select(Order)):
            payments = entries.get((order.id, "payment"), 0)
            refunds = entries.get((order.id, "refund"), 0)
            if order.payment_status == "unpaid":
                assert (payments, refunds) == (0, 0), f"{order.channel_reference} unpaid"
            elif order.payment_status == "paid":
                assert (payments, refunds) == (1, 0), f"{order.channel_reference} paid"
            else:
                assert (payments, refunds) == (1, 1), f"{order.channel_reference} refunded"
                assert order.status == "cancelled"


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_money_is_never_lost_or_counted_twice(
    kind: str, actions: list[tuple[object, ...]], request: pytest.FixtureRequest
) -> None:
    with fresh_workspace(kind, request) as ws:
        folder = Path(tempfile.mkdtemp(prefix="avasam-feeds-"))
        try:
            for step, action in enumerate(actions):
                apply(ws, action, step, folder)
                check_the_money(ws)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("kind", ["sqlite"])
def test_the_checker_sees_paid_refunded_and_dispatched_orders(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A fixed sequence through every money path, so the property above is known to check
    payments and refunds rather than only empty workspaces."""
    steps: list[tuple[object, ...]] = [
        ("topup", 300),
        ("add", "OAK-CHAIR-02", 1),
        ("add", "OAK-CHAIR-02", 2),
        ("add", "OAK-TABLE-01", 1),
        ("cancel", 0),
        ("dispatch", 1),
        ("supplier_cancel", 2),
    ]
    with fresh_workspace(kind, request) as ws:
        for step, action in enumerate(steps):
            apply(ws, action, step, tmp_path)
            check_the_money(ws)
        with ws.uow(read_only=True) as uow:
            states = [
                tuple(row)
                for row in uow.session.execute(
                    select(Order.status, Order.payment_status).order_by(Order.id)
                )
            ]
    assert states == [("cancelled", "refunded"), ("dispatched", "paid"), ("cancelled", "refunded")]
