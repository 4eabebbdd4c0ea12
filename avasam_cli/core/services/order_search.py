"""`orders list`: search, filters, sorting, paging and counting, streamed.

On the light read path (core/lightdb.py: the driver itself, no SQLAlchemy), so a search
answers in a fraction of a second at a million orders. Every search form is written so
both planners use an index: exact identifiers as a UNION of index lookups (an OR across
tables made PostgreSQL run a per-row SubPlan over the lines), title words through the
title index of migration 0009 (SQLite FTS5 trigram, PostgreSQL pg_trgm).

Search tries exact identifiers first (order number, channel reference, an item's channel
SKU, SKU or supplier product id); only when none match does it look for the words in item
titles: every word in one line's title, as a substring, case and accents folded
(core/textfold.py), so "cafe" finds "Café".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from avasam_cli.core.errors import InvalidInput, no_channel, no_supplier
from avasam_cli.core.lightdb import LightDB, escape_like
from avasam_cli.core.money import format_pence
from avasam_cli.core.services.order_ids import NUMBER
from avasam_cli.core.statuses import Status
from avasam_cli.core.textfold import fold_text
from avasam_cli.core.workspace import Workspace

SORTS = {
    "placed": "o.placed_at ASC, o.id ASC",
    "-placed": "o.placed_at DESC, o.id DESC",
    "total": "o.total_pence ASC, o.id ASC",
    "-total": "o.total_pence DESC, o.id DESC",
    "number": "o.number ASC NULLS LAST, o.id ASC",
}
# A trigram index finds substrings of three characters or more; shorter words are checked
# on the lines the longer ones found (or, alone, by reading the folded titles).
TRIGRAM = 3
# Lines a title search may find before walking the orders beats reading the index (SQLite).
COMMON = 20_000
# A page this deep or shallower is "the first rows": walking the orders finds it quickly.
FIRST_ROWS = 1_000


@dataclass
class OrderQuery:
    search: str | None = None
    statuses: list[str] = field(default_factory=list)
    payment: str | None = None
    shipping: str | None = None
    channel: str | None = None
    supplier: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    sort: str = "-placed"
    limit: int | None = 50
    offset: int = 0


@dataclass
class Where:
    """SQL conditions on `orders o`, joined by AND, with their `?` parameters in order."""

    sql: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, condition: str, *params: Any) -> None:
        self.sql.append(condition)
        self.params.extend(params)

    def clause(self) -> str:
        return f"WHERE {' AND '.join(self.sql)}" if self.sql else ""

    def plus(self, condition: str, *params: Any) -> Where:
        return Where([*self.sql, condition], [*self.params, *params])


def count_orders(ws: Workspace, query: OrderQuery) -> int:
    db = ws.light()
    if query.statuses or (query.search and query.search.strip()):
        return _count(db, _conditions(db, query, counting=True))
    # "every status but matching" as all minus matching: SQLite counts a whole table
    # from its smallest index, so the common unfiltered count stays instant. (Not with a
    # search: that would run the search twice.)
    others = _conditions(db, query, with_status=False, counting=True)
    return _count(db, others) - _count(db, others.plus("o.status = ?", Status.MATCHING.value))


def _count(db: LightDB, where: Where) -> int:
    return int(db.scalar(f"SELECT count(*) FROM orders o {where.clause()}", where.params) or 0)


LIST_SQL = """SELECT o.id, o.number, o.channel_reference, o.placed_at, o.name, o.postcode,
 o.item_count, o.total_pence, o.currency, o.status, o.payment_status, o.shipping_status,
 o.hold_reason, o.note_count, c.name, s.code
 FROM orders o JOIN channels c ON c.id = o.channel_id
 LEFT JOIN suppliers s ON s.id = o.supplier_id"""


def list_orders(ws: Workspace, query: OrderQuery) -> Iterator[dict[str, Any]]:
    if query.sort not in SORTS:
        raise InvalidInput(f"--sort must be one of {', '.join(SORTS)}")
    db = ws.light()
    where = _conditions(db, query)
    sql = f"{LIST_SQL} {where.clause()} ORDER BY {SORTS[query.sort]}"
    params = list(where.params)
    if query.limit is not None:
        sql += " LIMIT ?"
        params.append(query.limit)
    if query.offset:
        if query.limit is None and db.dialect == "sqlite":
            sql += " LIMIT -1"  # SQLite takes OFFSET only after a LIMIT
        sql += " OFFSET ?"
        params.append(query.offset)
    # Streamed (a server-side cursor on PostgreSQL): a million orders print at once with
    # flat memory.
    for row in db.stream(sql, params):
        yield order_row(db, row)


def order_row(db: LightDB, row: tuple[Any, ...]) -> dict[str, Any]:
    (id_, number, reference, placed_at, name, postcode, item_count, total_pence, currency,
     status, payment, shipping, hold_reason, note_count, channel, supplier) = row  # fmt: skip
    return {
        "id": id_,
        "number": number or "QUEUE",
        "channel": channel,
        "channel_reference": reference,
        "supplier": supplier,
        "placed_at": db.time_value(placed_at),
        "customer": name,
        "postcode": postcode,
        "item_count": item_count,
        "total": format_pence(total_pence),
        "currency": currency,
        "status": status,
        "payment_status": payment,
        "shipping_status": shipping,
        "hold_reason": hold_reason,
        "has_notes": note_count > 0,
    }


def _conditions(
    db: LightDB, query: OrderQuery, *, with_status: bool = True, counting: bool = False
) -> Where:
    where = Where()
    if query.statuses:
        marks = ", ".join("?" * len(query.statuses))
        where.add(f"o.status IN ({marks})", *query.statuses)
    elif with_status:
        where.add("o.status != ?", Status.MATCHING.value)  # still being linked: hidden
    if query.payment:
        where.add("o.payment_status = ?", query.payment)
    if query.shipping:
        where.add("o.shipping_status = ?", query.shipping)
    if query.channel:
        where.add("o.channel_id = ?", _channel_id(db, query.channel))
    if query.supplier:
        where.add("o.supplier_id = ?", _supplier_id(db, query.supplier))
    if query.placed_from:
        where.add("o.placed_at >= ?", db.time_param(query.placed_from))
    if query.placed_to:
        where.add("o.placed_at < ?", db.time_param(query.placed_to))
    if query.search and query.search.strip():
        text = query.search.strip()
        exact = _exact_match(text)
        probe = where.plus(*exact)
        if db.scalar(f"SELECT o.id FROM orders o {probe.clause()} LIMIT 1", probe.params):
            return probe
        first_rows = (
            not counting and query.limit is not None and query.limit + query.offset <= FIRST_ROWS
        )
        where.add(*_title_match(db, text, first_rows=first_rows))
    return where


def _channel_id(db: LightDB, name: str) -> int:
    # Removed channels too: their orders stay findable (see core/services/lookup.py).
    found = db.scalar("SELECT id FROM channels WHERE name = ?", [name])
    if found is None:
        raise no_channel(name)
    return int(found)


def _supplier_id(db: LightDB, code: str) -> int:
    found = db.scalar("SELECT id FROM suppliers WHERE lower(code) = ?", [code.lower()])
    if found is None:
        raise no_supplier(code)
    return int(found)


def _exact_match(text: str) -> tuple[str, ...]:
    """`o.id IN (...)`: one index lookup per identifier, never an OR across tables."""
    lookups = [
        "SELECT id FROM orders WHERE channel_reference = ?",
        "SELECT order_id FROM order_lines WHERE channel_sku = ?",
        "SELECT order_id FROM order_lines WHERE product_id IN"
        " (SELECT id FROM products WHERE sku = ?"
        " UNION ALL SELECT id FROM products WHERE supplier_product_id = ?)",
    ]
    params = [text, text, text, text]
    if NUMBER.match(text):
        lookups.append("SELECT id FROM orders WHERE number = ?")
        params.append(text.upper())
    return (f"o.id IN ({' UNION ALL '.join(lookups)})", *params)


def _title_match(db: LightDB, text: str, *, first_rows: bool) -> tuple[str, ...]:
    """The orders with a line whose folded title holds every word.

    PostgreSQL's planner weighs the pg_trgm index against walking the orders itself.
    SQLite's does not know how many lines a word finds, so we ask the FTS index: a word in
    fewer than COMMON lines is read from the index (`o.id IN (...)`, cost by the hits); a
    common word, when only the first page is wanted, walks the orders in the sort's own
    index and checks their lines (`EXISTS`), stopping at the page's end.
    """
    words = list(dict.fromkeys(fold_text(text).split()))
    if not words:  # nothing left once folded (a lone combining accent): no title holds it
        return ("1 = 0",)
    long_words = [w for w in words if len(w) >= TRIGRAM]
    match = " AND ".join('"' + w.replace('"', '""') + '"' for w in long_words)
    use_index = db.dialect == "sqlite" and bool(long_words)
    if use_index and first_rows and _hits(db, match) >= COMMON:
        use_index = False
    likes = [f"%{escape_like(w)}%" for w in words if not use_index or len(w) < TRIGRAM]
    conditions = ["l.search_title LIKE ? ESCAPE '\\'"] * len(likes)
    params: list[Any] = list(likes)
    if use_index:
        conditions.insert(
            0, "l.id IN (SELECT rowid FROM order_lines_fts WHERE order_lines_fts MATCH ?)"
        )
        params.insert(0, match)
    elif db.dialect == "sqlite":
        found = " AND ".join(conditions)
        return (
            f"EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND {found})",
            *params,
        )
    inner = f"SELECT l.order_id FROM order_lines l WHERE {' AND '.join(conditions)}"
    return (f"o.id IN ({inner})", *params)


def _hits(db: LightDB, match: str) -> int:
    """How many lines the FTS index finds, counted up to COMMON (cheap either way)."""
    sql = (
        "SELECT count(*) FROM (SELECT rowid FROM order_lines_fts"
        " WHERE order_lines_fts MATCH ? LIMIT ?)"
    )
    return int(db.scalar(sql, [match, COMMON]) or 0)
