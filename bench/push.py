"""Benchmark `channels push` of N pending dispatch updates to a loopback Shopify-shaped
server (the suite's GraphQL fake), on SQLite.

    python bench/push.py --orders 10000

Sets up a workspace, pulls N orders from the fake shop, processes them, dispatches them
all with one dispatch file, then times one `avasam channels push` process. The floor: the
same HTTP requests (one state query per 25 orders, one fulfillmentCreate per order) sent
by a bare `http.client` loop to the same server, in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the suite's fake shop

from avasam_cli.core.channels.shopify import API_VERSION, FULFIL_MUTATION, STATE_QUERY
from tests.fakes.channel_api import FakeShop, serve, shopify_order

AVASAM = [sys.executable, "-m", "avasam_cli"]
FEED = (
    "ProductId,SKU,Title,StockQuantity,PriceExclVAT,RRPExclVAT,VAT%Rate\n"
    "OAK-1002,OAK-CHAIR-02,Oak Dining Chair,1000000,35.50,59.99,20\n"
)


def run(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([*AVASAM, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def floor(shop: FakeShop, count: int) -> float:
    """The same requests from a bare client: the server's and the protocol's own cost."""
    path = f"/admin/api/{API_VERSION}/graphql.json"
    headers = {"X-Shopify-Access-Token": shop.token, "Content-Type": "application/json"}
    gids = [shop.orders[n]["id"] for n in range(count)]
    shop.fulfillments.clear()
    started = time.perf_counter()
    for first in range(0, count, 25):
        group = gids[first : first + 25]
        _post(shop.port, path, headers, {"query": STATE_QUERY, "variables": {"ids": group}})
        for gid in group:
            fulfillment = {
                "lineItemsByFulfillmentOrder": [
                    {"fulfillmentOrderId": gid.replace("Order", "FulfillmentOrder")}
                ],
                "trackingInfo": {"number": f"T-{gid}"},
                "notifyCustomer": True,
            }
            _post(
                shop.port,
                path,
                headers,
                {"query": FULFIL_MUTATION, "variables": {"fulfillment": fulfillment}},
            )
    return time.perf_counter() - started


def _post(port: int, path: str, headers: dict[str, str], body: object) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, json.dumps(body).encode(), headers)
    conn.getresponse().read()
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    args = parser.parse_args()
    orders = [shopify_order(n) for n in range(1, args.orders + 1)]
    for n, order in enumerate(orders, start=1):
        order["name"] = f"#{100000 + n}"
        order["createdAt"] = order["updatedAt"] = "2026-11-28T10:00:00Z"
    with tempfile.TemporaryDirectory() as tmp, serve(FakeShop("shopify", orders)) as shop:
        shop.page_size = 50
        env = {
            **os.environ,
            "AVASAM_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "XDG_STATE_HOME": f"{tmp}/state",
            "SHOP_TOKEN": shop.token,
        }
        feed = Path(tmp) / "feed.csv"
        feed.write_text(FEED)
        run("init", env=env)
        run("suppliers", "add", "OAKCO", "--name", "Oak", env=env)
        run("suppliers", "shipping", "OAKCO", "standard", "--price", "4.99", "--vat", "20", env=env)
        run("products", "import", str(feed), "--supplier", "OAKCO", env=env)
        run("account", "topup", "99999999", env=env)
        run("channels", "add", "shop", "--type", "shopify", "--url", shop.url,
            "--allow-loopback-http", "--token-env", "SHOP_TOKEN", env=env)  # fmt: skip
        run("channels", "map-shipping", "shop", "Standard", "standard", env=env)
        print(f"pull: {run('channels', 'pull', 'shop', env=env):.1f} s")
        print(f"process: {run('orders', 'process', env=env):.1f} s")
        listing = subprocess.run(
            [*AVASAM, "orders", "list", "--all", "-f", "jsonl"],
            env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        numbers = [json.loads(line)["number"] for line in listing.splitlines()]
        dispatches = Path(tmp) / "dispatches.csv"
        dispatches.write_text(
            "OrderNumber,Status,TrackingNumber,Carrier\n"
            + "".join(f"{n},SHIPPED,T-{n},Royal Mail\n" for n in numbers)
        )
        dispatched = run("dispatches", "import", str(dispatches), env=env)
        print(f"dispatch {len(numbers)}: {dispatched:.1f} s")
        profile = os.environ.get("PUSH_PROFILE")
        pushed = run("channels", "push", env=env) if not profile else _profiled(profile, env)
        fulfilled = sum(len(f) for f in shop.fulfillments.values())
        print(f"channels push of {len(numbers)} updates: {pushed:.1f} s ({fulfilled} fulfilled)")
        print(f"floor, bare http.client, same requests: {floor(shop, len(numbers)):.1f} s")


def _profiled(output: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", output, "-m", "avasam_cli", "channels", "push"],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
