"""`products import`: Avasam's stock and price feed, upserted on ProductId.

All-or-nothing unless skip_invalid: then the good rows are imported and the bad ones
reported. Rows are written in batches so a large feed never sits in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from avasam_cli.core.csvfile import Row, open_csv
from avasam_cli.core.errors import InvalidInput, InvalidRows
from avasam_cli.core.incoming import FieldError, check_text
from avasam_cli.core.models import Product
from avasam_cli.core.money import parse_pence, parse_vat_rate
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.services.lookup import get_supplier
from avasam_cli.core.workspace import Workspace

COLUMNS = ["ProductId", "StockQuantity", "PriceExclVAT", "RRPExclVAT", "VAT%Rate", "SKU", "Title"]
BATCH = 1000
MAX_STOCK = 999_999_999  # a typo beyond this, and it must fit the database's integers
_STOCK = re.compile(r"[0-9]{1,9}")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)


def import_products(
    ws: Workspace,
    path: Path,
    supplier_code: str,
    *,
    skip_invalid: bool,
    progress: Progress = SILENT,
) -> ImportReport:
    report = ImportReport()
    seen_ids: set[str] = set()
    with ws.uow() as uow, open_csv(path, COLUMNS, progress) as rows:
        supplier = get_supplier(uow.session, supplier_code)
        now = ws.now()
        batch: list[tuple[int, dict[str, Any]]] = []
        for line, raw in rows:
            try:
                values = _parse_row(raw, seen_ids)
            except InvalidInput as exc:
                report.problems.append(f"line {line}, {exc}")
                continue
            batch.append((line, values))
            if len(batch) >= BATCH:
                _write(uow.session, supplier.id, batch, now, report)
                batch = []
        _write(uow.session, supplier.id, batch, now, report)
        if report.problems and not skip_invalid:
            raise InvalidRows(
                f"{len(report.problems)} bad row(s) in {path.name}; nothing was imported. "
                "Fix them, or use --skip-invalid to import the good rows",
                report.problems,
            )
        uow.commit()
    return report


def _parse_row(raw: Row, seen_ids: set[str]) -> dict[str, Any]:
    product_id = _text(raw, "ProductId", 64)
    if product_id in seen_ids:
        raise InvalidInput(f"column ProductId: {product_id!r} appears twice in the file")
    stock_text = raw["StockQuantity"]
    if not _STOCK.fullmatch(stock_text):
        raise InvalidInput(
            f"column StockQuantity: {stock_text!r} is not a whole number from 0 to {MAX_STOCK:,}"
        )
    values = {
        "supplier_product_id": product_id,
        "stock": int(stock_text),
        "price_pence": _column(parse_pence, raw, "PriceExclVAT"),
        "rrp_pence": _column(parse_pence, raw, "RRPExclVAT") if raw["RRPExclVAT"] else None,
        "vat_rate_bp": _column(parse_vat_rate, raw, "VAT%Rate"),
        "sku": _text(raw, "SKU", 64),
        "title": _text(raw, "Title", 500),
    }
    seen_ids.add(product_id)
    return values


def _text(raw: Row, column: str, limit: int) -> str:
    """A text column that fits its database column (the width in models.Product)."""
    value = raw[column]
    if not value:
        raise InvalidInput(f"column {column}: is empty")
    if len(value) > limit:
        raise InvalidInput(f"column {column}: longer than {limit} characters")
    try:
        check_text(column, value)
    except FieldError as exc:
        raise InvalidInput(f"column {column}: {exc}") from None
    return value


def _column(parse: Any, raw: Row, column: str) -> int:
    try:
        return int(parse(raw[column]))
    except InvalidInput:
        raise InvalidInput(f"column {column}: {raw[column]!r} is not a valid amount") from None


def _write(
    session: Session,
    supplier_id: int,
    batch: list[tuple[int, dict[str, Any]]],
    now: datetime,
    report: ImportReport,
) -> None:
    if not batch:
        return
    ids = [values["supplier_product_id"] for _, values in batch]
    existing = {
        product_id: row_id
        for product_id, row_id in session.execute(
            select(Product.supplier_product_id, Product.id).where(
                Product.supplier_id == supplier_id, Product.supplier_product_id.in_(ids)
            )
        )
    }
    owners = {
        sku: (owner_supplier, owner_product)
        for sku, owner_supplier, owner_product in session.execute(
            select(Product.sku, Product.supplier_id, Product.supplier_product_id).where(
                Product.sku.in_([values["sku"] for _, values in batch])
            )
        )
    }
    inserts, updates = [], []
    for line, values in batch:
        owner = owners.get(values["sku"])
        if owner is not None and owner != (supplier_id, values["supplier_product_id"]):
            report.problems.append(
                f"line {line}, column SKU: {values['sku']!r} already belongs to another product"
            )
            continue
        owners[values["sku"]] = (supplier_id, values["supplier_product_id"])
        row = {**values, "supplier_id": supplier_id, "updated_at": now}
        if values["supplier_product_id"] in existing:
            updates.append({**row, "id": existing[values["supplier_product_id"]]})
        else:
            inserts.append(row)
    if updates:
        session.execute(update(Product), updates)
    if inserts:
        session.execute(insert(Product), inserts)
    report.created += len(inserts)
    report.updated += len(updates)
