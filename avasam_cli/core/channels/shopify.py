"""The `shopify` channel: the GraphQL Admin API (REST is legacy since October 2024).

Orders come from the `orders` query sorted by `UPDATED_AT`, filtered with
`updated_at:>='CURSOR'` and paged with `pageInfo.endCursor` within a run; the stored cursor
is the newest `updatedAt` seen, as before. An order keeps its REST id (`legacyResourceId`)
as its external id, so orders pulled before the move are recognised.

Cost throttling: every answer carries `extensions.cost.throttleStatus`; a THROTTLED answer
(HTTP 200 with that error code, or a 429) waits for the bucket to refill and asks again
(the query was not run). An ACCESS_DENIED answer names the scope the token lacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from avasam_cli.core.channels import Batch
from avasam_cli.core.channels.http import JsonHttp
from avasam_cli.core.channels.records import read_api_orders
from avasam_cli.core.channels.writeback import Failed, Outcome, Sent, Update, failure
from avasam_cli.core.errors import RemoteError, printable
from avasam_cli.core.incoming import FieldError

API_VERSION = "2026-10"  # a stable GraphQL Admin API version (quarterly; 12 months each)
PAGE_SIZE = 50  # orders per page: with LINE_PAGE lines each, well under 1,000 cost points
LINE_PAGE = 20
THROTTLE_ATTEMPTS = 5
MAX_THROTTLE_WAIT = 60.0

ORDER_FIELDS = """id legacyResourceId name createdAt updatedAt cancelledAt email phone
 shippingAddress { name firstName lastName address1 address2 city province zip
 countryCodeV2 phone }
 shippingLine { title }"""
LINE_FIELDS = """pageInfo { hasNextPage endCursor }
 nodes { sku title quantity variant { legacyResourceId }
 originalUnitPriceSet { shopMoney { amount currencyCode } } }"""
ORDERS_QUERY = f"""query Orders($first: Int!, $after: String, $query: String) {{
 orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
 pageInfo {{ hasNextPage endCursor }}
 nodes {{ {ORDER_FIELDS} lineItems(first: {LINE_PAGE}) {{ {LINE_FIELDS} }} }} }} }}"""
ORDER_LINES_QUERY = f"""query OrderLines($id: ID!, $after: String) {{
 order(id: $id) {{ lineItems(first: 100, after: $after) {{ {LINE_FIELDS} }} }} }}"""


class Shopify:
    def __init__(self, url: str, token: str, tz: ZoneInfo, http: JsonHttp) -> None:
        self.base = url.rstrip("/")
        self.token = token
        self.tz = tz
        self.http = http
        self.problems: list[str] = []

    @property
    def endpoint(self) -> str:
        return f"{self.base}/admin/api/{API_VERSION}/graphql.json"

    def batches(self, cursor: str | None, since: datetime | None) -> Iterator[Batch]:
        start = since.isoformat() if since else cursor
        variables: dict[str, Any] = {"first": PAGE_SIZE, "after": None, "query": None}
        if start:
            variables["query"] = f"updated_at:>='{start}'"
        page = 0
        while True:
            data = self.graphql(ORDERS_QUERY, variables)
            connection = data.get("orders") if isinstance(data, dict) else None
            nodes = connection.get("nodes") if isinstance(connection, dict) else None
            if not isinstance(nodes, list):
                raise RemoteError(f"{self.endpoint} answered the orders query without orders")
            page += 1
            self._complete_lines(nodes)
            orders = read_api_orders(
                nodes, shopify_fields, self.tz, self.problems, channel="Shopify", label="name"
            )
            newest = max(
                (str(item.get("updatedAt") or "") for item in nodes if isinstance(item, dict)),
                default="",
            )
            cursor = newest or cursor
            yield Batch(label=f"page {page}", chunks=iter([orders]), cursor=cursor)
            info = connection.get("pageInfo") if isinstance(connection, dict) else None
            if not (isinstance(info, dict) and info.get("hasNextPage") and info.get("endCursor")):
                return
            variables = {**variables, "after": info["endCursor"]}

    def _complete_lines(self, nodes: list[Any]) -> None:
        """An order with more than LINE_PAGE lines: fetch the rest (rare, so one by one)."""
        for node in nodes:
            if not isinstance(node, dict) or not isinstance(node.get("lineItems"), dict):
                continue
            items = node["lineItems"]
            while isinstance(items.get("pageInfo"), dict) and items["pageInfo"].get("hasNextPage"):
                data = self.graphql(
                    ORDER_LINES_QUERY,
                    {"id": node.get("id"), "after": items["pageInfo"]["endCursor"]},
                )
                more = (
                    (data.get("order") or {}).get("lineItems") if isinstance(data, dict) else None
                )
                if not isinstance(more, dict) or not isinstance(more.get("nodes"), list):
                    raise RemoteError(f"{self.endpoint} answered the lines query without lines")
                items = {
                    "nodes": [*items.get("nodes", []), *more["nodes"]],
                    "pageInfo": more.get("pageInfo"),
                }
            node["lineItems"] = items

    def graphql(self, query: str, variables: dict[str, Any], *, once: bool = False) -> Any:
        """The `data` of one GraphQL request; throttled requests wait and ask again (a
        throttled request was not run, so this holds for mutations too). A mutation is
        sent `once`: no resend after a timeout, which it may have outlived."""
        for _ in range(THROTTLE_ATTEMPTS):
            reply = self.http.post_json(
                self.endpoint,
                {"X-Shopify-Access-Token": self.token},
                {"query": query, "variables": variables},
                once=once,
            )
            body = reply.body if isinstance(reply.body, dict) else {}
            errors = body.get("errors")
            if not errors:
                if "data" not in body:
                    raise RemoteError(f"{self.endpoint} sent an answer without data")
                return body["data"]
            wait = throttle_wait(body)
            if wait is None:
                raise RemoteError(f"{self.endpoint}: {describe_errors(errors)}")
            self.http.sleep(wait)
        raise RemoteError(
            f"{self.endpoint} kept answering THROTTLED; the shop's API budget is used up by "
            "another app, try again later"
        )


# --- write-back: fulfilments and cancels -------------------------------------------------

STATE_BATCH = 25  # orders whose state one `nodes` query reads
STATE_QUERY = """query States($ids: [ID!]!) { nodes(ids: $ids) { ... on Order {
 id cancelledAt fulfillments { id trackingInfo { number } }
 fulfillmentOrders(first: 10) { nodes { id status lineItems(first: 100) { nodes {
 id remainingQuantity lineItem { sku variant { legacyResourceId } } } } } } } } }"""
FULFIL_MUTATION = """mutation Fulfil($fulfillment: FulfillmentInput!) {
 fulfillmentCreate(fulfillment: $fulfillment) {
 fulfillment { id status } userErrors { field message } } }"""
CANCEL_MUTATION = """mutation Cancel($orderId: ID!, $reason: OrderCancelReason!,
 $refundMethod: OrderCancelRefundMethodInput, $restock: Boolean!, $notifyCustomer: Boolean,
 $staffNote: String) {
 orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod,
 restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
 job { id done } orderCancelUserErrors { field message code } } }"""
OPEN_STATES = ("OPEN", "IN_PROGRESS")
SCOPES = (
    "write-back needs the token's scopes read_orders, write_orders (cancel), "
    "read_merchant_managed_fulfillment_orders and write_merchant_managed_fulfillment_orders "
    "(fulfil)"
)
CANCEL_REASONS = {"out_of_stock": "INVENTORY", "customer_changed_mind": "CUSTOMER"}


def order_gid(external_id: str) -> str:
    return f"gid://shopify/Order/{external_id}"


class ShopifyWriter:
    """Tells Shopify of dispatches (`fulfillmentCreate` on the order's open fulfillment
    orders, with tracking) and cancels (`orderCancel`, no refund by avasam, no restock),
    after reading each order's state: an order already fulfilled with the tracking number,
    or already cancelled, counts as sent without a second request."""

    def __init__(self, shop: Shopify, *, notify_customer: bool) -> None:
        self.shop = shop
        self.notify = notify_customer

    def send(self, updates: list[Update]) -> Iterator[tuple[Update, Outcome]]:
        for first in range(0, len(updates), STATE_BATCH):
            group = updates[first : first + STATE_BATCH]
            try:
                states = self._states(group)
            except RemoteError as exc:
                for update in group:
                    yield update, failure(exc, SCOPES)
                continue
            for update in group:
                state = states.get(order_gid(update.external_id))
                try:
                    yield update, self._one(update, state)
                except RemoteError as exc:
                    yield update, failure(exc, SCOPES)

    def _states(self, group: list[Update]) -> dict[str, dict[str, Any]]:
        data = self.shop.graphql(STATE_QUERY, {"ids": [order_gid(u.external_id) for u in group]})
        nodes = data.get("nodes") if isinstance(data, dict) else None
        if not isinstance(nodes, list):
            raise RemoteError(f"{self.shop.endpoint} answered the state query without nodes")
        return {n["id"]: n for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)}

    def _one(self, update: Update, state: dict[str, Any] | None) -> Outcome:
        if state is None:
            return Failed(f"order {update.reference} is not on Shopify (deleted?)", False)
        if update.kind == "cancel":
            return self._cancel(update, state)
        return self._fulfil(update, state)

    def _fulfil(self, update: Update, state: dict[str, Any]) -> Outcome:
        tracking = update.tracking_number or ""
        for fulfillment in state.get("fulfillments") or []:
            numbers = [t.get("number") for t in fulfillment.get("trackingInfo") or []]
            if tracking in numbers:
                return Sent(f"already fulfilled with tracking {tracking}", fulfillment.get("id"))
        orders = (state.get("fulfillmentOrders") or {}).get("nodes") or []
        open_orders = [o for o in orders if o.get("status") in OPEN_STATES]
        if not open_orders:
            held = [o.get("status") for o in orders if o.get("status") not in ("CLOSED",)]
            why = (
                f"its fulfillment orders are {', '.join(map(str, held))}"
                if held
                else ("it has no open fulfillment order (fulfilled another way?)")
            )
            return Failed(f"order {update.reference} cannot be fulfilled on Shopify: {why}", False)
        tracking_info: dict[str, Any] = {"number": tracking}
        if update.carrier:
            tracking_info["company"] = update.carrier
        groups = _our_items(open_orders, update.lines)
        if not groups:
            return Failed(
                f"order {update.reference}: none of its lines is still to fulfil on Shopify", False
            )
        fulfillment = {
            "lineItemsByFulfillmentOrder": groups,
            "trackingInfo": tracking_info,
            "notifyCustomer": self.notify,
        }
        data = self.shop.graphql(FULFIL_MUTATION, {"fulfillment": fulfillment}, once=True)
        payload = (data or {}).get("fulfillmentCreate") or {}
        if payload.get("userErrors"):
            return Failed(_user_errors(payload["userErrors"]), False)
        created = payload.get("fulfillment") or {}
        return Sent(f"fulfilled with tracking {tracking}", created.get("id"))

    def _cancel(self, update: Update, state: dict[str, Any]) -> Outcome:
        if state.get("cancelledAt"):
            return Sent("already cancelled on Shopify")
        variables = {
            "orderId": state["id"],
            "reason": CANCEL_REASONS.get(update.reason or "", "OTHER"),
            "refundMethod": {"originalPaymentMethodsRefund": False},
            "restock": False,
            "notifyCustomer": self.notify,
            "staffNote": f"avasam: cancelled ({update.reason})",
        }
        data = self.shop.graphql(CANCEL_MUTATION, variables, once=True)
        payload = (data or {}).get("orderCancel") or {}
        if payload.get("orderCancelUserErrors"):
            return Failed(_user_errors(payload["orderCancelUserErrors"]), False)
        job = payload.get("job") or {}
        return Sent(f"cancelled ({update.reason})", job.get("id"))


def _our_items(
    open_orders: list[dict[str, Any]], lines: tuple[tuple[str, int], ...]
) -> list[dict[str, Any]]:
    """The fulfillment-order line items that are our order's lines (by SKU, or by variant
    for a line that had none), with our quantities: a channel order split between
    suppliers is fulfilled part by part, each part with its own tracking number."""
    wanted: dict[str, int] = {}
    for sku, quantity in lines:
        wanted[sku] = wanted.get(sku, 0) + quantity
    groups = []
    for fulfillment_order in open_orders:
        items = []
        for item in (fulfillment_order.get("lineItems") or {}).get("nodes") or []:
            line = item.get("lineItem") or {}
            variant = (line.get("variant") or {}).get("legacyResourceId")
            key = line.get("sku") or (f"variant-{variant}" if variant else "")
            quantity = min(wanted.get(key, 0), int(item.get("remainingQuantity") or 0))
            if quantity > 0:
                items.append({"id": item["id"], "quantity": quantity})
                wanted[key] -= quantity
        if items:
            groups.append(
                {"fulfillmentOrderId": fulfillment_order["id"], "fulfillmentOrderLineItems": items}
            )
    return groups


def _user_errors(errors: Any) -> str:
    first = errors[0] if isinstance(errors, list) and errors else {}
    message = first.get("message") if isinstance(first, dict) else None
    return f"Shopify refused it: {printable(str(message or errors)[:200])}"


def throttle_wait(body: dict[str, Any]) -> float | None:
    """Seconds to wait before asking again when the answer is THROTTLED; else None."""
    errors = body.get("errors")
    if not isinstance(errors, list) or not any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    ):
        return None
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        deficit = float(cost.get("requestedQueryCost", 0)) - float(
            status.get("currentlyAvailable", 0)
        )
        rate = float(status.get("restoreRate", 0))
    except (TypeError, ValueError):
        return 1.0
    if rate <= 0:
        return 1.0
    return min(max(deficit / rate, 0.1), MAX_THROTTLE_WAIT)


def describe_errors(errors: Any) -> str:
    """One line from GraphQL `errors`: the first message, or the scope a token lacks."""
    first = errors[0] if isinstance(errors, list) and errors else errors
    if not isinstance(first, dict):
        return f"the shop refused the request: {str(first)[:200]}"
    extensions = first.get("extensions")
    if isinstance(extensions, dict) and extensions.get("code") == "ACCESS_DENIED":
        needed = printable(str(extensions.get("requiredAccess") or "a scope the token lacks")[:200])
        return (
            f"access denied: the app's token needs {needed} (give the custom app that scope "
            "in the shop's admin, then reinstall it)"
        )
    return f"the shop refused the request: {printable(str(first.get('message'))[:200])}"


def _money(line: dict[str, Any]) -> Any:
    price = line.get("originalUnitPriceSet")
    shop_money = price.get("shopMoney") if isinstance(price, dict) else None
    return shop_money.get("amount") if isinstance(shop_money, dict) else None


def _variant_sku(line: dict[str, Any]) -> str | None:
    variant = line.get("variant")
    legacy = variant.get("legacyResourceId") if isinstance(variant, dict) else None
    return f"variant-{legacy}" if legacy else None


def shopify_fields(item: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    address = item.get("shippingAddress")
    if not isinstance(address, dict):
        raise FieldError("has no shipping address")
    name = address.get("name") or " ".join(
        part for part in (address.get("firstName"), address.get("lastName")) if part
    )
    shipping = item.get("shippingLine")
    if shipping is not None and not isinstance(shipping, dict):
        raise FieldError("shippingLine is not an object")
    fields = {
        "order_id": item.get("legacyResourceId"),
        "reference": item.get("name"),
        "placed_at": item.get("createdAt"),
        "status": "cancelled" if item.get("cancelledAt") else "open",
        "name": name,
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "county": address.get("province"),
        "postcode": address.get("zip"),
        "country": address.get("countryCodeV2"),
        "phone": address.get("phone") or item.get("phone"),
        "email": item.get("email"),
        "shipping_method": (shipping or {}).get("title"),
    }
    line_items = item.get("lineItems")
    nodes = line_items.get("nodes") if isinstance(line_items, dict) else None
    if nodes is not None and not isinstance(nodes, list):
        raise FieldError("lineItems.nodes is not a list")
    lines = [
        {
            "sku": line.get("sku") or _variant_sku(line),
            "title": line.get("title"),
            "quantity": line.get("quantity"),
            "unit_price": _money(line),
        }
        for line in nodes or []
    ]
    return fields, lines
