"""Channel adapters: each turns a sales channel into batches of IncomingOrder.

A batch is committed as one transaction; then its cursor is saved and `after_commit` runs
(a file drop moves the file to processed/). A batch that fails to parse calls `rejected`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from avasam_cli.core.services.intake import IncomingOrder


@dataclass
class Batch:
    label: str
    chunks: Iterator[list[IncomingOrder]]
    cursor: str | None = None
    after_commit: Callable[[], None] = field(default=lambda: None)
    rejected: Callable[[Exception], None] | None = None


class Adapter(Protocol):
    problems: list[str]  # orders the adapter could not read, one line each

    def batches(self, cursor: str | None, since: datetime | None) -> Iterator[Batch]: ...


class FileFormatError(Exception):
    """A dropped file cannot be read; the message names the line and the problem."""
