"""The `woocommerce` channel: REST `wp-json/wc/v3/orders`, paged with X-WP-TotalPages."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from avasam_cli.core.channels import Batch
from avasam_cli.core.channels.http import JsonHttp
from avasam_cli.core.channels.records import first_entry, read_api_orders
from avasam_cli.core.channels.writeback import Outcome, Sent, Update, failure
from avasam_cli.core.errors import RemoteError

PAGE_SIZE = 100


class WooCommerce:
    def __init__(self, url: str, key: str, secret: str, tz: ZoneInfo, http: JsonHttp) -> None:
        self.base = url.rstrip("/")
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}
        self.tz = tz
        self.http = http
        self.problems: list[str] = []

    def batches(self, cursor: str | None, since: datetime | None) -> Iterator[Batch]:
        start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if since else cursor
        page, pages = 1, 1
        while page <= pages:
            params: dict[str, Any] = {
                "per_page": PAGE_SIZE,
                "page": page,
                "orderby": "modified",
                "order": "asc",
                "dates_are_gmt": "true",
            }
            if start:
                params["modified_after"] = start
            reply = self.http.get(
                f"{self.base}/wp-json/wc/v3/orders?{urlencode(params)}", self.auth
            )
            if not isinstance(reply.body, list):
                raise RemoteError(f"{self.base} sent orders that are not a JSON list")
            try:
                pages = int(reply.headers.get("X-WP-TotalPages") or 1)
            except ValueError:
                raise RemoteError(f"{self.base} sent a bad X-WP-TotalPages header") from None
            orders = read_api_orders(
                reply.body,
                woocommerce_fields,
                self.tz,
                self.problems,
                channel="WooCommerce",
                label="number",
            )
            newest = max(
                (
                    str(item.get("date_modified_gmt") or "")
                    for item in reply.body
                    if isinstance(item, dict)
                ),
                default="",
            )
            cursor = newest or cursor
            yield Batch(label=f"page {page}", chunks=iter([orders]), cursor=cursor)
            page += 1


def woocommerce_fields(item: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    shipping = item.get("shipping") or {}
    billing = item.get("billing") or {}
    method = first_entry(item.get("shipping_lines"), "shipping_lines")
    created = item.get("date_created_gmt")
    fields = {
        "order_id": item.get("id"),
        "reference": item.get("number"),
        "placed_at": f"{created}+00:00" if created and "+" not in created else created,
        "status": item.get("status"),
        "name": " ".join(p for p in (shipping.get("first_name"), shipping.get("last_name")) if p),
        "address1": shipping.get("address_1"),
        "address2": shipping.get("address_2"),
        "city": shipping.get("city"),
        "county": shipping.get("state"),
        "postcode": shipping.get("postcode"),
        "country": shipping.get("country"),
        "phone": shipping.get("phone") or billing.get("phone"),
        "email": billing.get("email"),
        "shipping_method": method.get("method_title"),
    }
    lines = [
        {
            "sku": line.get("sku") or f"product-{line.get('product_id')}",
            "title": line.get("name"),
            "quantity": line.get("quantity"),
            "unit_price": line.get("price"),
        }
        for line in item.get("line_items") or []
    ]
    return fields, lines


class WooCommerceWriter:
    """Tells WooCommerce of dispatches (status `completed`, then an order note with the
    carrier and tracking number) and cancels (status `cancelled`). Each step first reads
    what is already there, so a step done by a killed run is not done twice."""

    def __init__(self, shop: WooCommerce, *, customer_note: bool) -> None:
        self.shop = shop
        self.customer_note = customer_note

    def send(self, updates: list[Update]) -> Iterator[tuple[Update, Outcome]]:
        for update in updates:
            try:
                yield update, self._one(update)
            except RemoteError as exc:
                yield update, failure(exc, "write-back needs a Read/Write REST API key")

    def _order_url(self, update: Update) -> str:
        return f"{self.shop.base}/wp-json/wc/v3/orders/{quote(update.external_id, safe='')}"

    def _one(self, update: Update) -> Outcome:
        url = self._order_url(update)
        order = self.shop.http.get(url, self.shop.auth).body
        status = order.get("status") if isinstance(order, dict) else None
        target = "cancelled" if update.kind == "cancel" else "completed"
        done = []
        if status != target:
            self.shop.http.put_json(url, self.shop.auth, {"status": target})
            done.append(f"status {target}")
        if update.kind == "cancel":
            return Sent(", ".join(done) or "already cancelled on WooCommerce")
        tracking = update.tracking_number or ""
        notes = self.shop.http.get(f"{url}/notes", self.shop.auth).body
        if not any(isinstance(n, dict) and tracking in str(n.get("note")) for n in notes or []):
            note = f"Dispatched with {update.carrier or 'the carrier'}, tracking {tracking}"
            reply = self.shop.http.post_json(
                f"{url}/notes",
                self.shop.auth,
                {"note": note, "customer_note": self.customer_note},
                once=True,
            )
            done.append("note with the tracking number")
            note_id = reply.body.get("id") if isinstance(reply.body, dict) else None
            return Sent(", ".join(done), None if note_id is None else str(note_id))
        return Sent(", ".join(done) or f"already completed with tracking {tracking}")
