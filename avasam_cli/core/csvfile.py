"""Reading the CSV files users give us: UTF-8 (with or without BOM), a header row,
line numbers as a spreadsheet shows them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.progress import SILENT, Progress, counted

Row = dict[str, str]


@contextmanager
def open_csv(path: Path, required: list[str],
             progress: Progress = SILENT) -> Iterator[Iterator[tuple[int, Row]]]:
    """Yields (line number, row) pairs; header names are matched ignoring case and spaces.
    `progress` counts rows against the file's lines (counted first only when watched)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InvalidInput(f"file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {str(path)!r}: {exc.strerror}") from None
    with handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InvalidInput(f"{path.name} is not a UTF-8 CSV file: {exc}") from None
        if header is None:
            raise InvalidInput(
                f"{path.name} is empty; it needs a header row: {', '.join(required)}"
            )
        names = {_key(name): index for index, name in enumerate(header)}
        missing = [column for column in required if _key(column) not in names]
        if missing:
            raise InvalidInput(
                f"{path.name} has no column {', '.join(missing)}; "
                f"the header needs: {', '.join(required)}"
            )
        columns = {column: names[_key(column)] for column in required}
        if progress is not SILENT:
            progress.start(max(_count_lines(path) - 1, 0))
        yield counted(_rows(reader, columns, path), progress)


def _rows(
    reader: Iterator[list[str]], columns: dict[str, int], path: Path
) -> Iterator[tuple[int, Row]]:
    line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InvalidInput(f"{path.name}, line {line + 1}: cannot be read: {exc}") from None
        line = reader.line_num if hasattr(reader, "line_num") else line + 1
        if not any(value.strip() for value in values):
            continue
        yield line, {
            column: values[index].strip() if index < len(values) else ""
            for column, index in columns.items()
        }


def _count_lines(path: Path) -> int:
    """Lines in the file, for a progress total (a quoted newline makes it an overestimate)."""
    count = 0
    with path.open("rb") as raw:
        while chunk := raw.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "").replace("_", "")
