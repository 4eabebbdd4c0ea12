"""`orders process`: hold rules, invoice, payment from the balance, stock, numbering.

The queue goes in batches (`BATCH` orders, one transaction each, `_Batch`): the batch's
order rows are locked, then their products sorted by id, then the account row (the writers'
lock order); each order is decided in turn in memory (the stock and balance one order
leaves are what the next one sees) and the rows are written set-based, audit events
included. A batch that fails for any reason is rolled back whole and its orders are
processed again one by one (`process_order`: one order, one transaction, its row locked),
where an order that cannot be processed is marked and the others go on. So an order's
payment is all or nothing, and re-running, or two processes at once, never charge an order
twice: the second finds it already `open`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.db import retry_conflicts
from avasam_cli.core.errors import describe_unexpected
from avasam_cli.core.incoming import address_problems
from avasam_cli.core.lifecycle import (
    HoldReason,
    Payment,
    Status,
    event_row,
    move_row,
    record_event,
    transition,
)
from avasam_cli.core.models import (
    Account,
    Order,
    OrderLine,
    Product,
    ShippingService,
    Supplier,
)
from avasam_cli.core.money import format_pence, vat_on
from avasam_cli.core.postcodes import is_excluded
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.services.account import ACCOUNT_ID, InsufficientBalance, post
from avasam_cli.core.services.intake import EVENT_COLUMNS, BulkWriter
from avasam_cli.core.services.lookup import lock_order, lock_products, order_number
from avasam_cli.core.services.matching import shipping_map
from avasam_cli.core.workspace import Workspace

BATCH = 500  # orders per transaction
DETAIL_LIMIT = 200  # orders.hold_detail


@dataclass
class Outcome:
    order_id: int
    number: str | None
    reference: str | None
    status: str
    payment_status: str
    total: str
    detail: str


def pending_order_ids(ws: Workspace) -> list[int]:
    with ws.uow(read_only=True) as uow:
        # Sorted here, not by ORDER BY id: with it, SQLite walks the whole table in id
        # order instead of searching the status index (slow at 1M orders with none queued).
        return sorted(
            uow.session.scalars(
                select(Order.id).where(
                    Order.status.in_([Status.QUEUE, Status.HELD]),
                    Order.payment_status == Payment.UNPAID,
                )
            )
        )


def process_pending(ws: Workspace, progress: Progress = SILENT) -> Iterator[Outcome]:
    """Process every order in `queue` and re-check every `held` one."""
    order_ids = pending_order_ids(ws)
    progress.start(len(order_ids))
    for start in range(0, len(order_ids), BATCH):
        batch = order_ids[start : start + BATCH]
        try:
            outcomes = retry_conflicts(partial(process_batch, ws, batch))
        except Exception:  # rolled back whole: one by one, so one broken order stops no other
            yield from _one_by_one(ws, batch, progress)
            continue
        for outcome in outcomes:
            progress.advance()
            if outcome is not None:
                yield outcome


def _one_by_one(ws: Workspace, order_ids: list[int], progress: Progress) -> Iterator[Outcome]:
    for order_id in order_ids:
        try:
            outcome = retry_conflicts(partial(process_order, ws, order_id))
        except Exception as exc:  # one broken order must never stop the rest of the queue
            outcome = _mark_failed(ws, order_id, exc)
        progress.advance()
        if outcome is not None:
            yield outcome


def process_order(ws: Workspace, order_id: int) -> Outcome | None:
    """One order, one transaction. None when another process got there first."""
    with ws.uow() as uow:
        session, now = uow.session, ws.now()
        order = lock_order(session, order_id)
        if (
            order.status not in (Status.QUEUE, Status.HELD)
            or order.payment_status != Payment.UNPAID
        ):
            return None
        hold, service, products = check_hold(session, order)
        if hold is not None:
            _hold(session, order, hold, ws.actor, now)
            uow.commit()
            return _outcome(order, f"held: {hold.reason}")
        if order.status == Status.HELD:
            _release(session, order, ws.actor, now)
        assert service is not None  # the hold rule checked it
        _invoice(order, products, service)
        try:
            entry = post(
                session,
                "payment",
                -order.total_pence,
                actor=ws.actor,
                at=now,
                reference=f"order {order.id}",
                order_id=order.id,
            )
        except InsufficientBalance as exc:
            _payment_failed(session, order, str(exc), ws.actor, now)
            uow.commit()
            return _outcome(order, f"payment failed: {exc}")
        _pass_to_supplier(session, order, products, entry.balance_after_pence, ws.actor, now)
        uow.commit()
        return _outcome(order, "paid and passed to the supplier")


def _mark_failed(ws: Workspace, order_id: int, exc: Exception) -> Outcome:
    """Record on the order why it could not be processed (its own transaction was rolled
    back): `status` counts it, and the next run tries it again."""
    reason = f"processing failed ({describe_unexpected(exc)})"[:300]
    with ws.uow() as uow:
        order = lock_order(uow.session, order_id)
        order.payment_error = reason
        record_event(
            uow.session,
            order,
            "processing_failed",
            actor=ws.actor,
            at=ws.now(),
            details={"error": reason},
        )
        uow.commit()
        return _outcome(order, reason)


class Hold(NamedTuple):
    """Why an order must wait, and (for some reasons) exactly what, in words."""

    reason: HoldReason
    detail: str | None = None


def check_hold(
    session: Session, order: Order
) -> tuple[Hold | None, ShippingService | None, dict[int, Product]]:
    """The hold rule for a locked order in queue or held (its products locked too), with
    the service and products that decided it; maps a channel shipping method mapped since
    the order came in (`channels map-shipping`)."""
    supplier = session.get_one(Supplier, order.supplier_id)
    if order.shipping_service is None and order.channel_shipping_method:
        order.shipping_service = shipping_map(session, order.channel_id).get(
            order.channel_shipping_method
        )
    products = lock_products(session, order)
    service = _service(session, order)
    needed = _needed((line.product_id, line.quantity) for line in order.lines)
    stock = {product_id: product.stock for product_id, product in products.items()}
    hold = hold_rule(
        order.country,
        order.postcode,
        supplier.international,
        supplier.excluded_postcodes,
        service is not None,
        needed,
        stock,
        address1=order.address1,
        city=order.city,
    )
    return hold, service, products


def recheck(session: Session, order: Order, actor: str, now: datetime) -> str | None:
    """Hold or release a locked order in queue or held at once, as the next `orders
    process` would (without paying it): what changed ('held: REASON', 'released'), or None."""
    hold, _, _ = check_hold(session, order)
    if hold is not None:
        return f"held: {hold.reason}" if _hold(session, order, hold, actor, now) else None
    if order.status == Status.HELD:
        _release(session, order, actor, now)
        return "released"
    return None


def hold_rule(
    country: str,
    postcode: str,
    international: bool,
    excluded_postcodes: str,
    has_service: bool,
    needed: Mapping[int, int],
    stock: Mapping[int, int],
    *,
    address1: str,
    city: str,
) -> Hold | None:
    """Why an order must wait (the first reason that applies), or None."""
    if country != "GB" and not international:
        return Hold(HoldReason.OUTSIDE_UK)
    problems = address_problems(address1, city, postcode, country)
    if problems:  # never let through what cannot be checked or delivered
        return Hold(HoldReason.INVALID_ADDRESS, "; ".join(problems)[:DETAIL_LIMIT])
    if country == "GB" and is_excluded(postcode, excluded_postcodes):
        return Hold(HoldReason.EXCLUDED_POSTCODE)
    if not has_service:
        return Hold(HoldReason.SHIPPING_UNMAPPED)
    if any(stock[pid] < qty for pid, qty in needed.items()):
        return Hold(HoldReason.OUT_OF_STOCK)
    return None


def _needed(lines: Iterable[tuple[int | None, int]]) -> dict[int, int]:
    """Quantity needed per product."""
    needed: dict[int, int] = {}
    for product_id, quantity in lines:
        assert product_id is not None
        needed[product_id] = needed.get(product_id, 0) + quantity
    return needed


def _service(session: Session, order: Order) -> ShippingService | None:
    if order.shipping_service is None:
        return None
    return session.scalar(
        select(ShippingService).where(
            ShippingService.supplier_id == order.supplier_id,
            ShippingService.service == order.shipping_service,
        )
    )


def _hold(session: Session, order: Order, hold: Hold, actor: str, now: datetime) -> bool:
    """Hold the order (or hold it for a new cause); False when it was held for this one."""
    if order.status == Status.HELD and (order.hold_reason, order.hold_detail) == hold:
        return False  # still held for the same reason: nothing new for the audit trail
    order.hold_reason, order.hold_detail = hold
    details = {"reason": hold.reason, "detail": hold.detail}
    transition(session, order, Status.HELD, actor=actor, at=now, details=details)
    return True


def _release(session: Session, order: Order, actor: str, now: datetime) -> None:
    details = {"was": order.hold_reason}
    transition(session, order, Status.QUEUE, actor=actor, at=now, details=details)
    order.hold_reason = order.hold_detail = None


@dataclass(frozen=True)
class Invoice:
    lines: list[tuple[int, int, int, int]]  # per line: unit price, VAT rate, VAT, total
    items_pence: int
    shipping_pence: int
    vat_pence: int
    total_pence: int


def invoice(
    lines: Iterable[tuple[int | None, int]],
    prices: Mapping[int, tuple[int, int]],
    shipping: tuple[int, int],
) -> Invoice:
    """Prices and VAT per line (half up) from the catalogue as it is now: `lines` as
    (product id, quantity), `prices` and `shipping` as (price, VAT rate in basis points)."""
    items = vat = 0
    priced = []
    for product_id, quantity in lines:
        assert product_id is not None
        price, rate = prices[product_id]
        net = price * quantity
        line_vat = vat_on(net, rate)
        priced.append((price, rate, line_vat, net + line_vat))
        items += net
        vat += line_vat
    shipping_price, shipping_rate = shipping
    vat += vat_on(shipping_price, shipping_rate)
    return Invoice(priced, items, shipping_price, vat, items + shipping_price + vat)


def _invoice(order: Order, products: dict[int, Product], service: ShippingService) -> None:
    bill = invoice(
        ((line.product_id, line.quantity) for line in order.lines),
        {pid: (p.price_pence, p.vat_rate_bp) for pid, p in products.items()},
        (service.price_pence, service.vat_rate_bp),
    )
    for line, (price, rate, line_vat, total) in zip(order.lines, bill.lines, strict=True):
        line.unit_price_pence, line.vat_rate_bp = price, rate
        line.line_vat_pence, line.line_total_pence = line_vat, total
    order.items_pence, order.shipping_pence = bill.items_pence, bill.shipping_pence
    order.vat_pence, order.total_pence = bill.vat_pence, bill.total_pence


def _payment_failed(
    session: Session, order: Order, message: str, actor: str, now: datetime
) -> None:
    if order.payment_error == message:
        return  # the same failure as last run: the audit already says so
    order.payment_error = message
    record_event(
        session,
        order,
        "payment_failed",
        actor=actor,
        at=now,
        details={"total": format_pence(order.total_pence), "error": message},
    )


def _pass_to_supplier(
    session: Session,
    order: Order,
    products: dict[int, Product],
    balance_after: int,
    actor: str,
    now: datetime,
) -> None:
    for line in order.lines:
        assert line.product_id is not None
        products[line.product_id].stock -= line.quantity
    record_event(
        session,
        order,
        "invoiced",
        actor=actor,
        at=now,
        details=_invoiced(order.items_pence, order.shipping_pence, order.vat_pence),
    )
    record_event(
        session,
        order,
        "payment_taken",
        actor=actor,
        at=now,
        details=_taken(order.total_pence, balance_after),
    )
    order.payment_status, order.payment_error, order.paid_at = Payment.PAID, None, now
    order.number = order_number(order.id)
    transition(
        session,
        order,
        Status.OPEN,
        actor=actor,
        at=now,
        details={"number": order.number, "stock": "reserved"},
    )


def _invoiced(items: int, shipping: int, vat: int) -> dict[str, Any]:
    return {
        "items": format_pence(items),
        "shipping": format_pence(shipping),
        "vat": format_pence(vat),
        "total": format_pence(items + shipping + vat),
    }


def _taken(total: int, balance_after: int) -> dict[str, Any]:
    return {"amount": format_pence(total), "balance_after": format_pence(balance_after)}


def _outcome(order: Order, detail: str) -> Outcome:
    return Outcome(
        order_id=order.id,
        number=order.number,
        reference=order.channel_reference,
        status=order.status,
        payment_status=order.payment_status,
        total=format_pence(order.total_pence),
        detail=detail,
    )


def process_batch(ws: Workspace, order_ids: list[int]) -> list[Outcome | None]:
    """The orders of `order_ids` in one transaction; per order its outcome, or None when it
    was no longer waiting (another process got there first)."""
    with ws.uow() as uow:
        batch = _Batch(uow.session, ws.actor, ws.now())
        outcomes = batch.run(order_ids)
        batch.write()
        uow.commit()
    return outcomes


ORDER_STATE = (
    "status",
    "hold_reason",
    "hold_detail",
    "shipping_service",
    "payment_status",
    "payment_error",
    "paid_at",
    "number",
    "items_pence",
    "shipping_pence",
    "vat_pence",
    "total_pence",
    "updated_at",
)
LINE_PRICES = ("unit_price_pence", "vat_rate_bp", "line_vat_pence", "line_total_pence")


class _Batch:
    """process_order for many orders as plain rows: the same decisions, written set-based."""

    def __init__(self, session: Session, actor: str, now: datetime) -> None:
        self.session, self.actor, self.now = session, actor, now
        self.orders: list[dict[str, Any]] = []  # changed orders (ORDER_STATE and id)
        self.lines: list[dict[str, Any]] = []  # priced lines (LINE_PRICES and id)
        self.events: list[dict[str, Any]] = []
        self.ledger: list[dict[str, Any]] = []
        self.shipping: dict[int, dict[str, str]] = {}

    def run(self, order_ids: list[int]) -> list[Outcome | None]:
        session = self.session
        columns = [
            Order.id,
            Order.supplier_id,
            Order.channel_id,
            Order.channel_reference,
            Order.channel_shipping_method,
            Order.country,
            Order.postcode,
            Order.address1,
            Order.city,
            *(getattr(Order, name) for name in ORDER_STATE),
        ]
        # Locks in the writers' order: the orders (by id), their products (by id), the account.
        rows = session.execute(
            select(*columns).where(Order.id.in_(order_ids)).order_by(Order.id).with_for_update()
        ).mappings()
        found = {row["id"]: dict(row) for row in rows}
        waiting = [
            found[order_id]
            for order_id in order_ids
            if order_id in found
            and found[order_id]["status"] in (Status.QUEUE, Status.HELD)
            and found[order_id]["payment_status"] == Payment.UNPAID
        ]
        lines: dict[int, list[Any]] = {order["id"]: [] for order in waiting}
        for line in session.execute(
            select(OrderLine.id, OrderLine.order_id, OrderLine.product_id, OrderLine.quantity)
            .where(OrderLine.order_id.in_(list(lines)))
            .order_by(OrderLine.order_id, OrderLine.line_no)
        ):
            lines[line.order_id].append(line)
        supplier_ids = list({order["supplier_id"] for order in waiting})
        self.suppliers = {
            row.id: row
            for row in session.execute(
                select(Supplier.id, Supplier.international, Supplier.excluded_postcodes).where(
                    Supplier.id.in_(supplier_ids)
                )
            )
        }
        self.services = {
            (row.supplier_id, row.service): (row.price_pence, row.vat_rate_bp)
            for row in session.execute(
                select(
                    ShippingService.supplier_id,
                    ShippingService.service,
                    ShippingService.price_pence,
                    ShippingService.vat_rate_bp,
                ).where(ShippingService.supplier_id.in_(supplier_ids))
            )
        }
        product_ids = sorted(
            {line.product_id for order in lines.values() for line in order if line.product_id}
        )
        products = session.execute(
            select(Product.id, Product.price_pence, Product.vat_rate_bp, Product.stock)
            .where(Product.id.in_(product_ids))
            .order_by(Product.id)
            .with_for_update()
        ).all()
        self.prices = {row.id: (row.price_pence, row.vat_rate_bp) for row in products}
        self.stock = {row.id: row.stock for row in products}
        self.stock_before = dict(self.stock)
        self.balance = self.balance_before = session.execute(
            select(Account.balance_pence).where(Account.id == ACCOUNT_ID).with_for_update()
        ).scalar_one()
        decided = {order["id"]: self._one(order, lines[order["id"]]) for order in waiting}
        return [decided.get(order_id) for order_id in order_ids]

    def _one(self, order: dict[str, Any], lines: list[Any]) -> Outcome:
        """process_order's decisions for one order (see there)."""
        before = dict(order)
        if order["shipping_service"] is None and order["channel_shipping_method"]:
            order["shipping_service"] = self._shipping(order["channel_id"]).get(
                order["channel_shipping_method"]
            )
        supplier = self.suppliers[order["supplier_id"]]
        service = (
            self.services.get((order["supplier_id"], order["shipping_service"]))
            if order["shipping_service"] is not None
            else None
        )
        hold = hold_rule(
            order["country"],
            order["postcode"],
            supplier.international,
            supplier.excluded_postcodes,
            service is not None,
            _needed((line.product_id, line.quantity) for line in lines),
            self.stock,
            address1=order["address1"],
            city=order["city"],
        )
        if hold is not None:
            if (
                order["status"] != Status.HELD
                or (order["hold_reason"], order["hold_detail"]) != hold
            ):
                order["hold_reason"], order["hold_detail"] = hold
                self._move(order, Status.HELD, {"reason": hold.reason, "detail": hold.detail})
            detail = f"held: {hold.reason}"
        else:
            assert service is not None  # hold_rule checked it
            detail = self._pay(order, lines, service)
        if order != before:
            self.orders.append(order)
        return Outcome(
            order_id=order["id"],
            number=order["number"],
            reference=order["channel_reference"],
            status=order["status"],
            payment_status=order["payment_status"],
            total=format_pence(order["total_pence"]),
            detail=detail,
        )

    def _pay(self, order: dict[str, Any], lines: list[Any], service: tuple[int, int]) -> str:
        if order["status"] == Status.HELD:
            self._move(order, Status.QUEUE, {"was": order["hold_reason"]})
            order["hold_reason"] = order["hold_detail"] = None
        bill = invoice(((line.product_id, line.quantity) for line in lines), self.prices, service)
        for line, priced in zip(lines, bill.lines, strict=True):
            self.lines.append({"id": line.id, **dict(zip(LINE_PRICES, priced, strict=True))})
        total = bill.total_pence
        order.update(
            items_pence=bill.items_pence,
            shipping_pence=bill.shipping_pence,
            vat_pence=bill.vat_pence,
            total_pence=total,
        )
        if self.balance - total < 0:
            message = str(InsufficientBalance(total, self.balance))
            if order["payment_error"] != message:  # the same failure as last run: said
                order["payment_error"] = message
                self._event(
                    order, "payment_failed", {"total": format_pence(total), "error": message}
                )
            return f"payment failed: {message}"
        self.balance -= total
        self.ledger.append(
            {
                "at": self.now,
                "kind": "payment",
                "amount_pence": -total,
                "balance_after_pence": self.balance,
                "reference": f"order {order['id']}",
                "order_id": order["id"],
                "actor": self.actor,
            }
        )
        for line in lines:
            self.stock[line.product_id] -= line.quantity
        self._event(
            order, "invoiced", _invoiced(bill.items_pence, bill.shipping_pence, bill.vat_pence)
        )
        self._event(order, "payment_taken", _taken(total, self.balance))
        order.update(
            payment_status=Payment.PAID,
            payment_error=None,
            paid_at=self.now,
            number=order_number(order["id"]),
        )
        self._move(order, Status.OPEN, {"number": order["number"], "stock": "reserved"})
        return "paid and passed to the supplier"

    def _move(self, order: dict[str, Any], target: Status, details: dict[str, Any]) -> None:
        self.events.append(move_row(order, target, actor=self.actor, at=self.now, details=details))

    def _event(self, order: dict[str, Any], event: str, details: dict[str, Any]) -> None:
        self.events.append(
            event_row(order["id"], event, actor=self.actor, at=self.now, details=details)
        )
        order["updated_at"] = self.now

    def _shipping(self, channel_id: int) -> dict[str, str]:
        if channel_id not in self.shipping:
            self.shipping[channel_id] = shipping_map(self.session, channel_id)
        return self.shipping[channel_id]

    def write(self) -> None:
        writer = BulkWriter(self.session)
        writer.update_rows("orders", ORDER_STATE, self.orders)
        writer.update_rows("order_lines", LINE_PRICES, self.lines)
        stock = [
            {"id": pid, "stock": value}
            for pid, value in self.stock.items()
            if value != self.stock_before[pid]
        ]
        writer.update_rows("products", ("stock",), stock)
        if self.balance != self.balance_before:
            writer.update_rows(
                "accounts", ("balance_pence",), [{"id": ACCOUNT_ID, "balance_pence": self.balance}]
            )
        ledger_columns = (
            "at",
            "kind",
            "amount_pence",
            "balance_after_pence",
            "reference",
            "order_id",
            "actor",
        )
        writer.insert("ledger_entries", ledger_columns, writer.tuples(self.ledger, ledger_columns))
        writer.insert("order_events", EVENT_COLUMNS, writer.tuples(self.events, EVENT_COLUMNS))
