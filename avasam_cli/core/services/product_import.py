"""Avasam's stock and price feed: `products import`, and the stock files of import feeds.

A full feed (every column of COLUMNS) upserts products on ProductId. A partial feed names
products by ProductId or SKU and carries only some values (StockQuantity, PriceExclVAT,
RRPExclVAT, VAT%Rate): it updates those values of products the supplier already has, and
an empty cell leaves its value as it is. Every change of stock or price is written to
`product_changes` with its source. Prices live on products only: an invoiced order keeps
the prices it was invoiced at.

`products import` is all-or-nothing unless skip_invalid; feeds apply the good rows and
list the bad ones. Rows are written in batches so a large feed never sits in memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from avasam_cli.core.csvfile import FileFormatError, Row, Utf8Lines, csv_table, open_input, watch
from avasam_cli.core.errors import InvalidInput, InvalidRows
from avasam_cli.core.incoming import FieldError, check_text
from avasam_cli.core.models import Product, ProductChange, table
from avasam_cli.core.money import parse_pence, parse_vat_rate
from avasam_cli.core.progress import SILENT, Progress, counted
from avasam_cli.core.services.lookup import get_supplier
from avasam_cli.core.workspace import Workspace

COLUMNS = ["ProductId", "StockQuantity", "PriceExclVAT", "RRPExclVAT", "VAT%Rate", "SKU", "Title"]
KEYS = ("ProductId", "SKU")  # how a partial feed names a product, in order of preference
VALUES = {  # the columns a partial feed may carry, and the product field each sets
    "StockQuantity": "stock",
    "PriceExclVAT": "price_pence",
    "RRPExclVAT": "rrp_pence",
    "VAT%Rate": "vat_rate_bp",
}
AUDITED = ("stock", "price_pence", "rrp_pence", "vat_rate_bp", "sku", "title")
BATCH = 1000
MAX_STOCK = 999_999_999  # a typo beyond this, and it must fit the database's integers
_STOCK = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class RowProblem:
    line: int
    ref: str | None  # the row's product id or SKU, when it has one
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.problems)


@dataclass(frozen=True)
class Feed:
    """A feed file's shape: full (creates products) or partial, and what names a product."""

    columns: list[str]
    rows: Iterator[tuple[int, Row]]
    full: bool = field(init=False)
    key: str = field(init=False)  # the column naming a product: ProductId or SKU

    def __post_init__(self) -> None:  # read once per file, not once per row
        full = all(column in self.columns for column in COLUMNS)
        object.__setattr__(self, "full", full)
        key = "ProductId" if full or "ProductId" in self.columns else "SKU"
        object.__setattr__(self, "key", key)


def read_feed(lines: Iterable[str], renamed: Mapping[str, str] | None = None) -> Feed:
    """The feed's header, checked; raises FileFormatError for a file that is no feed."""
    columns, rows = csv_table(lines, (), COLUMNS, renamed=renamed)
    if not any(key in columns for key in KEYS):
        raise FileFormatError(None, "has no ProductId or SKU column to name the products by")
    if not any(column in columns for column in VALUES):
        raise FileFormatError(
            None, f"has no column to update; a feed needs one of {', '.join(VALUES)}"
        )
    return Feed(columns, rows)


def import_products(
    ws: Workspace,
    path: Path,
    supplier_code: str,
    *,
    skip_invalid: bool,
    progress: Progress = SILENT,
) -> ImportReport:
    with open_input(path) as raw, ws.uow() as uow:
        supplier = get_supplier(uow.session, supplier_code)
        try:
            feed = read_feed(Utf8Lines(raw))
            watch(progress, path)
            report = apply_feed(
                uow.session,
                supplier.id,
                Feed(feed.columns, counted(feed.rows, progress)),
                source=f"products import {path.name}",
                actor=ws.actor,
                now=ws.now(),
            )
        except FileFormatError as exc:
            raise InvalidInput(exc.named(path.name)) from None
        if report.problems and not skip_invalid:
            raise InvalidRows(
                f"{len(report.problems)} bad row(s) in {path.name}; nothing was imported. "
                "Fix them, or use --skip-invalid to import the good rows",
                [str(problem) for problem in report.problems],
            )
        uow.commit()
    return report


def apply_feed(
    session: Session, supplier_id: int, feed: Feed, *, source: str, actor: str, now: datetime
) -> ImportReport:
    """Apply a feed's good rows in the caller's transaction; bad rows are listed in the
    report. Raises FileFormatError if the file turns out unreadable part-way."""
    writer = _Writer(session, supplier_id, feed, source=source, actor=actor, now=now)
    seen: set[str] = set()
    batch: list[tuple[int, dict[str, Any]]] = []
    for line, raw in feed.rows:
        try:
            values = _parse_row(raw, feed, seen)
        except InvalidInput as exc:
            writer.report.problems.append(RowProblem(line, raw.get(feed.key) or None, str(exc)))
            continue
        batch.append((line, values))
        if len(batch) >= BATCH:
            writer.write(batch)
            batch = []
    writer.write(batch)
    return writer.report


