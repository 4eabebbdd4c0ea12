"""The one output renderer: table (tabulate), CSV, JSON and JSON Lines.

Rows are plain dicts. CSV, JSON and JSON Lines stream row by row, so a million orders
never sit in memory; a table has to see its rows to size its columns.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from enum import StrEnum
from itertools import chain
from typing import Annotated, Any, TextIO

import typer

from avasam_cli.core.csvsafe import csv_safe  # one rule for --format csv and exports
from avasam_cli.core.errors import printable


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


FormatOption = Annotated[
    Format,
    typer.Option("--format", "-f", help="Output: table for people, csv/json/jsonl for pipes."),
]
RecordFormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output: table for people, json for pipes.")
]


def render_rows(
    rows: Iterable[dict[str, Any]],
    fmt: Format,
    tz: tzinfo,
    *,
    columns: list[str] | None = None,
    out: TextIO | None = None,
    empty_message: str = "nothing to show",
) -> int:
    """Write rows to stdout in `fmt`; returns how many were written."""
    out = out or sys.stdout
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        if fmt == Format.json:
            out.write("[]\n")
        elif fmt == Format.csv and columns:
            csv.writer(out, lineterminator="\n").writerow(columns)
        elif fmt == Format.table:
            typer.echo(empty_message, err=True)
        return 0
    keys = columns or list(first)
    all_rows = chain([first], iterator)
    if fmt == Format.table:
        return _table(all_rows, keys, tz, out)
    if fmt == Format.csv:
        return _csv(all_rows, keys, tz, out)
    return _json(all_rows, keys, tz, out, lines=fmt == Format.jsonl)


def render_changed(
    rows: list[dict[str, Any]], fmt: Format, tz: tzinfo, out: TextIO | None = None
) -> None:
    """Orders a command has just changed, on stdout: a table for people; for JSON the object
    itself when there is one (`-f json | jq .number`), an array when there are several."""
    if fmt == Format.json and len(rows) == 1:
        render_record(rows[0], fmt, tz, out)
    elif rows:
        render_rows(rows, fmt, tz, out=out)


def render_record(
    record: dict[str, Any], fmt: Format, tz: tzinfo, out: TextIO | None = None
) -> None:
    """One record: `key: value` lines (nested lists as tables) or one JSON object."""
    out = out or sys.stdout
    if fmt in (Format.json, Format.jsonl):
        indent = 2 if fmt == Format.json else None
        out.write(json.dumps(_jsonable(record, tz), ensure_ascii=False, indent=indent) + "\n")
        return
    if fmt == Format.csv:
        flat = {k: v for k, v in record.items() if not isinstance(v, list | dict)}
        _csv(iter([flat]), list(flat), tz, out)
        return
    from tabulate import tabulate

    scalars = [(k, _cell(v, tz)) for k, v in record.items() if not isinstance(v, list | dict)]
    for key, value in record.items():
        if isinstance(value, dict):
            scalars += [(f"{key}.{k}", _cell(v, tz)) for k, v in value.items()]
    out.write(tabulate(scalars, tablefmt="plain", disable_numparse=True) + "\n")
    for key, value in record.items():
        if isinstance(value, list):
            out.write(f"\n{key}:\n")
            if value:
                rows = [[_cell(v, tz) for v in item.values()] for item in value]
                out.write(
                    tabulate(rows, headers=list(value[0]), tablefmt="simple", disable_numparse=True)
                    + "\n"
                )
            else:
                out.write("  (none)\n")


def _table(rows: Iterator[dict[str, Any]], keys: list[str], tz: tzinfo, out: TextIO) -> int:
    from tabulate import tabulate

    data = [[_cell(row.get(k), tz) for k in keys] for row in rows]
    out.write(tabulate(data, headers=keys, tablefmt="simple", disable_numparse=True) + "\n")
    return len(data)


def _csv(rows: Iterator[dict[str, Any]], keys: list[str], tz: tzinfo, out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(keys)
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(row.get(k), tz) for k in keys])
        count += 1
    return count


def _json(
    rows: Iterator[dict[str, Any]], keys: list[str], tz: tzinfo, out: TextIO, *, lines: bool
) -> int:
    count = 0
    if not lines:
        out.write("[")
    for row in rows:
        text = json.dumps({k: _jsonable(row.get(k), tz) for k in keys}, ensure_ascii=False)
        if lines:
            out.write(text + "\n")
        else:
            out.write(("\n  " if count == 0 else ",\n  ") + text)
        count += 1
    if not lines:
        out.write("\n]\n")
    return count


def local_time(value: datetime, tz: tzinfo) -> datetime:
    return value.astimezone(tz)


def _cell(value: Any, tz: tzinfo) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return local_time(value, tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dict):  # counts by name, in one cell: "paid=3, held=1"
        return ", ".join(f"{k}={_cell(v, tz)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_cell(v, tz) for v in value)
    # A customer's name can hold ESC sequences: shown escaped, never sent to the terminal.
    return printable(str(value))


def _csv_cell(value: Any, tz: tzinfo) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return local_time(value, tz).isoformat(timespec="seconds")
    return csv_safe(str(value))


def _jsonable(value: Any, tz: tzinfo) -> Any:
    if isinstance(value, datetime):
        return local_time(value, tz).isoformat(timespec="seconds")
    if isinstance(value, dict):
        return {k: _jsonable(v, tz) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v, tz) for v in value]
    return value
