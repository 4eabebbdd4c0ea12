"""Shopify and WooCommerce pulls against real HTTP servers on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from avasam_cli.core.channels.shopify import API_VERSION as SHOPIFY_VERSION
from tests.fakes.channel_api import (
    FakeShop,
    Fault,
    shop_with_credentials,
    shopify_order,
    throttled,
    woocommerce_order,
)
from tests.helpers import json_rows, set_up_catalogue, snapshot
from tests.support import Cli


@pytest.fixture
def shopify(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeShop]:
    with shop_with_credentials(monkeypatch, "shopify", 5) as shop:
        yield shop


@pytest.fixture
def woo(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeShop]:
    with shop_with_credentials(monkeypatch, "woocommerce", 3) as shop:
        yield shop


def add_shopify(cli: Cli, shop: FakeShop, name: str = "shop") -> None:
    cli.ok(
        "channels",
        "add",
        name,
        "--type",
        "shopify",
        "--url",
        shop.url,
        "--allow-loopback-http",
        "--token-env",
        "SHOP_TOKEN",
    )
    cli.ok("channels", "map-shipping", name, "Standard", "standard")


def pulled(run_stdout: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {row["channel"]: row for row in json_rows(run_stdout)}


def test_shopify_pull_pages_and_is_idempotent(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    first = pulled(cli.ok("channels", "pull", "shop", "-f", "jsonl").stdout)["shop"]
    assert (first["new"], first["matched"], first["skipped"]) == (5, 5, 0)
    assert len(shopify.requests) == 3  # pages of 2, 2, 1 following pageInfo.endCursor
    assert set(shopify.requests) == {f"/admin/api/{SHOPIFY_VERSION}/graphql.json"}
    first_page, second_page = (body["variables"] for body in shopify.bodies[:2])
    assert (first_page["query"], first_page["after"]) == (None, None)
    assert second_page["after"] and second_page["query"] is None  # same query, next page
    assert "sortKey: UPDATED_AT" in shopify.bodies[0]["query"]
    for _ in range(2):
        again = pulled(cli.ok("channels", "pull", "shop", "-f", "jsonl").stdout)["shop"]
        assert (again["new"], again["updated"]) == (0, 0)
    assert shopify.bodies[3]["variables"]["query"] == "updated_at:>='2026-11-28T10:05:00Z'"
    assert cli.ok("orders", "list", "--count").stdout == "5\n"
    order = json.loads(cli.ok("orders", "show", "#1003", "-f", "json").stdout)
    assert order["delivery"]["name"] == "Ann Lee"
    assert order["shipping_service"] == "standard"
    assert order["items"][0]["sku"] == "OAK-CHAIR-02"
    assert cli.ok("channels", "show", "shop", "-f", "json").stdout.count("SHOP_TOKEN") == 1


def test_a_cancel_upstream_cancels_ours_and_is_audited(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    cli.ok("channels", "pull", "shop")
    shopify.orders[1] = shopify_order(2, cancelled=True, updated="2026-11-28T13:00:00Z")
    run = pulled(cli.ok("channels", "pull", "shop", "-f", "jsonl").stdout)["shop"]
    assert (run["updated"], run["new"]) == (1, 0)
    order = json.loads(cli.ok("orders", "show", "#1002", "-f", "json").stdout)
    assert (order["status"], order["cancel_reason"]) == ("cancelled", "channel_cancelled")
    events = [
        e["event"] for e in json_rows(cli.ok("orders", "audit", "#1002", "-f", "jsonl").stdout)
    ]
    assert events == ["created", "cancelled"]


def test_a_cancel_upstream_after_the_supplier_has_it_is_reported(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    cli.ok("channels", "pull", "shop")
    cli.ok("orders", "process")
    cli.ok("orders", "dispatch", "#1002", "--tracking", "T1")
    shopify.orders[1] = shopify_order(2, cancelled=True, updated="2026-11-28T13:00:00Z")
    run = cli("channels", "pull", "shop")
    assert run.exit_code == 1
    assert "Error: shop: order #1002: cancelled on the channel but order AV" in run.stderr
    order = json.loads(cli.ok("orders", "show", "#1002", "-f", "json").stdout)
    assert order["status"] == "dispatched"
    events = [
        e["event"] for e in json_rows(cli.ok("orders", "audit", "#1002", "-f", "jsonl").stdout)
    ]
    assert events[-1] == "channel_cancel_refused"


def test_429_is_honoured_and_retried(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    shopify.faults.append(
        Fault(429, b'{"errors": "Exceeded 2 calls per second"}', {"Retry-After": "0.05"})
    )
    run = pulled(cli.ok("channels", "pull", "shop", "-f", "jsonl").stdout)["shop"]
    assert run["new"] == 5
    assert len(shopify.requests) == 4  # the refused request, then three pages


def test_a_throttled_answer_waits_for_the_bucket_and_asks_again(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    shopify.faults.append(throttled(requested=60, available=50, rate=100.0))  # 0.1 s short
    run = pulled(cli.ok("channels", "pull", "shop", "-f", "jsonl").stdout)["shop"]
    assert run["new"] == 5
    assert len(shopify.requests) == 4
    assert shopify.bodies[0] == shopify.bodies[1]  # the same page asked again, not skipped


def test_a_missing_scope_is_named(cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop) -> None:
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    denied = {
        "errors": [
            {
                "message": "Access denied for orders field.",
                "extensions": {
                    "code": "ACCESS_DENIED",
                    "requiredAccess": "`read_orders` access scope.",
                },
            }
        ],
        "data": None,
    }
    shopify.faults.append(Fault(200, json.dumps(denied).encode()))
    run = cli("channels", "pull", "shop")
    assert run.exit_code == 1
    assert run.stderr.splitlines()[-1] == (
        f"Error: shop: {shopify.url}/admin/api/{SHOPIFY_VERSION}/graphql.json: access denied: "
        "the app's token needs `read_orders` access scope. (give the custom app that scope "
        "in the shop's admin, then reinstall it)"
    )
    assert "shpat_secret_token" not in run.stderr


def test_an_order_with_many_lines_is_pulled_whole(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    big = shopify_order(9, updated="2026-11-28T11:00:00Z")
    line = big["lineItems"]["nodes"][0]
    big["lineItems"]["nodes"] = [{**line, "title": f"Chair {n}"} for n in range(130)]
    shopify.orders.append(big)
    add_shopify(cli, shopify)
    cli.ok("channels", "pull", "shop")
    order = json.loads(cli.ok("orders", "show", "#1009", "-f", "json").stdout)
    assert len(order["items"]) == 130
    lines_asked = [b for b in shopify.bodies if "order(id:" in b["query"]]
    assert [b["variables"]["id"] for b in lines_asked] == [big["id"]] * 2  # 20, +100, +10


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(500), "answered HTTP 500"),
        (Fault(200, b"<html>maintenance</html>"), "sent a body that is not JSON"),
        (Fault(200, b"{}", delay=1.5), "could not be reached"),
        (
            Fault(401, b'{"errors": "no"}'),
            "answered HTTP 401 Unauthorized; check the channel's credentials",
        ),
    ],
)
def test_a_failing_channel_is_one_error_and_the_others_still_pull(
    cli: Cli,
    db_url: str,
    tmp_path: Path,
    shopify: FakeShop,
    woo: FakeShop,
    monkeypatch: pytest.MonkeyPatch,
    fault: Fault,
    message: str,
) -> None:
    monkeypatch.setenv("AVASAM_HTTP_TIMEOUT", "0.5")
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    cli.ok(
        "channels",
        "add",
        "woo",
        "--type",
        "woocommerce",
        "--url",
        woo.url,
        "--allow-loopback-http",
        "--key-env",
        "WOO_KEY",
        "--secret-env",
        "WOO_SECRET",
    )
    shopify.faults.extend([fault] * (1 if fault.status == 401 else 4))
    run = cli("channels", "pull", "--all", "-f", "jsonl")
    assert run.exit_code == 1
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: shop: {shopify.url}/admin/api/")
    assert message in errors[0]
    assert "shpat_secret_token" not in run.stderr + run.stdout
    rows = pulled(run.stdout)
    assert rows["shop"]["result"] == "failed"
    assert (rows["woo"]["new"], rows["woo"]["result"]) == (3, "ok")


def test_woocommerce_pull(cli: Cli, db_url: str, tmp_path: Path, woo: FakeShop) -> None:
    set_up_catalogue(cli, tmp_path)
    cli.ok(
        "channels",
        "add",
        "woo",
        "--type",
        "woocommerce",
        "--url",
        woo.url,
        "--allow-loopback-http",
        "--key-env",
        "WOO_KEY",
        "--secret-env",
        "WOO_SECRET",
    )
    first = pulled(cli.ok("channels", "pull", "woo", "-f", "jsonl").stdout)["woo"]
    assert (first["new"], first["held"]) == (3, 3)  # "Flat rate" is not mapped yet
    assert [parse_qs(urlparse(r).query)["page"] for r in woo.requests] == [["1"], ["2"]]
    order = json.loads(cli.ok("orders", "show", "701", "-f", "json").stdout)
    assert (order["status"], order["hold_reason"]) == ("held", "shipping_unmapped")
    assert order["delivery"]["name"] == "Zoë Brontë"
    cli.ok("channels", "map-shipping", "woo", "Flat rate", "standard")
    cli.ok("orders", "process")
    assert json.loads(cli.ok("orders", "show", "701", "-f", "json").stdout)["status"] == "open"
    woo.orders.append(woocommerce_order(4, modified="2026-11-28T11:00:00"))
    again = pulled(cli.ok("channels", "pull", "woo", "-f", "jsonl").stdout)["woo"]
    assert (again["new"], again["skipped"]) == (1, 0)
    assert "modified_after=2026-11-28T09%3A03%3A00" in woo.requests[-1]


def test_secrets_are_named_never_stored(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    before = snapshot(db_url)
    bad = cli(
        "channels",
        "add",
        "shop",
        "--type",
        "shopify",
        "--url",
        shopify.url,
        "--allow-loopback-http",
        "--token-env",
        "shpat_secret token",
    )
    assert bad.exit_code == 1
    assert bad.stderr.startswith(
        "Error: --token-env VAR: 'shpat_secret token' is not an environment variable name"
    )
    assert snapshot(db_url) == before
    add_shopify(cli, shopify)
    cli.ok("channels", "pull", "shop")
    assert "shpat_secret_token" not in json.dumps(snapshot(db_url))


def test_a_token_file_must_be_private(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    token = tmp_path / "token"
    token.write_text("shpat_secret_token\n")
    token.chmod(0o644)
    run = cli(
        "channels",
        "add",
        "shop",
        "--type",
        "shopify",
        "--url",
        shopify.url,
        "--allow-loopback-http",
        "--token-file",
        str(token),
    )
    assert (
        run.stderr
        == f"Error: --token-file: {token} can be read by others; run `chmod 600 {token}`\n"
    )
    token.chmod(0o600)
    set_up_catalogue(cli, tmp_path)
    cli.ok(
        "channels",
        "add",
        "shop",
        "--type",
        "shopify",
        "--url",
        shopify.url,
        "--allow-loopback-http",
        "--token-file",
        str(token),
    )
    assert pulled(cli.ok("channels", "pull", "shop", "-f", "jsonl").stdout)["shop"]["new"] == 5


def test_channel_admin(cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop) -> None:
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    cli.ok("channels", "disable", "shop")
    assert cli.ok("channels", "pull", "--all").stderr == "No enabled channels to pull.\n"
    refused = cli("channels", "pull", "shop")
    assert refused.stderr == "Error: channel shop is disabled; `avasam channels enable shop`\n"
    cli.ok("channels", "enable", "shop")
    cli.ok("channels", "pull", "shop")
    removal = cli("channels", "remove", "shop")
    assert removal.stderr == (
        "Error: channel shop has 5 order(s); `--force` removes the channel and keeps its orders\n"
    )
    assert cli.ok("channels", "remove", "shop", "--force").stderr == (
        "Removed channel shop; its 5 order(s) are kept.\n"
    )
    assert cli.ok("orders", "list", "--count").stdout == "5\n"
    assert [c["name"] for c in json_rows(cli.ok("channels", "list", "-f", "jsonl").stdout)] == [
        "manual"
    ]
    add_shopify(cli, shopify)  # the name is free again


def test_a_poison_api_order_is_reported_and_the_rest_of_its_page_goes_in(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    deep: object = []
    for _ in range(40):
        deep = [deep]
    shopify.orders[1] = shopify_order(2, qty=10**23)
    shopify.orders[2] = {**shopify_order(3), "createdAt": "9999-12-31T23:00-05:00"}
    shopify.orders[3] = shopify_order(4, name="Ann \x00 Lee")
    shopify.orders.append({**shopify_order(6), "note_attributes": deep})
    shopify.orders.append({**shopify_order(7), "name": "#1007\x1b[31m"})
    shopify.orders[-1]["lineItems"]["nodes"][0]["originalUnitPriceSet"]["shopMoney"]["amount"] = (
        "NaN"
    )
    set_up_catalogue(cli, tmp_path)
    add_shopify(cli, shopify)
    run = cli("channels", "pull", "shop", "-f", "jsonl")
    assert run.exit_code == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [
        "Error: shop: Shopify order '#1002': quantity '100000000000000000000000' is more than 10,000",
        "Error: shop: Shopify order '#1003': placed_at '9999-12-31T23:00-05:00' must be within "
        "the years 2000 to 2100",
        "Error: shop: Shopify order '#1004': name holds a NUL character",
        "Error: shop: Shopify order '#1006': the order is nested deeper than 32 levels",
        "Error: shop: Shopify order '#1007\\x1b[31m': unit_price 'NaN' is not a plain decimal number",
    ]
    row = pulled(run.stdout)["shop"]
    assert (row["new"], row["result"]) == (2, "ok")
    listed = json_rows(cli.ok("orders", "list", "--all", "-f", "jsonl").stdout)
    assert sorted(r["channel_reference"] for r in listed) == ["#1001", "#1005"]
    # The cursor moved on: only the newest order, which `updated_at:>=` always sends again,
    # is read (and reported) again.
    again = cli("channels", "pull", "shop", "-f", "jsonl")
    assert again.stderr.splitlines() == run.stderr.splitlines()[-1:]
    assert pulled(again.stdout)["shop"]["new"] == 0
    # Every problem stays listed for later, newest first.
    kept = json_rows(cli.ok("channels", "errors", "shop", "-f", "jsonl").stdout)
    assert [row["problem"] for row in kept] == [
        "Shopify order '#1007\\x1b[31m': unit_price 'NaN' is not a plain decimal number",
        *[line.removeprefix("Error: shop: ") for line in reversed(run.stderr.splitlines())],
    ]
    shown = json.loads(cli.ok("channels", "show", "shop", "-f", "json").stdout)
    assert shown["problems"] == 6
    assert cli.ok("channels", "errors", "shop", "--limit", "2").stdout.count("Shopify order") == 2


def test_pull_all_goes_on_past_a_poison_file_a_poison_order_and_a_broken_channel(
    cli: Cli, db_url: str, tmp_path: Path, shopify: FakeShop
) -> None:
    set_up_catalogue(cli, tmp_path)
    shopify.orders[0] = shopify_order(1, qty=0)
    add_shopify(cli, shopify, "b-shop")
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "bad.jsonl").write_text('{"order_id": "X", "x": ' + "[" * 200_000 + "\n")
    cli.ok("channels", "add", "a-drop", "--type", "file", "--path", str(folder))
    cli.ok("channels", "add", "c-gone", "--type", "file", "--path", str(tmp_path / "gone"))
    cli.ok("channels", "add", "d-drop", "--type", "file", "--path", str(folder))
    run = cli("channels", "pull", "--all", "-f", "jsonl")
    assert run.exit_code == 1
    assert "Traceback" not in run.stderr
    errors = run.stderr.splitlines()
    assert errors[0].startswith("Error: a-drop: bad.jsonl rejected: line 1: ")
    assert errors[1] == "Error: b-shop: Shopify order '#1001': quantity 0 must be 1 or more"
    assert errors[2].startswith("Error: c-gone: drop folder ")
    assert len(errors) == 3
    rows = pulled(run.stdout)
    assert [rows[name]["result"] for name in ("a-drop", "b-shop", "c-gone", "d-drop")] == [
        "ok",
        "ok",
        "failed",
        "ok",
    ]
    assert rows["b-shop"]["new"] == 4
    assert (folder / "rejected" / "bad.jsonl.error").exists()


def test_the_built_in_manual_channel_can_be_neither_removed_nor_disabled(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path)
    for args, what in (
        (("remove", "manual", "--force"), "removed"),
        (("remove", "manual"), "removed"),
        (("disable", "manual"), "disabled"),
    ):
        run = cli("channels", *args)
        assert (run.exit_code, run.stderr) == (
            1,
            "Error: the built-in channel manual (orders keyed in by hand with "
            f"`avasam orders add`) cannot be {what}\n",
        )
    cli.ok("channels", "enable", "manual")  # already is: harmless
    shown = json.loads(cli.ok("channels", "show", "manual", "-f", "json").stdout)
    assert (shown["name"], shown["enabled"]) == ("manual", True)
    cli.ok(
        "orders", "add", "--name", "A", "--address1", "1 St", "--city", "Bath",
        "--postcode", "BA1 1AA", "--item", "OAK-CHAIR-02", "--shipping-service", "standard",
        "--reference", "BY-HAND",
    )  # fmt: skip
    order = json.loads(cli.ok("orders", "show", "BY-HAND", "-f", "json").stdout)
    assert order["status"] == "open"