def _parse_row(raw: Row, feed: Feed, seen: set[str]) -> dict[str, Any]:
    key = _text(raw, feed.key, 64)
    if key in seen:
        raise InvalidInput(f"column {feed.key}: {key!r} appears twice in the file")
    values: dict[str, Any] = {}
    for column, name in VALUES.items():
        if column not in feed.columns or (not feed.full and not raw[column]):
            continue  # a partial feed's empty cell leaves the value as it is
        values[name] = _value(raw, column)
    if not values:
        raise InvalidInput(f"no value to update for {key!r}")
    if feed.full:
        values["sku"] = _text(raw, "SKU", 64)
        values["title"] = _text(raw, "Title", 500)
        values["supplier_product_id"] = key
    seen.add(key)
    return {**values, feed.key: key}


def _value(raw: Row, column: str) -> int | None:
    text = raw[column]
    if column == "StockQuantity":
        if not _STOCK.fullmatch(text):
            raise InvalidInput(
                f"column StockQuantity: {text!r} is not a whole number from 0 to {MAX_STOCK:,}"
            )
        return int(text)
    if column == "RRPExclVAT" and not text:
        return None
    parse = parse_vat_rate if column == "VAT%Rate" else parse_pence
    try:
        value = int(parse(text))
    except InvalidInput:
        raise InvalidInput(f"column {column}: {text!r} is not a valid amount") from None
    if column == "PriceExclVAT" and value == 0:  # a product given away is a typo
        raise InvalidInput(f"column {column}: {text!r}: a price must be more than 0.00")
    return value


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


class _Writer:
    """Writes batches of parsed rows: bulk updates, inserts and their change records."""

    def __init__(
        self,
        session: Session,
        supplier_id: int,
        feed: Feed,
        *,
        source: str,
        actor: str,
        now: datetime,
    ) -> None:
        self.session, self.supplier_id, self.feed = session, supplier_id, feed
        self.source, self.actor, self.now = source, actor, now
        self.report = ImportReport()
        self.key_column = Product.supplier_product_id if feed.key == "ProductId" else Product.sku

    def write(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        if not batch:
            return
        key = self.feed.key
        existing = {
            row.key: row
            for row in self.session.execute(
                # Row-locked by id, the order `orders process` locks products in: a feed
                # and a processing run never wait on each other in a circle.
                select(self.key_column.label("key"), *_current_columns())
                .where(
                    Product.supplier_id == self.supplier_id,
                    self.key_column.in_([values[key] for _, values in batch]),
                )
                .order_by(Product.id)
                .with_for_update()
            )
        }
        owners = self._sku_owners(batch) if self.feed.full else {}
        inserts: list[dict[str, Any]] = []
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        changes: list[dict[str, Any]] = []
        for line, values in batch:
            ref = values.pop(key)
            current = existing.get(ref)
            problem = self._problem(values, ref, current, owners)
            if problem:
                self.report.problems.append(RowProblem(line, ref, problem))
                continue
            if current is None:
                inserts.append({**values, "supplier_id": self.supplier_id, "updated_at": self.now})
                continue
            changed = {
                name: [getattr(current, name), value]
                for name, value in values.items()
                if name in AUDITED and getattr(current, name) != value
            }
            if not changed:
                self.report.unchanged += 1
                continue
            row = {name: values[name] for name in changed}
            updates.setdefault(tuple(sorted(row)), []).append(
                {**row, "id": current.id, "updated_at": self.now}
            )
            changes.append(self._change(current.id, changed))
        for names, rows in updates.items():  # plain executemany: no ORM bookkeeping
            rows.sort(key=lambda row: int(row["id"]))
            self.session.execute(
                update(table(Product))
                .where(table(Product).c.id == bindparam("product_id"))
                .values({name: bindparam(name) for name in (*names, "updated_at")}),
                [{**row, "product_id": row.pop("id")} for row in rows],
            )
            self.report.updated += len(rows)
        if inserts:
            created = self.session.scalars(
                insert(Product).returning(Product.id, sort_by_parameter_order=True), inserts
            ).all()
            changes += [
                self._change(product_id, {name: [None, row[name]] for name in AUDITED})
                for product_id, row in zip(created, inserts, strict=True)
            ]
            self.report.created += len(inserts)
        if changes:
            self.session.execute(insert(table(ProductChange)), changes)

    def _problem(
        self,
        values: dict[str, Any],
        ref: str,
        current: Any,
        owners: dict[str, tuple[int, str]],
    ) -> str | None:
        if current is None and not self.feed.full:
            return (
                f"column {self.feed.key}: the supplier has no product {ref!r}; a feed with "
                f"only some columns updates products, a full feed ({', '.join(COLUMNS)}) "
                "adds them"
            )
        if self.feed.full:
            owner = owners.get(values["sku"])
            if owner is not None and owner != (self.supplier_id, ref):
                return f"column SKU: {values['sku']!r} already belongs to another product"
            owners[values["sku"]] = (self.supplier_id, ref)
        return None

    def _sku_owners(self, batch: list[tuple[int, dict[str, Any]]]) -> dict[str, tuple[int, str]]:
        return {
            sku: (owner_supplier, owner_product)
            for sku, owner_supplier, owner_product in self.session.execute(
                select(Product.sku, Product.supplier_id, Product.supplier_product_id).where(
                    Product.sku.in_([values["sku"] for _, values in batch])
                )
            )
        }

    def _change(self, product_id: int, changed: dict[str, list[Any]]) -> dict[str, Any]:
        return {
            "product_id": product_id,
            "at": self.now,
            "actor": self.actor,
            "source": self.source[:300],
            "details": json.dumps(changed, separators=(",", ":")),
        }


def _current_columns() -> list[Any]:
    return [Product.id, *(getattr(Product, name) for name in AUDITED)]
