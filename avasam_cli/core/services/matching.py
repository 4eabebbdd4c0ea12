"""`orders match`: link waiting orders' lines to products, or give up after the window.

Works in chunks of plain rows (no ORM objects) and writes set-based: one UPDATE of the
lines per product linked (`WHERE id IN (...)`), one UPDATE of the orders per distinct set
of new values, the audit events straight to the driver (`BulkWriter`); lines moving to a
split-off order are the only ones updated one by one. Each chunk is one transaction; on
PostgreSQL its rows are locked with SKIP LOCKED, so two runs at once share the work instead
of doing it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from avasam_cli.core.incoming import LinkedProduct, group_by_supplier
from avasam_cli.core.lifecycle import HoldReason, Status, move_row
from avasam_cli.core.models import Base, Order, OrderLine, ShippingMapping, table
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.services.intake import EVENT_COLUMNS, BulkWriter
from avasam_cli.core.services.sku_links import SkuResolver
from avasam_cli.core.textfold import fold_text
from avasam_cli.core.workspace import Workspace

CHUNK = 10_000  # orders per transaction (and IN lists of their lines: see BulkWriter)


@dataclass
class MatchSummary:
    matched: int = 0
    held: int = 0
    waiting: int = 0
    unmatched: int = 0


def match_waiting(
    ws: Workspace, *, include_unmatched: bool, progress: Progress = SILENT
) -> MatchSummary:
    window = ws.settings.match_window  # AVASAM_MATCH_WINDOW, default 4 days
    statuses = [Status.MATCHING, *([Status.UNMATCHED] if include_unmatched else [])]
    with ws.uow(read_only=True) as uow:
        # Sorted here, not by ORDER BY id: with it, SQLite walks the whole table in id
        # order instead of searching the status index (2 s at 1M orders with none waiting).
        ids = sorted(uow.session.scalars(select(Order.id).where(Order.status.in_(statuses))))
    summary = MatchSummary()
    progress.start(len(ids))
    for start in range(0, len(ids), CHUNK):
        with ws.uow() as uow:
            _Chunk(uow.session, ws.actor, ws.now(), window, summary).run(
                ids[start : start + CHUNK], statuses
            )
            uow.commit()
        progress.advance(len(ids[start : start + CHUNK]))
    return summary


def _update_by_id(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Plain executemany UPDATEs by primary key, one per shape of row."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    target = table(model)
    for keys, batch in shapes.items():
        values: dict[str, Any] = {key: bindparam(f"v_{key}") for key in keys if key != "id"}
        session.execute(
            update(target).where(target.c.id == bindparam("v_id")).values(values),
            [{f"v_{key}": value for key, value in row.items()} for row in batch],
        )


def _update_orders(writer: BulkWriter, rows: list[dict[str, Any]]) -> None:
    """One UPDATE of the orders per distinct set of new values (most orders of a chunk
    share them: queue, the supplier, the service), `WHERE id IN (...)`."""
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for row in rows:
        values = tuple(sorted((key, value) for key, value in row.items() if key != "id"))
        groups.setdefault(values, []).append(row["id"])
    for values, ids in groups.items():
        writer.update_in("orders", dict(values), ids)


def _link_lines(writer: BulkWriter, links: dict[LinkedProduct, list[int]]) -> None:
    """Link lines to their product: one UPDATE per product (so per distinct SKU), by the
    lines' ids (by `channel_sku = ?` SQLite would walk every line of the SKU ever taken).
    Far faster than one UPDATE per line: SQLite's title index (FTS5) updates in bulk."""
    for product, line_ids in links.items():
        values = {
            "product_id": product.id,
            "sku": product.sku,
            "supplier_product_id": product.supplier_product_id,
            "title": product.title,
            "search_title": fold_text(product.title),
        }
        writer.update_in("order_lines", values, line_ids)


