"""Real HTTP servers on 127.0.0.1 that answer like Shopify's and WooCommerce's order APIs.

Scripted faults (429, 500, a slow answer, a malformed body) are queued per server;
every request is recorded so tests can check what the client asked for.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse


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
    block_on_request: int | None = None  # the Nth request waits for `release`
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

        def do_GET(self) -> None:
            shop.requests.append(self.path)
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
                self._shopify()
            else:
                self._woocommerce()

        def _authorised(self) -> bool:
            if shop.kind == "shopify":
                return self.headers.get("X-Shopify-Access-Token") == shop.token
            expected = base64.b64encode(f"{shop.key}:{shop.secret}".encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"

        def _shopify(self) -> None:
            url = urlparse(self.path)
            if url.path != "/admin/api/2024-10/orders.json":
                self._send(404, b'{"errors": "Not Found"}', {})
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if "page_info" in query:
                if set(query) - {"page_info", "limit"}:  # as Shopify: no filters with page_info
                    self._send(400, b'{"errors": "page_info with other parameters"}', {})
                    return
                state = json.loads(base64.b64decode(query["page_info"]))
                start, since = state["offset"], state["since"]
            else:
                start, since = 0, query.get("updated_at_min", "")
            rows = sorted(
                (o for o in shop.orders if o["updated_at"] >= since), key=lambda o: o["updated_at"]
            )
            page = rows[start : start + shop.page_size]
            headers = {}
            if start + shop.page_size < len(rows):
                info = base64.b64encode(
                    json.dumps({"offset": start + shop.page_size, "since": since}).encode()
                ).decode()
                link = f"{shop.url}{url.path}?{urlencode({'limit': 250, 'page_info': info})}"
                headers["Link"] = f'<{link}>; rel="next"'
            self._send(200, json.dumps({"orders": page}).encode(), headers)

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
    return {
        "id": 450789469000 + n,
        "name": f"#{1000 + n}",
        "order_number": 1000 + n,
        "email": f"buyer{n}@example.com",
        "created_at": f"2026-11-28T10:{n % 60:02d}:00+00:00",
        "updated_at": updated or f"2026-11-28T10:{n % 60:02d}:00+00:00",
        "cancelled_at": "2026-11-28T12:00:00+00:00" if cancelled else None,
        "financial_status": "paid",
        "currency": "GBP",
        "shipping_address": {
            "first_name": name.split()[0],
            "last_name": name.split()[-1],
            "name": name,
            "address1": f"{n} High St",
            "address2": None,
            "city": "London",
            "province": None,
            "zip": zip_code,
            "country_code": "GB",
            "phone": None,
        },
        "line_items": [
            {
                "id": n * 10,
                "variant_id": 800 + n,
                "product_id": 700 + n,
                "sku": sku,
                "title": "Oak chair",
                "name": "Oak chair",
                "quantity": qty,
                "price": "59.99",
            }
        ],
        "shipping_lines": [{"title": method, "code": method.lower(), "price": "4.99"}],
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
