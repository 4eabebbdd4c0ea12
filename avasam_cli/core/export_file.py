"""Writing a supplier's export file (CSV or JSON), streaming, with its size and sha256."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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
    rows: Iterable[Any],
    notes: Any,
    fmt: str,
    tz: ZoneInfo,
    out: BinaryIO,
    *,
    raw_csv: bool = False,
) -> Written:
    """`rows`: one per order line, ordered by order then line; `notes(order_id)` -> text.

    In a CSV file a cell a spreadsheet would run as a formula (`=...`, `@...`, `+...`,
    `-...`) is made text with a `'` in front (OWASP), plain numbers excepted; `raw_csv` (the
    export's `--raw-csv`) writes every value as it is. JSON is always as it is."""
    writer = _HashingWriter(out)
    written = Written()
    if fmt == "csv":
        _csv(rows, notes, tz, writer, written, str if raw_csv else csv_safe)
    else:
        _json(rows, notes, tz, writer, written)
    written.bytes, written.sha256 = writer.size, writer.digest.hexdigest()
    return written


def _csv(
    rows: Iterable[Any],
    notes: Any,
    tz: ZoneInfo,
    writer: _HashingWriter,
    written: Written,
    cell: Callable[[str], str],
) -> None:
    buffer = io.StringIO()
    table = csv.writer(buffer, lineterminator="\r\n")
    table.writerow(CSV_COLUMNS)
    for row in rows:
        if not written.order_ids or written.order_ids[-1] != row.id:
            written.order_ids.append(row.id)
        values = [
            row.number,
            row.channel_reference,
            row.placed_at.astimezone(tz).isoformat(),
            row.shipping_service,
            *(getattr(row, key) or "" for key in DELIVERY),
            row.sku,
            row.supplier_product_id,
            row.title,
            row.quantity,
            format_pence(row.unit_price_pence),
            format_rate(row.vat_rate_bp),
            format_pence(row.line_total_pence),
            notes(row.id) if row.note_count else "",
        ]
        table.writerow(["" if value is None else cell(str(value)) for value in values])
        if buffer.tell() > 1 << 16:
            writer.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    writer.write(buffer.getvalue())


def _json(
    rows: Iterable[Any], notes: Any, tz: ZoneInfo, writer: _HashingWriter, written: Written
) -> None:
    writer.write("[")
    current: dict[str, Any] | None = None
    for row in rows:
        if current is None or current["_id"] != row.id:
            if current is not None:
                _flush(current, writer, first=len(written.order_ids) == 1)
            written.order_ids.append(row.id)
            current = {
                "_id": row.id,
                "order_number": row.number,
                "channel_reference": row.channel_reference,
                "placed_at": row.placed_at.astimezone(tz).isoformat(),
                "shipping_service": row.shipping_service,
                "delivery": {key: getattr(row, key) for key in DELIVERY},
                "notes": notes(row.id) if row.note_count else None,
                "lines": [],
            }
        current["lines"].append(
            {
                "sku": row.sku,
                "supplier_product_id": row.supplier_product_id,
                "title": row.title,
                "quantity": row.quantity,
                "unit_price_ex_vat": format_pence(row.unit_price_pence),
                "vat_rate": format_rate(row.vat_rate_bp),
                "line_total_inc_vat": format_pence(row.line_total_pence),
                "currency": "GBP",
            }
        )
    if current is not None:
        _flush(current, writer, first=len(written.order_ids) == 1)
    writer.write("\n]\n")


def _flush(order: dict[str, Any], writer: _HashingWriter, *, first: bool) -> None:
    order.pop("_id")
    writer.write(("\n  " if first else ",\n  ") + json.dumps(order, ensure_ascii=False))
