"""Issue 13: dispatches and cancels go back to the sales channels, exactly once, through
real HTTP servers on loopback (Shopify GraphQL, WooCommerce REST) and a confirmations file."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.channel_api import FakeShop, Fault, shop_with_credentials, shopify_order
from tests.helpers import add_order, json_rows, set_up_catalogue, write
from tests.support import Cli


@pytest.fixture
def shopify(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeShop]:
    with shop_with_credentials(monkeypatch, "shopify", 3) as shop:
        yield shop


@pytest.fixture
def woo(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeShop]:
    with shop_with_credentials(monkeypatch, "woocommerce", 2) as shop:
        yield shop


def add_shopify(cli: Cli, shop: FakeShop, *extra: str) -> None:
    cli.ok(
        "channels", "add", "shop", "--type", "shopify", "--url", shop.url,
        "--allow-loopback-http", "--token-env", "SHOP_TOKEN", *extra,
    )  # fmt: skip
    cli.ok("channels", "map-shipping", "shop", "Standard", "standard")


def add_woo(cli: Cli, shop: FakeShop) -> None:
    cli.ok(
        "channels", "add", "woo", "--type", "woocommerce", "--url", shop.url,
        "--allow-loopback-http", "--key-env", "WOO_KEY", "--secret-env", "WOO_SECRET",
    )  # fmt: skip
    cli.ok("channels", "map-shipping", "woo", "Flat rate", "standard")


def shopify_orders_open(cli: Cli, tmp_path: Path, shop: FakeShop, *extra: str) -> None:
    """The shop's orders pulled and processed: open, with the supplier, to dispatch."""
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shop, *extra)
    cli.ok("channels", "pull", "shop")
    cli.ok("orders", "process")


def pushed(cli: Cli, *args: str) -> list[dict[str, object]]:
    return json_rows(cli.ok("channels", "push", *args, "-f", "jsonl").stdout)


def events(cli: Cli, order: str) -> list[dict[str, object]]:
    return json_rows(cli.ok("orders", "audit", order, "-f", "jsonl").stdout)


