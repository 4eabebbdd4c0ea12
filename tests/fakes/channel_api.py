"""Real HTTP servers on 127.0.0.1 that answer like Shopify's GraphQL Admin API and
WooCommerce's REST order API.

Scripted faults (429, 500, a slow answer, a malformed body) are queued per server;
every request is recorded so tests can check what the client asked for.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from avasam_cli.core.channels.shopify import API_VERSION as SHOPIFY_VERSION

COST = {
    "requestedQueryCost": 52,
    "actualQueryCost": 12,
    "throttleStatus": {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 1988,
        "restoreRate": 100.0,
    },
}


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    return int(base64.b64decode(cursor)) if cursor else 0


def _first_lines(order: dict[str, Any], count: int) -> dict[str, Any]:
    """The order as the orders query shows it: its first `count` lines, and a cursor."""
    lines = order["lineItems"]["nodes"]
    more = len(lines) > count
    items = {
        "pageInfo": {"hasNextPage": more, "endCursor": _cursor(count) if more else None},
        "nodes": lines[:count],
    }
    return {**order, "lineItems": items}


def _remaining(shop: FakeShop, order: dict[str, Any]) -> list[int]:
    """What is still to fulfil of each of the order's lines (one fulfillment order)."""
    return shop.remaining.setdefault(
        order["id"], [n["quantity"] for n in order["lineItems"]["nodes"]]
    )


def _state(shop: FakeShop, gid: str) -> dict[str, Any] | None:
    """An order's fulfilment state, as the `nodes(ids:)` query reads it."""
    order = next((o for o in shop.orders if o["id"] == gid), None)
    if order is None:
        return None
    remaining = _remaining(shop, order)
    status = "OPEN" if any(remaining) and not order.get("cancelledAt") else "CLOSED"
    items = [
        {
            "id": f"{gid.replace('Order', 'FulfillmentOrderLineItem')}-{n}",
            "remainingQuantity": left,
            "lineItem": {"sku": line["sku"], "variant": line.get("variant")},
        }
        for n, (line, left) in enumerate(zip(order["lineItems"]["nodes"], remaining, strict=True))
    ]
    fulfillment_order = {
        "id": gid.replace("Order", "FulfillmentOrder"),
        "status": status,
        "lineItems": {"nodes": items},
    }
    return {
        "id": gid,
        "cancelledAt": order.get("cancelledAt"),
        "fulfillments": shop.fulfillments.get(gid, []),
        "fulfillmentOrders": {"nodes": [fulfillment_order]},
    }


def _refused(message: str) -> dict[str, Any]:
    return {"fulfillment": None, "userErrors": [{"field": ["fulfillment"], "message": message}]}


def _fulfil(shop: FakeShop, variables: dict[str, Any]) -> dict[str, Any]:
    """fulfillmentCreate: the listed fulfillment-order line items (all that remain of the
    fulfillment order when none are listed), refused whole if one is not open."""
    wanted = variables["fulfillment"]
    if str(wanted["trackingInfo"].get("number", "")).startswith("BAD"):
        return _refused("Tracking number is invalid for the carrier.")
    [group] = wanted["lineItemsByFulfillmentOrder"]
    gid = group["fulfillmentOrderId"].replace("FulfillmentOrder", "Order")
    order = next((o for o in shop.orders if o["id"] == gid), None)
    if order is None or order.get("cancelledAt"):
        return _refused("Fulfillment order does not exist or is not open.")
    remaining = _remaining(shop, order)
    asked = group.get("fulfillmentOrderLineItems") or [
        {"id": f"{gid.replace('Order', 'FulfillmentOrderLineItem')}-{n}", "quantity": left}
        for n, left in enumerate(remaining)
        if left
    ]
    taken = [(int(item["id"].rsplit("-", 1)[1]), item["quantity"]) for item in asked]
    if not taken or any(quantity > remaining[n] for n, quantity in taken):
        return _refused("Fulfillment order line items are not open.")
    for n, quantity in taken:
        remaining[n] -= quantity
    number = len([f for fs in shop.fulfillments.values() for f in fs]) + 5001
    fulfillment = {
        "id": f"gid://shopify/Fulfillment/{number}",
        "trackingInfo": [wanted["trackingInfo"]],
        "notifyCustomer": wanted.get("notifyCustomer"),
        "lines": taken,
    }
    shop.fulfillments.setdefault(gid, []).append(fulfillment)
    shop.mutations.append(f"fulfil {gid}: {wanted['trackingInfo'].get('number')}")
    return {"fulfillment": {"id": fulfillment["id"], "status": "SUCCESS"}, "userErrors": []}


