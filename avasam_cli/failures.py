"""Batch commands (cancel several orders, import a file, pull channels, run exports) go on
past a failing row: each failure is one `Error:` line on stderr as it is found, and the
command exits 1 at the end if there was any. Under `state.job()` that exit marks the job
failed."""

from __future__ import annotations

import typer

from avasam_cli.state import say


class Failures:
    """The failed rows of one batch command."""

    def __init__(self) -> None:
        self.count = 0

    def report(self, message: str) -> None:
        """One failed row: `Error: {message}` on stderr, now; the others still run."""
        say(f"Error: {message}")
        self.count += 1

    def exit_if_any(self) -> None:
        """Exit 1 if any row failed; call it once everything else is printed."""
        if self.count:
            raise typer.Exit(1)
