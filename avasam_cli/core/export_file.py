"""Writing a supplier's export file (CSV or JSON), streaming, with its size and sha256.

Rows come in as plain tuples, one per order line, ordered by order then line, with the
columns of ORDER_FIELDS then LINE_FIELDS: an export of 100,000 orders is 200,000 rows,
so the order's own cells are worked out once per order, not once per line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from avasam_cli.core.csvsafe import csv_safe
from avasam_cli.core.incoming import DELIVERY_FIELDS
from avasam_cli.core.money import format_pence, format_rate

CSV_COLUMNS = [
    "OrderNumber",
    "ChannelReference",
    "PlacedAt",
    "ShippingService",
    "Name",
    "Address1",
    "Address2",
    "City",
    "County",
    "Postcode",
    "Country",
    "Phone",
    "Email",
    "SKU",
    "SupplierProductId",
    "Title",
    "Quantity",
    "UnitPriceExVat",
    "VatRate",
    "LineTotalIncVat",
    "Notes",
]
DELIVERY = [
    *DELIVERY_FIELDS,
]
# The columns of a row, in this order: the order's, then the line's.
ORDER_FIELDS = (
    "id",
    "number",
    "channel_reference",
    "placed_at",
    "shipping_service",
    *DELIVERY_FIELDS,
    "note_count",
)
LINE_FIELDS = (
    "sku",
    "supplier_product_id",
    "title",
    "quantity",
    "unit_price_pence",
    "vat_rate_bp",
    "line_total_pence",
)
_PLACED, _DELIVERY = 3, slice(5, 5 + len(DELIVERY_FIELDS))
_NOTES = len(ORDER_FIELDS) - 1
_SKU = len(ORDER_FIELDS)
# A cell a spreadsheet may run as a formula starts with one of these (core/csvsafe.py);
# cells are joined with NUL to look for one in a single search.
_RISKY = re.compile("(?:^|\x00)[=+\\-@\t\r]")
_STARTS = frozenset("=+-@\t\r")

Notes = Callable[[int], str]


@dataclass
class Written:
    order_ids: list[int] = field(default_factory=list)
    bytes: int = 0
    sha256: str = ""


class _HashingWriter:
    def __init__(self, out: BinaryIO) -> None:
        self.out, self.digest, self.size = out, hashlib.sha256(), 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.out.write(data)
        self.digest.update(data)
        self.size += len(data)


def write_export(
    rows: Iterable[Sequence[Any]],
    notes: Notes,
    fmt: str,
    tz: ZoneInfo,
    out: BinaryIO,
    *,
    raw_csv: bool = False,
) -> Written:
    """`rows`: one per order line (see ORDER_FIELDS, LINE_FIELDS), ordered by order then
    line; `notes(order_id)` -> text. `placed_at` is an aware datetime, or the naive UTC
    text SQLite stores.

    In a CSV file a cell a spreadsheet would run as a formula (`=...`, `@...`, `+...`,
    `-...`) is made text with a `'` in front (OWASP), plain numbers excepted; `raw_csv` (the
    export's `--raw-csv`) writes every value as it is. JSON is always as it is."""
    writer = _HashingWriter(out)
    written = Written()
    if fmt == "csv":
        _csv(rows, notes, tz, writer, written, safe=not raw_csv)
    else:
        _json(rows, notes, tz, writer, written)
    written.bytes, written.sha256 = writer.size, writer.digest.hexdigest()
    return written


def _safe_cells(cells: list[str]) -> list[str]:
    """csv_safe on each cell when one of them may need it: one search of the joined cells
    decides for the common row, where none starts with a formula character."""
    if _RISKY.search("\x00".join(cells)):
        return [csv_safe(cell) for cell in cells]
    return cells


def _placed(value: datetime | str, tz: ZoneInfo) -> str:
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC) if isinstance(value, str) else value
    return moment.astimezone(tz).isoformat()


# Prices and rates repeat across a catalogue: format each once.
_pence = lru_cache(maxsize=4096)(format_pence)
_rate = lru_cache(maxsize=64)(format_rate)


def _csv(
    rows: Iterable[Sequence[Any]],
    notes: Notes,
    tz: ZoneInfo,
    writer: _HashingWriter,
    written: Written,
    *,
    safe: bool,
) -> None:
    buffer = io.StringIO()
    table = csv.writer(buffer, lineterminator="\r\n")
    table.writerow(CSV_COLUMNS)
    order_ids = written.order_ids
    current: int | None = None
    head: list[str] = []
    note = ""
    for row in rows:
        if row[0] != current:
            current = row[0]
            order_ids.append(current)
            head = [str(v) if v else "" for v in row[1:_NOTES]]
            del head[_PLACED - 1]
            note = notes(current) if row[_NOTES] else ""
            if safe:
                head = _safe_cells(head)
                note = csv_safe(note)
            head.insert(2, _placed(row[_PLACED], tz))
        sku, supplier_product_id, title, quantity, unit, rate, total = row[_SKU:]
        line = [sku or "", supplier_product_id or "", title or ""]
        if safe and (line[0][:1] in _STARTS or line[1][:1] in _STARTS or line[2][:1] in _STARTS):
            line = [csv_safe(cell) for cell in line]
        table.writerow([*head, *line, quantity, _pence(unit), _rate(rate), _pence(total), note])
        if buffer.tell() > 1 << 16:
            writer.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    writer.write(buffer.getvalue())


def _json(
    rows: Iterable[Sequence[Any]],
    notes: Notes,
    tz: ZoneInfo,
    writer: _HashingWriter,
    written: Written,
) -> None:
    writer.write("[")
    current: dict[str, Any] | None = None
    current_id: int | None = None
    for row in rows:
        if current is None or current_id != row[0]:
            if current is not None:
                _flush(current, writer, first=len(written.order_ids) == 1)
            current_id = row[0]
            written.order_ids.append(row[0])
            current = {
                "order_number": row[1],
                "channel_reference": row[2],
                "placed_at": _placed(row[_PLACED], tz),
                "shipping_service": row[4],
                "delivery": dict(zip(DELIVERY, row[_DELIVERY], strict=True)),
                "notes": notes(row[0]) if row[_NOTES] else None,
                "lines": [],
            }
        sku, supplier_product_id, title, quantity, unit, rate, total = row[_SKU:]
        current["lines"].append(
            {
                "sku": sku,
                "supplier_product_id": supplier_product_id,
                "title": title,
                "quantity": quantity,
                "unit_price_ex_vat": _pence(unit),
                "vat_rate": _rate(rate),
                "line_total_inc_vat": _pence(total),
                "currency": "GBP",
            }
        )
    if current is not None:
        _flush(current, writer, first=len(written.order_ids) == 1)
    writer.write("\n]\n")


def _flush(order: dict[str, Any], writer: _HashingWriter, *, first: bool) -> None:
    writer.write(("\n  " if first else ",\n  ") + json.dumps(order, ensure_ascii=False))
