"""The `file` channel: CSV, JSON and JSON Lines files dropped in a folder.

Each file is one batch (one transaction). Read files move to processed/; a file that
cannot be read moves to rejected/ with NAME.error beside it naming the line and problem.
Files are streamed, so memory does not grow with their size. Write a file under a name
starting with '.' (or another extension) and rename it when complete. Links and other
non-regular files are never read or followed (see `folder.py`): each is reported and left.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from avasam_cli.core.batches import batched
from avasam_cli.core.channels import Batch
from avasam_cli.core.channels.folder import (
    NotRegular,
    check_subfolders,
    escaped,
    move_into,
    open_regular,
    refusal,
)
from avasam_cli.core.channels.records import build_order
from avasam_cli.core.csvfile import FileFormatError, Utf8Lines, csv_rows
from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.incoming import (
    DELIVERY_FIELDS,
    MAX_DEPTH,
    FieldError,
    IncomingOrder,
    check_depth,
)

SUFFIXES = (".csv", ".json", ".jsonl")
ORDER_FIELDS = (
    "order_id",
    "reference",
    "placed_at",
    "status",
    *DELIVERY_FIELDS,
    "shipping_method",
)
LINE_FIELDS = ("sku", "title", "quantity", "unit_price")
CHUNK = 1000


class FileDrop:
    def __init__(self, folder: str, tz: ZoneInfo) -> None:
        self.folder = Path(folder)
        self.tz = tz
        self.problems: list[str] = []

    def batches(self, cursor: str | None, since: datetime | None) -> Iterator[Batch]:
        if not self.folder.is_dir():
            raise InvalidInput(
                f"drop folder {self.folder} does not exist; create it or fix "
                "the channel with `avasam channels add --path`"
            )
        check_subfolders(self.folder)
        try:
            names = sorted(entry.name for entry in os.scandir(self.folder))
        except OSError as exc:
            raise InvalidInput(
                f"drop folder {self.folder} cannot be read: {exc.strerror}"
            ) from None
        for name in names:
            path = self.folder / name
            if path.suffix.lower() not in SUFFIXES or name.startswith("."):
                continue
            why = refusal(path)
            if why:
                self.problems.append(f"{escaped(name)} {why}; left in place, not read")
                continue
            yield Batch(
                label=escaped(name),
                chunks=batched(self._orders(path), CHUNK),
                after_commit=partial(move_into, path, "processed"),
                rejected=partial(_reject, path),
            )

    def _orders(self, path: Path) -> Iterator[IncomingOrder]:
        try:
            raw = open_regular(path)  # never through a link
        except NotRegular as exc:
            raise FileFormatError(None, f"{exc}; it was not read") from None
        except OSError as exc:
            raise FileFormatError(None, f"cannot be read: {exc.strerror}") from None
        with raw:
            handle = Utf8Lines(raw)
            suffix = path.suffix.lower()
            records = (
                _csv_records(handle)
                if suffix == ".csv"
                else _jsonl_records(handle)
                if suffix == ".jsonl"
                else _json_records(handle)
            )
            for line, fields, lines in records:
                try:
                    yield build_order(fields, lines, self.tz)
                except FieldError as exc:
                    raise FileFormatError(line, str(exc)) from None


def anything_dropped(folder: str) -> bool:
    """Whether a pull of this drop folder has anything to read or report: a name it would
    look at (a link or a non-regular file counts: the pull reports it), or a folder it
    cannot list (the pull says why). Cheap and free of SQLAlchemy, so cron's idle pull can
    ask it on the light path before loading the ORM."""
    try:
        names = os.listdir(folder)
    except OSError:
        return True
    return any(Path(name).suffix.lower() in SUFFIXES and not name.startswith(".") for name in names)


Record = tuple[int, dict[str, Any], list[dict[str, Any]]]


def _csv_records(handle: Utf8Lines) -> Iterator[Record]:
    """One row per line item; consecutive rows with the same order_id are one order. Rows
    of one order apart (another order's between them) reject the file: streamed, the first
    part would otherwise be read as the whole order."""
    current: Record | None = None
    first_lines: dict[Any, int] = {}  # order id -> the line its rows started on
    for line, row in csv_rows(
        handle, ["order_id", "sku"], [*ORDER_FIELDS[1:], *LINE_FIELDS[1:]], empty_ok=True
    ):
        line_fields: dict[str, Any] = {key: row.get(key) for key in LINE_FIELDS}
        if current is not None and current[1].get("order_id") == row["order_id"]:
            current[2].append(line_fields)
            continue
        if current is not None:
            yield current
        first = first_lines.setdefault(row["order_id"], line)
        if first != line:
            raise FileFormatError(
                line,
                f"order {escaped(str(row['order_id']))} continues here, but its rows started "
                f"on line {first} with other orders between; put all rows of an order together",
            )
        current = (line, dict(row), [line_fields])
    if current is not None:
        yield current


def _jsonl_records(handle: Utf8Lines) -> Iterator[Record]:
    for number, text in enumerate(handle, start=1):
        if text.strip():
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FileFormatError(number, exc.msg) from None
            except (ValueError, RecursionError) as exc:
                raise FileFormatError(number, _undecodable(exc)) from None
            yield _record(number, value)


def _json_records(handle: Utf8Lines) -> Iterator[Record]:
    for line, value in _JsonArray(handle):
        yield _record(line, value)


def _undecodable(exc: Exception) -> str:
    """Why json could not decode a value it would otherwise accept (too deep, a number
    with too many digits)."""
    if isinstance(exc, RecursionError):
        return f"the order is nested deeper than {MAX_DEPTH} levels"
    return "the order holds a number too long to be read"


def _record(line: int, value: Any) -> Record:
    if not isinstance(value, dict):
        raise FileFormatError(line, "each order must be a JSON object")
    try:
        check_depth(value, "the order")
    except FieldError as exc:
        raise FileFormatError(line, str(exc)) from None
    lines = value.get("lines")
    if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
        raise FileFormatError(line, "lines must be a list of objects")
    return line, value, lines


class _JsonArray:
    """Streams the objects of a top-level JSON array without reading the whole file."""

    def __init__(self, handle: Utf8Lines) -> None:
        self.handle, self.buffer, self.pos, self.line, self.eof = handle, "", 0, 1, False
        self.decoder = json.JSONDecoder()

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        if self._next_char() != "[":
            raise FileFormatError(self.line, "a .json file must hold an array of orders")
        self._advance(1)
        first = True
        while True:
            char = self._next_char()
            if char == "]":
                self._advance(1)
                if self._next_char() != "":
                    raise FileFormatError(self.line, "there is text after the closing ]")
                return
            if char == "":
                raise FileFormatError(self.line, "the file ends before the closing ]")
            if not first:
                if char != ",":
                    raise FileFormatError(self.line, "expected ',' or ']'")
                self._advance(1)
                self._next_char()
            first = False
            yield self.line, self._decode()

    def _fill(self) -> bool:
        chunk = self.handle.read(1 << 16)
        if not chunk:
            self.eof = True
            return False
        self.buffer = self.buffer[self.pos :] + chunk
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
                    raise FileFormatError(
                        line, "the file ends in the middle of an order (truncated?)"
                    ) from None
                raise FileFormatError(line, exc.msg) from None
            except (ValueError, RecursionError) as exc:
                raise FileFormatError(self.line, _undecodable(exc)) from None
            self._advance(end - self.pos)
            return value

    def _line_base(self) -> int:
        return self.buffer.count("\n", 0, self.pos)


def _reject(path: Path, exc: Exception) -> None:
    move_into(path, "rejected", error=f"{escaped(path.name)}: {exc}\n")
