"""The `shopify` channel: Admin REST API `orders.json`, paged with the Link header."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from avasam_cli.core.channels import Batch
from avasam_cli.core.channels.http import JsonHttp, origin
from avasam_cli.core.channels.records import first_entry, read_api_orders
from avasam_cli.core.errors import RemoteError
from avasam_cli.core.incoming import FieldError

API_VERSION = "2024-10"
PAGE_SIZE = 250
_NEXT = re.compile(r'<([^>]+)>;\s*rel="?next"?')


class Shopify:
    def __init__(self, url: str, token: str, tz: ZoneInfo, http: JsonHttp) -> None:
        self.base = url.rstrip("/")
        self.token = token
        self.tz = tz
        self.http = http
        self.problems: list[str] = []

    def batches(self, cursor: str | None, since: datetime | None) -> Iterator[Batch]:
        start = since.isoformat() if since else cursor
        params: dict[str, Any] = {"status": "any", "limit": PAGE_SIZE, "order": "updated_at asc"}
        if start:
            params["updated_at_min"] = start
        url: str | None = f"{self.base}/admin/api/{API_VERSION}/orders.json?{urlencode(params)}"
        page = 0
        while url:
            reply = self.http.get(url, {"X-Shopify-Access-Token": self.token})
            raw = reply.body.get("orders") if isinstance(reply.body, dict) else None
            if not isinstance(raw, list):
                raise RemoteError(f"{self.base} sent orders.json without an orders list")
            page += 1
            orders = read_api_orders(
                raw, shopify_fields, self.tz, self.problems, channel="Shopify", label="name"
            )
            newest = max(
                (str(item.get("updated_at") or "") for item in raw if isinstance(item, dict)),
                default="",
            )
            cursor = newest or cursor
            yield Batch(label=f"page {page}", chunks=iter([orders]), cursor=cursor)
            url = _next_link(reply.headers.get("Link"))
            if url is not None and origin(url) != origin(self.base):
                raise RemoteError(
                    "the shop's next-page link points to another host; not followed, so the "
                    "access token stays with the shop"
                )


def shopify_fields(item: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    address = item.get("shipping_address")
    if not isinstance(address, dict):
        raise FieldError("has no shipping address")
    name = address.get("name") or " ".join(
        part for part in (address.get("first_name"), address.get("last_name")) if part
    )
    shipping = first_entry(item.get("shipping_lines"), "shipping_lines")
    fields = {
        "order_id": item.get("id"),
        "reference": item.get("name"),
        "placed_at": item.get("created_at"),
        "status": "cancelled" if item.get("cancelled_at") else "open",
        "name": name,
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "county": address.get("province"),
        "postcode": address.get("zip"),
        "country": address.get("country_code"),
        "phone": address.get("phone") or item.get("phone"),
        "email": item.get("email") or item.get("contact_email"),
        "shipping_method": shipping.get("title"),
    }
    lines = [
        {
            "sku": line.get("sku") or f"variant-{line.get('variant_id')}",
            "title": line.get("title"),
            "quantity": line.get("quantity"),
            "unit_price": line.get("price"),
        }
        for line in item.get("line_items") or []
    ]
    return fields, lines


def _next_link(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        found = _NEXT.search(part)
        if found:
            return found.group(1)
    return None
