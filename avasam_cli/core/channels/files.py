"""The `file` channel: CSV, JSON and JSON Lines files dropped in a folder.

Each file is one batch (one transaction). Read files move to processed/; a file that
cannot be read moves to rejected/ with NAME.error beside it naming the line and problem.
Files are streamed, so memory does not grow with their size. Write a file under a name
starting with '.' (or another extension) and rename it when complete.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from zoneinfo import ZoneInfo

from avasam_cli.core.channels import Batch, FileFormatError
from avasam_cli.core.channels.records import RecordError, build_order
from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.services.intake import IncomingOrder

SUFFIXES = (".csv", ".json", ".jsonl")
LINE_FIELDS = ("sku", "title", "quantity", "unit_price")
CHUNK = 1000


class FileDrop:
    def __init__(self, folder: str, tz: ZoneInfo) -> None:
        self.folder = Path(folder)
        self.tz = tz
        self.problems: list[str] = []

    def batches(self, cursor: str | None, since: datetime | None) -> Iterator[Batch]:
        if not self.folder.is_dir():
            raise InvalidInput(f"drop folder {self.folder} does not exist; create it or fix "
                               "the channel with `avasam channels add --path`")
        for path in sorted(self.folder.iterdir()):
            if path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.startswith("."):
                yield Batch(
                    label=path.name,
                    chunks=_chunks(self._orders(path)),
                    after_commit=partial(_move, path, self.folder / "processed"),
                    rejected=partial(_reject, path, self.folder / "rejected"),
                )

    def _orders(self, path: Path) -> Iterator[IncomingOrder]:
        with path.open("rb") as raw:
            handle = _Utf8Lines(raw)
            suffix = path.suffix.lower()
            records = (_csv_records(handle) if suffix == ".csv" else
                       _jsonl_records(handle) if suffix == ".jsonl" else
                       _json_records(handle))
            for line, fields, lines in records:
                try:
                    yield build_order(fields, lines, self.tz)
                except RecordError as exc:
                    raise FileFormatError(f"line {line}: {exc}") from None


class _Utf8Lines:
    """A binary file as UTF-8 text lines (a BOM is dropped), naming the line that is not
    UTF-8. Iterates by line (csv, JSON Lines) or reads by size (the JSON array reader)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.number, self.pending = raw, 0, ""

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        data = self.raw.readline()
        if not data:
            raise StopIteration
        self.number += 1
        try:
            return data.decode("utf-8-sig" if self.number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise FileFormatError(f"line {self.number}: not UTF-8 text; save the file as "
                                  "UTF-8") from None

    def read(self, size: int) -> str:
        while len(self.pending) < size:
            try:
                self.pending += next(self)
            except StopIteration:
                break
        text, self.pending = self.pending[:size], self.pending[size:]
        return text


def _chunks(orders: Iterator[IncomingOrder]) -> Iterator[list[IncomingOrder]]:
    chunk: list[IncomingOrder] = []
    for order in orders:
        chunk.append(order)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


Record = tuple[int, dict[str, Any], list[dict[str, Any]]]


class TextSource(Protocol):
    def __iter__(self) -> Iterator[str]: ...

    def read(self, size: int) -> str: ...


def _csv_records(handle: TextSource) -> Iterator[Record]:
    """One row per line item; consecutive rows with the same order_id are one order."""
    reader = csv.reader(handle)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise FileFormatError(f"line 1: {exc}") from None
    if "order_id" not in header or "sku" not in header:
        raise FileFormatError("line 1: the header needs at least order_id and sku columns")
    current: Record | None = None
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise FileFormatError(f"line {reader.line_num}: {exc}") from None
        if not any(v.strip() for v in values):
            continue
        row = dict(zip(header, values, strict=False))
        line_fields = {key: row.get(key) for key in LINE_FIELDS}
        if current is not None and current[1].get("order_id") == row.get("order_id"):
            current[2].append(line_fields)
            continue
        if current is not None:
            yield current
        current = (reader.line_num, row, [line_fields])
    if current is not None:
        yield current


def _jsonl_records(handle: TextSource) -> Iterator[Record]:
    for number, text in enumerate(handle, start=1):
        if text.strip():
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FileFormatError(f"line {number}: {exc.msg}") from None
            yield _record(number, value)


def _json_records(handle: TextSource) -> Iterator[Record]:
    for line, value in _JsonArray(handle):
        yield _record(line, value)


def _record(line: int, value: Any) -> Record:
    if not isinstance(value, dict):
        raise FileFormatError(f"line {line}: each order must be a JSON object")
    lines = value.get("lines")
    if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
        raise FileFormatError(f"line {line}: lines must be a list of objects")
    return line, value, lines


class _JsonArray:
    """Streams the objects of a top-level JSON array without reading the whole file."""

    def __init__(self, handle: TextSource) -> None:
        self.handle, self.buffer, self.pos, self.line, self.eof = handle, "", 0, 1, False
        self.decoder = json.JSONDecoder()

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        if self._next_char() != "[":
            raise FileFormatError(f"line {self.line}: a .json file must hold an array of orders")
        self._advance(1)
        first = True
        while True:
            char = self._next_char()
            if char == "]":
                return
            if char == "":
                raise FileFormatError(f"line {self.line}: the file ends before the closing ]")
            if not first:
                if char != ",":
                    raise FileFormatError(f"line {self.line}: expected ',' or ']'")
                self._advance(1)
                self._next_char()
            first = False
            yield self.line, self._decode()

    def _fill(self) -> bool:
        chunk = self.handle.read(1 << 16)
        if not chunk:
            self.eof = True
            return False
        self.buffer = self.buffer[self.pos:] + chunk
        self.pos = 0
        return True

    def _next_char(self) -> str:
        """Skip white space; the next character, or '' at the end of the file."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in " \t\r\n":
                self._advance(1)
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def _advance(self, count: int) -> None:
        self.line += self.buffer.count("\n", self.pos, self.pos + count)
        self.pos += count

    def _decode(self) -> Any:
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof and self._fill():
                    continue
                line = exc.lineno - 1 + self.line - self._line_base()
                if not self.buffer.rstrip().endswith("]"):
                    raise FileFormatError(f"line {line}: the file ends in the middle of an "
                                          "order (truncated?)") from None
                raise FileFormatError(f"line {line}: {exc.msg}") from None
            self._advance(end - self.pos)
            return value

    def _line_base(self) -> int:
        return self.buffer.count("\n", 0, self.pos)


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = folder / f"{path.stem}-{stamp}{path.suffix}"
    shutil.move(str(path), target)


def _reject(path: Path, folder: Path, exc: Exception) -> None:
    _move(path, folder)
    (folder / f"{path.name}.error").write_text(f"{path.name}: {exc}\n", encoding="utf-8")
