"""Cancel in every status, refunds and stock, bulk cancel, notes, tickets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import (
    add_order,
    add_waiting_order,
    execute,
    json_rows,
    set_up_catalogue,
    snapshot,
)
from tests.support import Cli


def order(cli: Cli, ident: str) -> dict:  # type: ignore[type-arg]
    return json.loads(cli.ok("orders", "show", ident, "-f", "json").stdout)  # type: ignore[no-any-return]


def balance(cli: Cli) -> str:
    return str(json.loads(cli.ok("account", "balance", "-f", "json").stdout)[0]["balance"])


def stock(cli: Cli, sku: str) -> int:
    return int(json.loads(cli.ok("products", "show", sku, "-f", "json").stdout)["stock"])


@pytest.fixture
def shop(cli: Cli, db_url: str, tmp_path: Path) -> Cli:
    set_up_catalogue(cli, tmp_path, balance="100")
    return cli


def test_cancel_an_open_order_refunds_and_releases_stock(shop: Cli, db_url: str) -> None:
    add_order(shop, reference="R1")
    assert (balance(shop), stock(shop, "OAK-CHAIR-02")) == ("8.81", 38)
    run = shop.ok("orders", "cancel", "R1", "--reason", "customer_changed_mind")
    assert run.stderr == (
        "Cancelled: order AV0000001 cancelled (customer_changed_mind); "
        "refunded 91.19 GBP to the balance.\n"
    )
    got = order(shop, "R1")
    assert (got["status"], got["payment_status"], got["cancel_reason"]) == (
        "cancelled",
        "refunded",
        "customer_changed_mind",
    )
    assert (balance(shop), stock(shop, "OAK-CHAIR-02")) == ("100.00", 40)
    ledger = json_rows(shop.ok("account", "ledger", "-f", "jsonl").stdout)
    assert [(e["kind"], e["amount"]) for e in ledger] == [
        ("topup", "100.00"),
        ("payment", "-91.19"),
        ("refund", "91.19"),
    ]
    events = [e["event"] for e in json_rows(shop.ok("orders", "audit", "R1", "-f", "jsonl").stdout)]
    assert events[-3:] == ["cancelled", "refunded", "stock_released"]


@pytest.mark.parametrize("status", ["matching", "unmatched", "held", "queue"])
def test_unpaid_orders_cancel_without_refund(shop: Cli, db_url: str, status: str) -> None:
    if status in ("matching", "unmatched"):
        add_waiting_order(db_url, "W1")
        if status == "unmatched":
            execute(db_url, "UPDATE orders SET status = 'unmatched'")
    elif status == "held":
        add_order(shop, postcode="HS1 2AB", reference="W1")
    else:
        add_order(shop, item="OAK-TABLE-01", reference="W1")  # too dear: stays queue
    assert order(shop, "W1")["status"] == status
    run = shop.ok("orders", "cancel", "W1", "--reason", "other", "--note", "test")
    assert run.stderr == "Cancelled: order W1 cancelled (other).\n"
    assert (order(shop, "W1")["status"], order(shop, "W1")["payment_status"]) == (
        "cancelled",
        "unpaid",
    )
    assert balance(shop) == "100.00"


def test_cancel_is_refused_once_the_supplier_has_it_or_it_shipped(shop: Cli, db_url: str) -> None:
    add_order(shop, reference="R1", item="OAK-CHAIR-02:1")
    add_order(shop, reference="R2", item="OAK-CHAIR-02:1")
    execute(db_url, "UPDATE orders SET received_by_supplier_at = placed_at WHERE id = 1")
    shop.ok("orders", "dispatch", "R2", "--tracking", "T2")
    before = snapshot(db_url)
    received = shop("orders", "cancel", "R1", "--reason", "customer_changed_mind")
    assert received.exit_code == 1
    assert received.stderr == (
        "Error: R1: order AV0000001 has already been received by the supplier; "
        "ask them to cancel it with `avasam tickets raise AV0000001`\n"
    )
    shipped = shop("orders", "cancel", "R2", "--reason", "customer_changed_mind")
    assert shipped.stderr == (
        "Error: R2: order AV0000002 has been dispatched and cannot be cancelled; to arrange a "
        "return run `avasam tickets raise AV0000002 --kind return`\n"
    )
    assert snapshot(db_url) == before


def test_cancelling_twice_and_bad_reasons(shop: Cli, db_url: str) -> None:
    add_order(shop, reference="R1", item="OAK-CHAIR-02:1")
    shop.ok("orders", "cancel", "R1", "--reason", "price_error")
    before = snapshot(db_url)
    again = shop("orders", "cancel", "R1", "--reason", "price_error")
    assert again.stderr == "Error: R1: order AV0000001 is already cancelled\n"
    bad = shop("orders", "cancel", "R1", "--reason", "bored")
    assert bad.exit_code == 2  # a usage error: --reason is a choice
    assert (
        "Error: Invalid value for '--reason': 'bored' is not one of 'customer_changed_mind'"
        in bad.stderr
    )
    other = shop("orders", "cancel", "R1", "--reason", "other")
    assert other.stderr == "Error: reason other needs a --note saying why\n"
    assert snapshot(db_url) == before


def test_bulk_cancel_goes_on_past_a_bad_order(shop: Cli) -> None:
    for ref in ("R1", "R2"):
        add_order(shop, reference=ref, item="OAK-CHAIR-02:1")
    run = shop("orders", "cancel", "R1", "NOPE", "R2", "--reason", "duplicate_order", "--yes")
    assert run.exit_code == 1
    assert run.stderr.splitlines() == [
        "Cancelled: order AV0000001 cancelled (duplicate_order); refunded 48.59 GBP to the balance.",
        "Error: NOPE: no order 'NOPE' (tried order number, id and reference); find it with "
        "`avasam orders list --search`",
        "Cancelled: order AV0000002 cancelled (duplicate_order); refunded 48.59 GBP to the balance.",
    ]
    assert balance(shop) == "100.00"


def test_a_person_at_a_terminal_is_asked_first(
    shop: Cli, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import avasam_cli.commands.orders as orders_command

    add_order(shop, reference="R1", item="OAK-CHAIR-02:1")
    monkeypatch.setattr(orders_command, "_interactive", lambda: True)
    before = snapshot(db_url)
    run = shop("orders", "cancel", "R1", "--reason", "price_error", input="n\n")
    assert run.exit_code == 1
    assert "Cancel 1 order(s) (price_error)? [y/N]" in run.stderr
    assert snapshot(db_url) == before
    shop.ok("orders", "cancel", "R1", "--reason", "price_error", input="y\n")
    assert order(shop, "R1")["status"] == "cancelled"


def test_notes(shop: Cli) -> None:
    add_order(shop, reference="R1", item="OAK-CHAIR-02:1")
    assert shop.ok("orders", "note", "R1", "Customer wants a morning slot").stderr == (
        "Note added to order AV0000001.\n"
    )
    assert [n["text"] for n in order(shop, "R1")["notes"]] == ["Customer wants a morning slot"]
    audit = json_rows(shop.ok("orders", "audit", "R1", "-f", "jsonl").stdout)
    assert audit[-1]["event"] == "note_added"
    assert audit[-1]["details"] == "note=Customer wants a morning slot"
    assert json_rows(shop.ok("orders", "list", "-f", "jsonl").stdout)[0]["has_notes"] is True
    empty = shop("orders", "note", "R1", "  ")
    assert (empty.exit_code, empty.stderr) == (1, "Error: a note cannot be empty\n")


def test_ticket_lifecycle_cancels_a_received_order(shop: Cli, db_url: str) -> None:
    add_order(shop, reference="R1")
    execute(db_url, "UPDATE orders SET received_by_supplier_at = placed_at")
    raised = shop.ok("tickets", "raise", "R1", "--message", "Customer cancelled, please stop it")
    assert raised.stdout == "1\n"
    shop.ok("tickets", "reply", "1", "--message", "Supplier: stopped before packing")
    assert [
        t["status"]
        for t in json_rows(shop.ok("tickets", "list", "--status", "open", "-f", "jsonl").stdout)
    ] == ["open"]
    shown = json.loads(shop.ok("tickets", "show", "1", "-f", "json").stdout)
    assert [m["text"] for m in shown["messages"]] == [
        "Customer cancelled, please stop it",
        "Supplier: stopped before packing",
    ]
    closed = shop.ok("tickets", "close", "1", "--cancel-order", "--reason", "customer_changed_mind")
    assert closed.stderr == "Closed ticket 1; order AV0000001 is cancelled.\n"
    assert (order(shop, "R1")["status"], order(shop, "R1")["payment_status"]) == (
        "cancelled",
        "refunded",
    )
    assert balance(shop) == "100.00"
    events = [e["event"] for e in json_rows(shop.ok("orders", "audit", "R1", "-f", "jsonl").stdout)]
    assert events[-6:] == [
        "ticket_raised",
        "ticket_reply",
        "cancelled",
        "refunded",
        "stock_released",
        "ticket_closed",
    ]
    assert shop.ok("tickets", "list", "--status", "open", "-f", "json").stdout == "[]\n"
    again = shop("tickets", "reply", "1", "--message", "hello?")
    assert (
        again.stderr
        == "Error: ticket 1 is closed; raise a new one with `avasam tickets raise ORDER`\n"
    )


def test_ticket_close_cannot_cancel_a_dispatched_order(shop: Cli, db_url: str) -> None:
    add_order(shop, reference="R1", item="OAK-CHAIR-02:1")
    shop.ok("orders", "dispatch", "R1", "--tracking", "T1")
    shop.ok("tickets", "raise", "R1", "--message", "Return please", "--kind", "return")
    before = snapshot(db_url)
    run = shop("tickets", "close", "1", "--cancel-order", "--reason", "customer_changed_mind")
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: order AV0000001 is dispatched and cannot be cancelled; "
        "close the ticket without --cancel-order\n"
    )
    assert snapshot(db_url) == before
    missing = shop("tickets", "show", "99")
    assert missing.stderr == "Error: no ticket 99; see `avasam tickets list`\n"
