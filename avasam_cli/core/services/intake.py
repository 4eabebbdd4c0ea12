"""Creating orders from incoming orders (a channel's, or one keyed in by hand), in bulk.

Lines linked to products are grouped by supplier: one order per supplier, all sharing
the source order's reference. An order with an unlinked line waits in `matching`. An order
whose shipping method maps to no service is `held` (shipping_unmapped) at once.
The lifecycle's row-level transition (`move_row`) sets each row's status and builds its
events. The rows then go to the database driver as they are (`BulkWriter`): plain tuples,
ids allocated up front, no per-row SQLAlchemy parameter processing, so a 100,000-order pull
runs at the driver's speed and its memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from avasam_cli.core.incoming import IncomingLine, IncomingOrder, group_by_supplier
from avasam_cli.core.lifecycle import HoldReason, Payment, Shipping, Status, move_row
from avasam_cli.core.textfold import fold_text

SOURCE_COLUMNS = ("id", "channel_id", "external_id", "reference", "content_hash", "downloaded_at")
LINE_COLUMNS = (
    "id",
    "order_id",
    "line_no",
    "channel_sku",
    "product_id",
    "sku",
    "supplier_product_id",
    "title",
    "search_title",
    "quantity",
    "channel_unit_price_pence",
    "unit_price_pence",
    "vat_rate_bp",
    "line_vat_pence",
    "line_total_pence",
)
EVENT_COLUMNS = ("order_id", "at", "actor", "event", "from_status", "to_status", "details")
# Columns holding a datetime or a status enum, converted for the driver (see BulkWriter).
TIMES = frozenset({"downloaded_at", "placed_at", "updated_at", "at", "paid_at"})
IN_LIST = 10_000  # ids per IN (...) list: SQLite takes at most 32,766 parameters
ENUMS = frozenset(
    {"status", "payment_status", "shipping_status", "hold_reason", "from_status", "to_status"}
)


@dataclass(frozen=True)
class Created:
    order_id: int
    source_id: int
    status: str


class BulkWriter:
    """Plain rows straight to the DB-API driver, in the session's transaction.

    SQLite: one `executemany` per table, with datetimes as the very text SQLAlchemy's
    SQLite DateTime writes (naive UTC, '%Y-%m-%d %H:%M:%S.%f'). PostgreSQL: COPY, with
    aware datetimes. Ids are allocated before the insert (SQLite: after max(id), safe
    because a writer holds the database's write lock from BEGIN IMMEDIATE; PostgreSQL:
    from the table's sequence), so no RETURNING is needed to learn them."""

    def __init__(self, session: Session) -> None:
        session.flush()  # ORM changes first, in the order they were made
        self.conn: Connection = session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"
        self._times: dict[datetime, Any] = {}

    def time(self, value: datetime | None) -> Any:
        if value is None:
            return None
        # Most rows share a few instants (the pull's `now`): convert each once.
        known = self._times.get(value)
        if known is None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            utc = value.astimezone(UTC)
            known = utc.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else utc
            self._times[value] = known
        return known

    def ids(self, table: str, count: int) -> list[int]:
        """`count` new ids for `table`, ascending."""
        if count == 0:
            return []
        if self.sqlite:
            start = self.conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar()
            return list(range(int(start or 0) + 1, int(start or 0) + 1 + count))
        result = self.conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (table, count),
        )
        return sorted(int(value) for value in result.scalars())

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            self.conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        raw = self.conn.connection.driver_connection
        assert raw is not None
        dbapi = self.conn.dialect.loaded_dbapi
        statement = f"COPY {table} ({names}) FROM STDIN"
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except dbapi.Error as exc:  # as SQLAlchemy would raise it (IntegrityError, DataError...)
            raise DBAPIError.instance(statement, None, exc, dbapi.Error) from exc

    def update_in(self, table: str, values: dict[str, Any], ids: list[int]) -> None:
        """UPDATE table SET values WHERE id IN ids: one statement per IN_LIST ids."""
        mark = "?" if self.sqlite else "%s"
        names = list(values)
        assignments = ", ".join(f"{name} = {mark}" for name in names)
        params = [self._value(name, values[name]) for name in names]
        for start in range(0, len(ids), IN_LIST):
            chunk = ids[start : start + IN_LIST]
            self.conn.exec_driver_sql(
                f"UPDATE {table} SET {assignments} WHERE id IN ({', '.join([mark] * len(chunk))})",
                tuple(params + chunk),
            )

    def update_rows(self, table: str, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
        """UPDATE table SET columns WHERE id = row["id"], one executemany for all rows."""
        if not rows:
            return
        mark = "?" if self.sqlite else "%s"
        assignments = ", ".join(f"{column} = {mark}" for column in columns)
        values = self.tuples(rows, [*columns, "id"])
        self.conn.exec_driver_sql(f"UPDATE {table} SET {assignments} WHERE id = {mark}", values)

    def _value(self, column: str, value: Any) -> Any:
        if column in TIMES:
            return self.time(value)
        return value.value if isinstance(value, Enum) else value

    def tuples(
        self, rows: Iterable[dict[str, Any]], columns: Sequence[str]
    ) -> list[tuple[Any, ...]]:
        """Dict rows as tuples in `columns` order, datetimes and enums made driver values."""
        times = [n for n, column in enumerate(columns) if column in TIMES]
        enums = [n for n, column in enumerate(columns) if column in ENUMS]
        out = []
        for row in rows:
            values = [row.get(column) for column in columns]
            for n in times:
                values[n] = self.time(values[n])
            for n in enums:
                value = values[n]
                if isinstance(value, Enum):  # psycopg would write an Enum's name
                    values[n] = value.value
            out.append(tuple(values))
        return out


def insert_sources(
    session: Session, channel_id: int, incoming: list[IncomingOrder], now: datetime
) -> list[int]:
    """One source_orders row per incoming order; their ids, in the same order."""
    writer = BulkWriter(session)
    ids = writer.ids("source_orders", len(incoming))
    at = writer.time(now)
    writer.insert(
        "source_orders",
        SOURCE_COLUMNS,
        [
            (source_id, channel_id, order.external_id, order.reference, order.content_hash(), at)
            for source_id, order in zip(ids, incoming, strict=True)
        ],
    )
    return ids


def create_orders(
    session: Session,
    channel_id: int,
    sources: list[tuple[int, IncomingOrder]],
    *,
    actor: str,
    now: datetime,
) -> list[Created]:
    """Insert the order(s) of each (source id, incoming order), with lines and audit events."""
    plans = [
        (source_id, incoming, lines, status)
        for source_id, incoming in sources
        for lines, status in _split(incoming)
    ]
    if not plans:
        return []
    writer = BulkWriter(session)
    order_ids = writer.ids("orders", len(plans))
    rows, event_rows, created = [], [], []
    line_count = sum(len(lines) for _, _, lines, _ in plans)
    line_ids = iter(writer.ids("order_lines", line_count))
    line_rows = []
    for order_id, (source_id, incoming, lines, status) in zip(order_ids, plans, strict=True):
        row = _order_row(channel_id, source_id, incoming, lines, status, now)
        row["id"] = order_id
        event_rows += _start(row, incoming, len(lines), status, actor, now)
        rows.append(row)
        created.append(Created(order_id, source_id, row["status"]))
        line_rows += [
            line_tuple(next(line_ids), order_id, n, line) for n, line in enumerate(lines, start=1)
        ]
    columns = tuple(rows[0])
    writer.insert("orders", columns, writer.tuples(rows, columns))
    writer.insert("order_lines", LINE_COLUMNS, line_rows)
    writer.insert("order_events", EVENT_COLUMNS, writer.tuples(event_rows, EVENT_COLUMNS))
    return created


def _split(incoming: IncomingOrder) -> list[tuple[list[IncomingLine], Status]]:
    """The orders an incoming order becomes, each with its first status: one per supplier
    of its lines, or one waiting in matching while a line is not linked to a product."""
    linked = [(line, line.product) for line in incoming.lines if line.product is not None]
    if len(linked) < len(incoming.lines):
        return [(incoming.lines, Status.MATCHING)]
    return [([line for line, _ in group], Status.QUEUE) for group in group_by_supplier(linked)]


def _start(
    row: dict[str, Any],
    incoming: IncomingOrder,
    line_count: int,
    status: Status,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Start the new order's row in `status` (held at once when its shipping method maps to
    no service); its audit events."""
    details: dict[str, Any] = {"reference": incoming.reference, "lines": line_count}
    events = [move_row(row, status, actor=actor, at=now, details=details)]
    if status == Status.QUEUE and not incoming.shipping_service:
        row["hold_reason"] = HoldReason.SHIPPING_UNMAPPED
        events.append(
            move_row(
                row,
                Status.HELD,
                actor=actor,
                at=now,
                details={
                    "reason": HoldReason.SHIPPING_UNMAPPED,
                    "method": incoming.channel_shipping_method,
                },
            )
        )
    return events


def _order_row(
    channel_id: int,
    source_id: int,
    incoming: IncomingOrder,
    lines: list[IncomingLine],
    status: Status,
    now: datetime,
) -> dict[str, Any]:
    first = lines[0].product
    return {
        "source_order_id": source_id,
        "channel_id": channel_id,
        "channel_reference": incoming.reference,
        "supplier_id": first.supplier_id if first and status != Status.MATCHING else None,
        "payment_status": Payment.UNPAID,
        "shipping_status": Shipping.UNSHIPPED,
        "hold_reason": None,
        "placed_at": incoming.placed_at,
        "downloaded_at": now,
        **vars(incoming.delivery),
        "shipping_service": incoming.shipping_service,
        "channel_shipping_method": incoming.channel_shipping_method,
        "items_pence": 0,
        "shipping_pence": 0,
        "vat_pence": 0,
        "total_pence": 0,
        "currency": "GBP",
        "note_count": 0,
        "item_count": sum(line.quantity for line in lines),
        "status": None,  # set by move_row (None: a new order)
        "updated_at": now,
    }


def line_tuple(line_id: int, order_id: int, line_no: int, line: IncomingLine) -> tuple[Any, ...]:
    """The line's row in LINE_COLUMNS order, for BulkWriter (the values of `line_row`)."""
    product = line.product
    title = (product.title if product else None) or line.title or line.channel_sku
    return (
        line_id,
        order_id,
        line_no,
        line.channel_sku,
        product.id if product else None,
        product.sku if product else None,
        product.supplier_product_id if product else None,
        title,
        _folded(title),
        line.quantity,
        line.channel_unit_price_pence,
        0,
        0,
        0,
        0,
    )


# A pull's titles repeat (a catalogue's products): fold each once.
_folded = lru_cache(maxsize=8192)(fold_text)


def line_row(order_id: int, line_no: int, line: IncomingLine) -> dict[str, Any]:
    product = line.product
    title = (product.title if product else None) or line.title or line.channel_sku
    return {
        "order_id": order_id,
        "line_no": line_no,
        "channel_sku": line.channel_sku,
        "product_id": product.id if product else None,
        "sku": product.sku if product else None,
        "supplier_product_id": product.supplier_product_id if product else None,
        "title": title,
        "search_title": fold_text(title),
        "quantity": line.quantity,
        "channel_unit_price_pence": line.channel_unit_price_pence,
        "unit_price_pence": 0,
        "vat_rate_bp": 0,
        "line_vat_pence": 0,
        "line_total_pence": 0,
    }