def test_a_dispatch_fulfils_the_shopify_order_once_with_its_tracking(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    shopify_orders_open(cli, tmp_path, shopify)
    cli.ok("orders", "dispatch", "#1002", "--tracking", "RM123456785GB", "--carrier", "Royal Mail")
    assert shopify.mutations == []  # nothing is sent inside the dispatch
    rows = pushed(cli)
    assert [(r["order"], r["update"], r["result"]) for r in rows] == [
        (rows[0]["order"], "dispatch", "sent")
    ]
    gid = shopify.orders[1]["id"]
    assert shopify.mutations == [f"fulfil {gid}: RM123456785GB"]
    [fulfillment] = shopify.fulfillments[gid]
    assert fulfillment["trackingInfo"] == [{"number": "RM123456785GB", "company": "Royal Mail"}]
    assert fulfillment["notifyCustomer"] is True
    assert pushed(cli) == []  # nothing due: nothing sent
    assert len(shopify.mutations) == 1
    last = events(cli, "#1002")[-1]
    assert last["event"] == "channel_updated"
    assert "tracking=RM123456785GB" in str(last["details"])
    [sync] = json.loads(cli.ok("orders", "show", "#1002", "-f", "json").stdout)["channel_sync"]
    assert (sync["update"], sync["status"], sync["error"]) == ("dispatch", "sent", None)
    assert sync["sent_at"]
    listed = json_rows(cli.ok("channels", "updates", "shop", "-f", "jsonl").stdout)
    assert [(u["update"], u["status"]) for u in listed] == [("dispatch", "sent")]
    assert "shpat_secret_token" not in json.dumps(listed)


def test_a_push_killed_after_shopify_took_the_fulfilment_does_not_fulfil_twice(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    shopify_orders_open(cli, tmp_path, shopify)
    cli.ok("orders", "dispatch", "#1001", "--tracking", "T-1")
    shopify.hold_reply_on = len(shopify.requests) + 2  # the state query, then the mutation
    proc = subprocess.Popen(
        [sys.executable, "-m", "avasam_cli", "channels", "push"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert shopify.blocked.wait(60), proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    shopify.release.set()
    assert len(shopify.mutations) == 1  # Shopify has the fulfilment; we never heard back
    rows = pushed(cli)
    assert [(r["result"], r["detail"]) for r in rows] == [
        ("sent", "already fulfilled with tracking T-1")
    ]
    assert len(shopify.mutations) == 1
    assert len(shopify.fulfillments[shopify.orders[0]["id"]]) == 1


def test_a_cancel_cancels_the_shopify_order_and_a_channel_cancel_is_not_sent_back(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify, "--no-notify-customer")
    cli.ok("channels", "pull", "shop")
    cli.ok("orders", "process")
    cli.ok("orders", "cancel", "#1003", "--reason", "out_of_stock")
    shopify.orders[0] = shopify_order(1, cancelled=True, updated="2026-11-28T13:00:00Z")
    cli.ok("channels", "pull", "shop")  # #1001 cancelled on Shopify: nothing to tell it
    rows = pushed(cli)
    assert [(r["update"], r["result"]) for r in rows] == [("cancel", "sent")]
    assert shopify.mutations == [f"cancel {shopify.orders[2]['id']}: INVENTORY"]
    assert pushed(cli) == []


def test_woocommerce_is_completed_with_a_tracking_note_and_cancelled(
    cli: Cli, db_url: str, tmp_path: Path, woo: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    add_woo(cli, woo)
    cli.ok("channels", "pull", "woo")
    cli.ok("orders", "process")
    cli.ok("orders", "dispatch", "701", "--tracking", "TRK-9", "--carrier", "DPD")
    cli.ok("orders", "cancel", "702", "--reason", "customer_changed_mind")
    rows = pushed(cli)
    assert sorted((r["update"], r["result"]) for r in rows) == [
        ("cancel", "sent"),
        ("dispatch", "sent"),
    ]
    assert woo.mutations == [
        "status 701: completed",
        "note 701: Dispatched with DPD, tracking TRK-9",
        "status 702: cancelled",
    ]
    assert woo.notes["701"][0]["customer_note"] is True
    assert pushed(cli) == []
    assert len(woo.mutations) == 3


def test_a_file_channel_gets_one_confirmations_file(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    rows = "".join(
        f'{{"order_id": "F-{n}", "name": "Ann Lee", "address1": "1 St", "city": "Hull", '
        f'"postcode": "HU1 1AA", "shipping_method": "standard", "placed_at": '
        f'"2026-11-28T10:00:00Z", "lines": [{{"sku": "OAK-CHAIR-02", "quantity": 1}}]}}\n'
        for n in (1, 2)
    )
    write(drop / "orders.jsonl", rows)
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(drop))
    cli.ok("channels", "map-shipping", "drop", "standard", "standard")
    cli.ok("channels", "pull", "drop")
    cli.ok("orders", "process")
    cli.ok("orders", "dispatch", "F-1", "--tracking", "=T1", "--carrier", "Evri")
    cli.ok("orders", "cancel", "F-2", "--reason", "customer_changed_mind")
    assert [r["result"] for r in pushed(cli)] == ["sent", "sent"]
    [written] = (drop / "confirmations").iterdir()
    with open(written, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["order_id", "status", "carrier", "tracking_number", "at"]
    assert [line[:4] for line in lines[1:]] == [
        ["F-1", "dispatched", "Evri", "'=T1"],  # a formula-looking value is defused
        ["F-2", "cancelled", "", ""],
    ]
    assert pushed(cli) == []
    assert len(list((drop / "confirmations").iterdir())) == 1


def test_a_dead_channel_keeps_its_updates_and_the_others_are_sent(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop, woo: FakeShop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("AVASAM_HTTP_TIMEOUT", "0.5")
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    add_woo(cli, woo)
    cli.ok("channels", "pull", "--all")
    cli.ok("orders", "process")
    cli.ok("orders", "dispatch", "#1001", "--tracking", "S-1")
    cli.ok("orders", "dispatch", "701", "--tracking", "W-1")
    add_order(cli, reference="BY-HAND")  # a manual order: no channel to tell
    cli.ok("orders", "dispatch", "BY-HAND", "--tracking", "M-1")
    shopify.faults.extend([Fault(503, b'{"errors": "unavailable"}') for _ in range(8)])
    run = cli("channels", "push", "-f", "jsonl")
    assert run.exit_code == 1
    assert [line for line in run.stderr.splitlines() if line.startswith("Error:")] == [
        f"Error: shop: order {json_rows(run.stdout)[0]['order']} (dispatch): will retry: "
        f"{shopify.url}/admin/api/2026-10/graphql.json answered HTTP 503 Service Unavailable"
    ]
    results = {r["channel"]: r["result"] for r in json_rows(run.stdout)}
    assert results == {"shop": "will retry", "woo": "sent"}
    pending = json_rows(cli.ok("channels", "updates", "--status", "pending", "-f", "jsonl").stdout)
    assert [(u["channel"], u["attempts"]) for u in pending] == [("shop", 1)]
    assert "M-1" not in cli.ok("channels", "updates").stdout


def test_a_refused_token_fails_at_once_naming_the_scopes_and_retry_queues_it_again(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    shopify_orders_open(cli, tmp_path, shopify)
    cli.ok("orders", "dispatch", "#1001", "--tracking", "T-9")
    shopify.faults.append(Fault(403, b'{"errors": "[API] This action requires merchant approval"}'))
    run = cli("channels", "push")
    assert run.exit_code == 1
    assert "write_merchant_managed_fulfillment_orders" in run.stderr
    assert "shpat_secret_token" not in run.stderr + run.stdout
    [failed] = json_rows(cli.ok("channels", "updates", "--status", "failed", "-f", "jsonl").stdout)
    assert failed["attempts"] == 1 and "HTTP 403" in str(failed["error"])
    assert shopify.mutations == []
    assert cli.ok("channels", "retry", "--all-failed").stderr.startswith("Queued 1 ")
    assert [r["result"] for r in pushed(cli)] == ["sent"]
    assert shopify.mutations == [f"fulfil {shopify.orders[0]['id']}: T-9"]


def test_a_shopify_refusal_is_reported_not_retried(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    shopify_orders_open(cli, tmp_path, shopify)
    cli.ok("orders", "dispatch", "#1001", "--tracking", "T-1")
    gid = shopify.orders[0]["id"]
    shopify.fulfillments[gid] = [{"id": "gid://shopify/Fulfillment/1", "trackingInfo": []}]
    shopify.remaining[gid] = [0]
    run = cli("channels", "push", "-f", "jsonl")  # fulfilled on Shopify another way, untracked
    assert run.exit_code == 1
    [row] = json_rows(run.stdout)
    assert row["result"] == "failed"
    assert "cannot be fulfilled on Shopify: its fulfillment orders are" not in str(row["detail"])
    assert "no open fulfillment order" in str(row["detail"])
    assert shopify.mutations == []
    assert pushed(cli) == []  # failed updates are not sent again until retried


def test_woocommerce_errors_and_timeouts_are_retried_on_a_later_run(
    cli: Cli, db_url: str, tmp_path: Path, woo: FakeShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVASAM_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("AVASAM_NOW", "2026-11-30T10:00:00+00:00")
    set_up_catalogue(cli, tmp_path)
    add_woo(cli, woo)
    cli.ok("channels", "pull", "woo")
    cli.ok("orders", "process")
    cli.ok("orders", "dispatch", "701", "--tracking", "TRK-1")
    woo.faults.extend([Fault(500), Fault(500), Fault(500), Fault(200, b"{}", delay=1.5)])
    run = cli("channels", "push", "-f", "jsonl")
    assert run.exit_code == 1
    assert [r["result"] for r in json_rows(run.stdout)] == ["will retry"]
    assert "could not be reached" in run.stderr
    assert pushed(cli) == []  # not due again until the backoff has passed
    monkeypatch.setenv("AVASAM_NOW", "2026-11-30T10:06:00+00:00")
    assert [r["result"] for r in pushed(cli)] == ["sent"]
    assert woo.mutations == [
        "status 701: completed",
        "note 701: Dispatched with the carrier, tracking TRK-1",
    ]


def test_a_throttled_state_query_waits_and_the_update_is_sent(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    from tests.fakes.channel_api import throttled

    shopify_orders_open(cli, tmp_path, shopify)
    cli.ok("orders", "dispatch", "#1003", "--tracking", "T-3")
    shopify.faults.append(throttled(requested=60, available=50, rate=100.0))
    assert [r["result"] for r in pushed(cli)] == ["sent"]
    assert shopify.mutations == [f"fulfil {shopify.orders[2]['id']}: T-3"]


def test_status_names_a_channel_whose_update_has_failed_for_over_an_hour(
    cli: Cli, db_url: str, tmp_path: Path, woo: FakeShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVASAM_NOW", "2026-11-30T10:00:00+00:00")
    set_up_catalogue(cli, tmp_path)
    add_woo(cli, woo)
    cli.ok("channels", "pull", "woo")
    cli.ok("orders", "process")
    cli.ok("orders", "dispatch", "701", "--tracking", "TRK-1")
    before = json.loads(cli.ok("status", "-f", "json").stdout)
    assert before["channel_updates"] == {"pending": 1, "failed": 0}
    woo.faults.extend([Fault(500)] * 4)
    assert cli("channels", "push").exit_code == 1
    monkeypatch.setenv("AVASAM_NOW", "2026-11-30T10:59:00+00:00")
    report = json.loads(cli("status", "-f", "json").stdout)
    assert report["attention"]["channels_failing_updates"] == []
    assert report["attention"]["failed_jobs"] == ["push"]  # the last push failed
    monkeypatch.setenv("AVASAM_NOW", "2026-11-30T11:01:00+00:00")
    run = cli("status", "-f", "json")
    assert run.exit_code == 1
    assert json.loads(run.stdout)["attention"]["channels_failing_updates"] == ["woo"]
    assert [r["result"] for r in pushed(cli)] == ["sent"]  # due again: the server is back
    assert cli.ok("status", "-f", "json").exit_code == 0


def test_a_usererror_from_shopify_fails_the_update_with_its_message(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    shopify_orders_open(cli, tmp_path, shopify)
    cli.ok("orders", "dispatch", "#1002", "--tracking", "BAD-123")
    run = cli("channels", "push", "-f", "jsonl")
    assert run.exit_code == 1
    [row] = json_rows(run.stdout)
    assert (row["result"], row["detail"]) == (
        "failed",
        "Shopify refused it: Tracking number is invalid for the carrier.",
    )
    assert shopify.mutations == []
    [sync] = json.loads(cli.ok("orders", "show", "#1002", "-f", "json").stdout)["channel_sync"]
    assert (sync["status"], sync["attempts"]) == ("failed", 1)
    assert sync["error"] == "Shopify refused it: Tracking number is invalid for the carrier."


def test_a_channel_order_split_between_suppliers_is_fulfilled_part_by_part(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    cli.ok("suppliers", "add", "PINECO", "--name", "Pine Co")
    cli.ok("suppliers", "shipping", "PINECO", "standard", "--price", "3.99", "--vat", "20")
    feed = "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\n"
    feed += "PIN-1,PINE-BED-01,Pine bed,10,80.00,129.99,20\n"
    cli.ok("products", "import", str(write(tmp_path / "pine.csv", feed)), "--supplier", "PINECO")
    both = shopify_order(9, updated="2026-11-28T11:00:00Z", qty=2)
    chair = both["lineItems"]["nodes"][0]
    both["lineItems"]["nodes"].append({**chair, "sku": "PINE-BED-01", "quantity": 1})
    shopify.orders.append(both)
    add_shopify(cli, shopify)
    cli.ok("channels", "pull", "shop")
    cli.ok("orders", "process")
    parts = json.loads(cli.ok("orders", "list", "--search", "#1009", "-f", "json").stdout)
    assert sorted(p["supplier"] for p in parts) == ["OAKCO", "PINECO"]
    for part in parts:
        cli.ok("orders", "dispatch", part["number"], "--tracking", f"T-{part['supplier']}")
    assert [r["result"] for r in pushed(cli)] == ["sent", "sent"]
    done = shopify.fulfillments[both["id"]]
    assert sorted((f["trackingInfo"][0]["number"], f["lines"]) for f in done) == [
        ("T-OAKCO", [(0, 2)]),  # the two chairs with Oak & Co's tracking
        ("T-PINECO", [(1, 1)]),  # the bed with Pine Co's
    ]
    assert pushed(cli) == []


def test_a_disabled_channel_keeps_its_updates_until_named(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    shopify_orders_open(cli, tmp_path, shopify)
    cli.ok("orders", "dispatch", "#1001", "--tracking", "T-1")
    cli.ok("channels", "disable", "shop")
    assert pushed(cli) == []
    assert shopify.mutations == []
    assert [r["result"] for r in pushed(cli, "shop")] == ["sent"]


@pytest.mark.parametrize("token", ["shpat_secret_token\n", "shpat_secret_tökén"])
def test_a_token_that_cannot_travel_in_a_header_is_refused_unechoed(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop, monkeypatch: pytest.MonkeyPatch,
    token: str,
) -> None:  # fmt: skip
    shopify_orders_open(cli, tmp_path, shopify)
    cli.ok("orders", "dispatch", "#1001", "--tracking", "T-1")
    monkeypatch.setenv("SHOP_TOKEN", token)
    run = cli("channels", "push")
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: shop: Shopify token: environment variable SHOP_TOKEN holds a space, a line "
        "break or a non-ASCII character; set it to the token alone\n"
    )
    status = cli("status", "-f", "json")
    assert "shpat" not in run.stdout + status.stdout + status.stderr
    assert [
        u["status"] for u in json_rows(cli.ok("channels", "updates", "-f", "jsonl").stdout)
    ] == ["pending"]


def test_a_shops_message_stays_on_one_line(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    shopify_orders_open(cli, tmp_path, shopify)
    cli.ok("orders", "dispatch", "#1001", "--tracking", "T-1")
    forged = {"errors": [{"message": "no\nError: forged line\x1b[31m\x07"}]}
    shopify.faults.append(Fault(200, json.dumps(forged).encode()))
    run = cli("channels", "push", "--dry-run")
    assert run.exit_code == 0 and shopify.mutations == []  # a rehearsal sends nothing ...
    jobs = {j["job"]: j for j in json.loads(cli("status", "-f", "json").stdout)["jobs"]}
    assert jobs["push"]["outcome"] == "never run"  # ... and leaves no job run behind
    run = cli("channels", "push")
    errors = run.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error: shop: order ")
    assert "\\nError: forged line\\x1b[31m\\x07" in errors[0]