class _Chunk:
    def __init__(
        self,
        session: Session,
        actor: str,
        now: datetime,
        window: timedelta,
        summary: MatchSummary,
    ) -> None:
        self.session, self.actor, self.now = session, actor, now
        self.window, self.summary = window, summary
        self.resolvers: dict[int, SkuResolver] = {}
        self.shipping: dict[int, dict[str, str]] = {}
        self.order_updates: dict[int, dict[str, Any]] = {}  # grouped by _update_orders
        self.links: dict[LinkedProduct, list[int]] = {}  # product: ids of lines to link
        self.line_updates: list[dict[str, Any]] = []  # lines moving to a split-off order
        self.events: list[dict[str, Any]] = []

    def run(self, ids: list[int], statuses: list[Status]) -> None:
        orders = self.session.execute(
            select(
                Order.id,
                Order.channel_id,
                Order.status,
                Order.downloaded_at,
                Order.shipping_service,
                Order.channel_shipping_method,
            )
            .where(Order.id.in_(ids), Order.status.in_(statuses))
            .with_for_update(skip_locked=True)
        ).all()
        lines: dict[int, list[Any]] = {}
        for line in self.session.execute(
            select(OrderLine.id, OrderLine.order_id, OrderLine.channel_sku, OrderLine.quantity)
            .where(OrderLine.order_id.in_([o.id for o in orders]))
            .order_by(OrderLine.order_id, OrderLine.line_no)
        ):
            lines.setdefault(line.order_id, []).append(line)
        by_channel: dict[int, set[str]] = {}
        for order in orders:
            by_channel.setdefault(order.channel_id, set()).update(
                x.channel_sku for x in lines[order.id]
            )
        for channel_id, skus in by_channel.items():
            self._resolver(channel_id).prefetch(skus)
        for order in orders:
            self._one(order, lines[order.id])
        _update_by_id(self.session, OrderLine, self.line_updates)
        writer = BulkWriter(self.session)
        _update_orders(writer, list(self.order_updates.values()))
        _link_lines(writer, self.links)
        writer.insert("order_events", EVENT_COLUMNS, writer.tuples(self.events, EVENT_COLUMNS))

    def _one(self, order: Any, lines: list[Any]) -> None:
        resolver = self._resolver(order.channel_id)
        products = [resolver.get(line.channel_sku) for line in lines]
        if any(product is None for product in products):
            if order.status == Status.MATCHING and order.downloaded_at + self.window <= self.now:
                self._move(
                    order.id,
                    order.status,
                    Status.UNMATCHED,
                    {},
                    {
                        "unlinked": ", ".join(
                            sorted(
                                {
                                    line.channel_sku
                                    for line, product in zip(lines, products, strict=True)
                                    if product is None
                                }
                            )
                        )
                    },
                )
                self.summary.unmatched += 1
            else:
                self.summary.waiting += 1
            return
        groups = group_by_supplier(
            (line, product) for line, product in zip(lines, products, strict=True) if product
        )
        service = order.shipping_service or self._shipping(order.channel_id).get(
            order.channel_shipping_method or ""
        )
        order_ids = [order.id, *self._split(order.id, len(groups) - 1)]
        for order_id, group in zip(order_ids, groups, strict=True):
            self._matched(order, order_id, group, service, split=len(groups) > 1)

    def _matched(
        self,
        order: Any,
        order_id: int,
        group: list[tuple[Any, LinkedProduct]],
        service: str | None,
        *,
        split: bool,
    ) -> None:
        for line_no, (line, product) in enumerate(group, start=1):
            if not split:  # set-based, per product (see _link_lines)
                self.links.setdefault(product, []).append(line.id)
                continue
            # lines move to the split-off orders and are numbered again: one by one
            self.line_updates.append(
                {
                    "id": line.id,
                    "order_id": order_id,
                    "line_no": line_no,
                    "product_id": product.id,
                    "sku": product.sku,
                    "supplier_product_id": product.supplier_product_id,
                    "title": product.title,
                    "search_title": fold_text(product.title),
                }
            )
        values = {
            "supplier_id": group[0][1].supplier_id,
            "shipping_service": service,
            "item_count": sum(line.quantity for line, _ in group),
        }
        from_status = order.status if order_id == order.id else Status.MATCHING
        self._move(order_id, from_status, Status.QUEUE, values, {"lines": len(group)})
        self.summary.matched += 1
        if service is None:
            self._move(
                order_id,
                Status.QUEUE,
                Status.HELD,
                {"hold_reason": HoldReason.SHIPPING_UNMAPPED},
                {"reason": HoldReason.SHIPPING_UNMAPPED, "method": order.channel_shipping_method},
            )
            self.summary.held += 1

    def _move(
        self,
        order_id: int,
        current: str,
        target: Status,
        values: dict[str, Any],
        details: dict[str, Any],
    ) -> None:
        """Move the order's pending UPDATE row (its status is `current` when it has none yet)."""
        pending = self.order_updates.setdefault(order_id, {"id": order_id, "status": current})
        pending.update(values)
        self.events.append(
            move_row(pending, target, actor=self.actor, at=self.now, details=details)
        )

    def _split(self, order_id: int, extra: int) -> list[int]:
        """New orders (copies of `order_id`) for the lines of the other suppliers."""
        if extra == 0:
            return []
        source = self.session.get_one(Order, order_id)
        columns = [c.key for c in table(Order).columns if c.key not in ("id", "status")]
        copies = [{key: getattr(source, key) for key in columns} for _ in range(extra)]
        events = [
            move_row(
                copy,
                Status.MATCHING,
                actor=self.actor,
                at=self.now,
                details={"split_from": order_id},
            )
            for copy in copies
        ]
        orders = table(Order)
        ids = list(self.session.execute(insert(orders).returning(orders.c.id), copies).scalars())
        for new_id, event in zip(ids, events, strict=True):  # the copies are alike
            event["order_id"] = new_id
        self.events += events
        return ids

    def _resolver(self, channel_id: int) -> SkuResolver:
        if channel_id not in self.resolvers:
            self.resolvers[channel_id] = SkuResolver(self.session, channel_id)
        return self.resolvers[channel_id]

    def _shipping(self, channel_id: int) -> dict[str, str]:
        if channel_id not in self.shipping:
            self.shipping[channel_id] = shipping_map(self.session, channel_id)
        return self.shipping[channel_id]


def shipping_map(session: Session, channel_id: int) -> dict[str, str]:
    rows = session.execute(
        select(ShippingMapping.method, ShippingMapping.service).where(
            ShippingMapping.channel_id == channel_id
        )
    )
    return {method: service for method, service in rows}
