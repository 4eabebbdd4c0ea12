"""Progress on a terminal: a bar when the total is known and the work is large enough to wait
for, a running count when the total is not known. Nothing under `--cron` or when stderr is
not a terminal, so cron mail and pipes stay clean."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import click
import typer

from avasam_cli.state import on_terminal

if TYPE_CHECKING:
    from avasam_cli.core.progress import Progress

# Below this many items the work is over before a bar would be read.
BAR_THRESHOLD = 2000
_REDRAW = 0.1  # seconds between redraws of a running count


class TerminalProgress:
    def __init__(
        self, label: str, *, threshold: int = BAR_THRESHOLD, stream: TextIO | None = None
    ) -> None:
        self.label, self.threshold = label, threshold
        self.stream = stream or sys.stderr
        self.done = 0
        self._bar: Any = None  # click's ProgressBar (its class is not public)
        self._counting = False
        self._drawn_at = 0.0

    def start(self, total: int | None) -> None:
        if total is None:
            self._counting = True
            self._draw_count()
        elif total >= self.threshold:
            self._bar = click.progressbar(
                length=total, label=self.label, file=self.stream, show_pos=True, show_eta=True
            )
            self._bar.__enter__()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        elif self._counting and time.monotonic() - self._drawn_at >= _REDRAW:
            self._draw_count()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        elif self._counting:
            self._draw_count()
            self.stream.write("\n")
            self.stream.flush()
            self._counting = False

    def _draw_count(self) -> None:
        self.stream.write(f"\r{self.label}: {self.done:,}")
        self.stream.flush()
        self._drawn_at = time.monotonic()


@contextmanager
def progress(ctx: typer.Context, label: str) -> Iterator[Progress]:
    """A TerminalProgress for a person at a terminal; silence for cron and pipes."""
    from avasam_cli.core.progress import SILENT

    if not on_terminal(ctx):
        yield SILENT
        return
    shown = TerminalProgress(label)
    try:
        yield shown
    finally:
        shown.close()