def _cancel(shop: FakeShop, variables: dict[str, Any]) -> dict[str, Any]:
    order = next((o for o in shop.orders if o["id"] == variables["orderId"]), None)
    if order is None or order.get("cancelledAt"):
        message = "Order has already been cancelled." if order else "Order does not exist."
        errors = [{"field": ["orderId"], "message": message, "code": "INVALID"}]
        return {"job": None, "orderCancelUserErrors": errors}
    order["cancelledAt"] = "2026-11-30T12:00:00Z"
    shop.mutations.append(f"cancel {variables['orderId']}: {variables['reason']}")
    return {"job": {"id": "gid://shopify/Job/1", "done": False}, "orderCancelUserErrors": []}


def throttled(requested: int = 752, available: int = 666, rate: float = 50.0) -> Fault:
    """Shopify's answer when the cost bucket is empty: HTTP 200, nothing run."""
    body = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 1000.0,
                    "currentlyAvailable": available,
                    "restoreRate": rate,
                },
            }
        },
    }
    return Fault(status=200, body=json.dumps(body).encode())


@dataclass
class Fault:
    status: int = 500
    body: bytes = b'{"errors": "boom"}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeShop:
    kind: str  # shopify | woocommerce
    orders: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    token: str = "shpat_secret_token"
    key: str = "ck_key"
    secret: str = "cs_secret"
    faults: list[Fault] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)  # each request's JSON body (None: GET)
    block_on_request: int | None = None  # the Nth request waits for `release`
    hold_reply_on: int | None = None  # the Nth request is carried out, its answer waits
    fulfillments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by order id
    remaining: dict[str, list[int]] = field(default_factory=dict)  # to fulfil, per line
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # Woo, by order id
    mutations: list[str] = field(default_factory=list)  # what changed the shop, in order
    blocked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(shop: FakeShop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            self._answer(body)

        def do_GET(self) -> None:
            self._answer(None)

        def _answer(self, body: Any) -> None:
            shop.requests.append(self.path)
            shop.bodies.append(body)
            if shop.block_on_request == len(shop.requests):
                shop.blocked.set()
                shop.release.wait(30)
            if shop.faults:
                fault = shop.faults.pop(0)
                time.sleep(fault.delay)
                self._send(fault.status, fault.body, fault.headers)
                return
            if not self._authorised():
                self._send(401, b'{"errors": "[API] Invalid API key or access token"}', {})
                return
            if shop.kind == "shopify":
                self._shopify(body)
            elif self.path.startswith("/wp-json/wc/v3/orders/"):
                self._woocommerce_order(body)
            else:
                self._woocommerce()

        def _authorised(self) -> bool:
            if shop.kind == "shopify":
                return self.headers.get("X-Shopify-Access-Token") == shop.token
            expected = base64.b64encode(f"{shop.key}:{shop.secret}".encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"

        def _shopify(self, body: Any) -> None:
            if self.path != f"/admin/api/{SHOPIFY_VERSION}/graphql.json" or body is None:
                self._send(404, b'{"errors": "Not Found"}', {})
                return
            query, variables = body.get("query", ""), body.get("variables") or {}
            if "nodes(ids:" in query:
                self._reply(200, {"data": {"nodes": [_state(shop, i) for i in variables["ids"]]}})
                return
            if "fulfillmentCreate" in query:
                self._reply(200, {"data": {"fulfillmentCreate": _fulfil(shop, variables)}})
                return
            if "orderCancel(" in query:
                self._reply(200, {"data": {"orderCancel": _cancel(shop, variables)}})
                return
            if "order(id:" in query:
                self._shopify_lines(variables)
                return
            if "orders(" not in query:
                self._send(200, json.dumps({"errors": [{"message": "unknown query"}]}).encode(), {})
                return
            found = re.search(r"updated_at:>='([^']*)'", variables.get("query") or "")
            since = found.group(1) if found else ""
            rows = sorted(
                (o for o in shop.orders if o["updatedAt"] >= since), key=lambda o: o["updatedAt"]
            )
            start = _offset(variables.get("after"))
            page = rows[start : start + min(shop.page_size, variables.get("first") or 1)]
            line_page = int(re.search(r"lineItems\(first: (\d+)\)", query).group(1))  # type: ignore[union-attr]
            info = {
                "hasNextPage": start + len(page) < len(rows),
                "endCursor": _cursor(start + len(page)) if page else None,
            }
            nodes = [_first_lines(order, line_page) for order in page]
            answer = {
                "data": {"orders": {"pageInfo": info, "nodes": nodes}},
                "extensions": {"cost": COST},
            }
            self._send(200, json.dumps(answer).encode(), {})

        def _shopify_lines(self, variables: dict[str, Any]) -> None:
            order = next((o for o in shop.orders if o["id"] == variables.get("id")), None)
            if order is None:
                self._send(200, json.dumps({"data": {"order": None}}).encode(), {})
                return
            start = _offset(variables.get("after"))
            lines = order["lineItems"]["nodes"][start : start + 100]
            more = start + len(lines) < len(order["lineItems"]["nodes"])
            items = {
                "pageInfo": {"hasNextPage": more, "endCursor": _cursor(start + len(lines))},
                "nodes": lines,
            }
            self._send(200, json.dumps({"data": {"order": {"lineItems": items}}}).encode(), {})

        def _woocommerce(self) -> None:
            url = urlparse(self.path)
            if url.path != "/wp-json/wc/v3/orders":
                self._send(404, b'{"code": "rest_no_route"}', {})
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            since = query.get("modified_after", "")
            rows = sorted(
                (o for o in shop.orders if o["date_modified_gmt"] > since),
                key=lambda o: o["date_modified_gmt"],
            )
            page = int(query.get("page", 1))
            pages = max(1, -(-len(rows) // shop.page_size))
            chunk = rows[(page - 1) * shop.page_size : page * shop.page_size]
            self._send(
                200,
                json.dumps(chunk).encode(),
                {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(pages)},
            )

        def _woocommerce_order(self, body: Any) -> None:
            parts = urlparse(self.path).path.split("/")[5:]  # [id] or [id, "notes"]
            order = next((o for o in shop.orders if str(o["id"]) == parts[0]), None)
            if order is None:
                code = 400 if self.command == "PUT" else 404
                error = {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID."}
                self._reply(code, {**error, "data": {"status": code}})
                return
            if parts[1:] == ["notes"]:
                notes = shop.notes.setdefault(parts[0], [])
                if self.command == "POST":
                    note = {"id": 281 + len(notes), "note": body["note"], **body}
                    notes.append(note)
                    shop.mutations.append(f"note {parts[0]}: {body['note']}")
                    self._reply(201, note)
                else:
                    self._reply(200, notes)
                return
            if self.command == "PUT":
                order["status"] = body["status"]
                shop.mutations.append(f"status {parts[0]}: {body['status']}")
            self._reply(200, order)

        def _reply(self, status: int, answer: Any) -> None:
            """Answer (after the change is made); held back while `hold_reply_on` says so."""
            if shop.hold_reply_on == len(shop.requests):
                shop.blocked.set()
                shop.release.wait(30)
            self._send(status, json.dumps(answer).encode(), {})

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(json.loads(self.rfile.read(length) or b"{}"))

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

    return Handler


@contextmanager
def serve(shop: FakeShop) -> Iterator[FakeShop]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(shop))
    server.daemon_threads = True
    shop.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield shop
    finally:
        shop.release.set()
        server.shutdown()
        server.server_close()


@contextmanager
def shop_with_credentials(monkeypatch: Any, kind: str, orders: int) -> Iterator[FakeShop]:
    """A running shop of `orders` orders, its credentials in the variables a channel names
    (SHOP_TOKEN, WOO_KEY, WOO_SECRET) and no backoff between retries."""
    monkeypatch.setenv("AVASAM_HTTP_BACKOFF", "0")
    if kind == "shopify":
        monkeypatch.setenv("SHOP_TOKEN", "shpat_secret_token")
        made = [shopify_order(n) for n in range(1, orders + 1)]
    else:
        monkeypatch.setenv("WOO_KEY", "ck_key")
        monkeypatch.setenv("WOO_SECRET", "cs_secret")
        made = [woocommerce_order(n) for n in range(1, orders + 1)]
    with serve(FakeShop(kind, made)) as shop:
        yield shop


def shopify_order(
    n: int,
    *,
    sku: str = "OAK-CHAIR-02",
    updated: str | None = None,
    cancelled: bool = False,
    method: str = "Standard",
    qty: int = 1,
    zip_code: str = "SW1A 1AA",
    name: str = "Ann Lee",
) -> dict[str, Any]:
    """One order node as the GraphQL Admin API's `orders` query returns it."""
    return {
        "id": f"gid://shopify/Order/{450789469000 + n}",
        "legacyResourceId": str(450789469000 + n),
        "name": f"#{1000 + n}",
        "email": f"buyer{n}@example.com",
        "phone": None,
        "createdAt": f"2026-11-28T10:{n % 60:02d}:00Z",
        "updatedAt": updated or f"2026-11-28T10:{n % 60:02d}:00Z",
        "cancelledAt": "2026-11-28T12:00:00Z" if cancelled else None,
        "shippingAddress": {
            "firstName": name.split()[0],
            "lastName": name.split()[-1],
            "name": name,
            "address1": f"{n} High St",
            "address2": None,
            "city": "London",
            "province": None,
            "zip": zip_code,
            "countryCodeV2": "GB",
            "phone": None,
        },
        "shippingLine": {"title": method},
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "sku": sku,
                    "title": "Oak chair",
                    "quantity": qty,
                    "variant": {"legacyResourceId": str(800 + n)},
                    "originalUnitPriceSet": {
                        "shopMoney": {"amount": "59.99", "currencyCode": "GBP"}
                    },
                }
            ],
        },
    }


def woocommerce_order(
    n: int,
    *,
    sku: str = "OAK-CHAIR-02",
    modified: str | None = None,
    status: str = "processing",
    method: str = "Flat rate",
) -> dict[str, Any]:
    return {
        "id": 700 + n,
        "number": str(700 + n),
        "status": status,
        "currency": "GBP",
        "date_created_gmt": f"2026-11-28T09:{n % 60:02d}:00",
        "date_modified_gmt": modified or f"2026-11-28T09:{n % 60:02d}:00",
        "billing": {"email": f"woo{n}@example.com", "phone": "0700"},
        "shipping": {
            "first_name": "Zoë",
            "last_name": "Brontë",
            "company": "",
            "address_1": f"{n} Rue",
            "address_2": "",
            "city": "York",
            "state": "",
            "postcode": "YO1 7LZ",
            "country": "GB",
            "phone": "",
        },
        "line_items": [
            {
                "id": n,
                "name": "Oak chair",
                "product_id": 55,
                "sku": sku,
                "quantity": 1,
                "price": 59.99,
            }
        ],
        "shipping_lines": [{"method_title": method, "method_id": "flat_rate", "total": "4.99"}],
    }
