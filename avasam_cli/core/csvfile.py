"""Reading the text files users give us (product feeds, dispatch files, dropped orders):
UTF-8 with or without a BOM, lines ending in LF, CRLF or CR, and line numbers as an editor
or a spreadsheet shows them. CSV header names match ignoring case, spaces and underscores.
Files are streamed, so memory does not grow with their size.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.progress import SILENT, Progress, counted

if TYPE_CHECKING:
    from _csv import Reader

Row = dict[str, str]
Columns = dict[str, int]

_LONE_CR = re.compile(rb"(?<=\r)(?=[^\n])")  # where a line ends in CR alone (old Mac files)


class FileFormatError(InvalidInput):
    """A file that cannot be read: the line (None for the file as a whole) and the problem."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(f"line {line}: {problem}" if line else f"the file {problem}")
        self.line = line
        self.problem = problem

    def named(self, name: str) -> str:
        """The message led by the file's name: 'a.csv, line 3: ...' or 'a.csv is empty; ...'."""
        if self.line:
            return f"{name}, line {self.line}: {self.problem}"
        return f"{name} {self.problem}"


class Utf8Lines:
    """A binary file as UTF-8 text lines (a BOM is dropped), naming the line that is not
    UTF-8. Iterates by line (csv, JSON Lines) or reads by size (a streaming JSON reader)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.number = 0  # of the last line returned
        self.pending = ""  # text read ahead by `read`
        self._lines: deque[bytes] = deque()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if not self._lines and not self._fill():
            raise StopIteration
        data = self._lines.popleft()
        self.number += 1
        try:
            return data.decode("utf-8-sig" if self.number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise FileFormatError(self.number, "not UTF-8 text; save the file as UTF-8") from None

    def read(self, size: int) -> str:
        while len(self.pending) < size:
            try:
                self.pending += next(self)
            except StopIteration:
                break
        text, self.pending = self.pending[:size], self.pending[size:]
        return text

    def _fill(self) -> bool:
        data = self.raw.readline()
        if not data:
            return False
        cr = data.find(b"\r")
        lone_cr = cr != -1 and not (cr == len(data) - 2 and data.endswith(b"\r\n"))
        # Files whose lines end in CR alone arrive as one piece: split them here.
        self._lines.extend(_LONE_CR.split(data) if lone_cr else [data])
        return True


def csv_rows(
    lines: Iterable[str],
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    empty_ok: bool = False,
    renamed: Mapping[str, str] | None = None,
) -> Iterator[tuple[int, Row]]:
    """(line number, row) for each row that is not blank. A row holds the `required` columns
    (the header must name them all) and the `optional` ones the header names, values
    stripped; a short row fills in ''. The header is read now, so a missing column fails
    before any row; an empty file has no rows if `empty_ok`, else is an error. `renamed`:
    our column name -> the name this file's header uses for it (a supplier's own names)."""
    return csv_table(lines, required, optional, empty_ok=empty_ok, renamed=renamed)[1]


def csv_table(
    lines: Iterable[str],
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    empty_ok: bool = False,
    renamed: Mapping[str, str] | None = None,
) -> tuple[list[str], Iterator[tuple[int, Row]]]:
    """`csv_rows`, with the columns the header has (ours, in the order asked)."""
    reader = csv.reader(lines)
    columns = _columns(reader, required, optional, empty_ok=empty_ok, renamed=renamed or {})
    return list(columns or ()), _rows(reader, columns) if columns else iter(())


@contextmanager
def open_csv(
    path: Path, required: list[str], progress: Progress = SILENT, optional: Sequence[str] = ()
) -> Iterator[Iterator[tuple[int, Row]]]:
    """`csv_rows` of a file, with its name in every error. `progress` counts rows against
    the file's lines (counted first only when watched)."""
    with open_input(path) as raw:
        try:
            rows = csv_rows(Utf8Lines(raw), required, optional)
        except FileFormatError as exc:
            raise InvalidInput(exc.named(path.name)) from None
        watch(progress, path)
        yield counted(_named(rows, path.name), progress)


def open_input(path: Path) -> BinaryIO:
    """A file a user named, opened to read; a missing or unreadable one is InvalidInput."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InvalidInput(f"file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {str(path)!r}: {exc.strerror}") from None


def watch(progress: Progress, path: Path) -> None:
    """Start `progress` with the file's rows as its total: counted (a read of the whole
    file) only when somebody watches."""
    if progress is not SILENT:
        progress.start(max(count_lines(path) - 1, 0))


def _columns(
    reader: Reader,
    required: Sequence[str],
    optional: Sequence[str],
    *,
    empty_ok: bool,
    renamed: Mapping[str, str],
) -> Columns | None:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FileFormatError(1, f"cannot be read: {exc}") from None
    if header is None:
        if empty_ok:
            return None
        wanted = ", ".join(renamed.get(column, column) for column in required)
        raise FileFormatError(None, f"is empty; it needs a header row: {wanted}")
    names: dict[str, int] = {}
    for index, name in enumerate(header):
        if _key(name) in names and _key(name):  # which of the two would we read?
            raise FileFormatError(1, f"the header names column {name.strip()!r} twice")
        names[_key(name)] = index

    def key(column: str) -> str:
        return _key(renamed.get(column, column))

    missing = [renamed.get(column, column) for column in required if key(column) not in names]
    if missing:
        wanted = ", ".join(renamed.get(column, column) for column in required)
        raise FileFormatError(
            None, f"has no column {', '.join(missing)}; the header needs: {wanted}"
        )
    return {column: names[key(column)] for column in (*required, *optional) if key(column) in names}


def _rows(reader: Reader, columns: Columns) -> Iterator[tuple[int, Row]]:
    pairs = list(columns.items())
    width = max(columns.values(), default=-1) + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileFormatError(reader.line_num, f"cannot be read: {exc}") from None
        if not any(value.strip() for value in values):
            continue
        if len(values) >= width:
            yield reader.line_num, {column: values[index].strip() for column, index in pairs}
        else:
            yield (
                reader.line_num,
                {
                    column: values[index].strip() if index < len(values) else ""
                    for column, index in pairs
                },
            )


def _named(rows: Iterator[tuple[int, Row]], name: str) -> Iterator[tuple[int, Row]]:
    try:
        yield from rows
    except FileFormatError as exc:
        raise InvalidInput(exc.named(name)) from None


def count_lines(path: Path) -> int:
    """Lines in the file, for a progress total (a quoted newline makes it an overestimate)."""
    count = 0
    with path.open("rb") as raw:
        while chunk := raw.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "").replace("_", "")
