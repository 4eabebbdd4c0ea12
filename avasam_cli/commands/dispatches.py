"""`avasam dispatches import`: the supplier's dispatch file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avasam_cli.failures import Failures
from avasam_cli.progress import progress
from avasam_cli.state import say, workspace

app = typer.Typer(help="Dispatch confirmations from suppliers.", no_args_is_help=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with OrderNumber, Status (SHIPPED or CANCELLED), TrackingNumber, Carrier."
        ),
    ],
) -> None:
    """Import a dispatch file: SHIPPED rows dispatch, CANCELLED rows cancel and refund.

    A bad row is reported with its line number and does not stop the others; importing
    the same file again changes nothing. Exit 1 if any row failed.

    Example: avasam dispatches import dispatches-2026-11-28.csv
    """
    from avasam_cli.core.services.dispatch import import_dispatches

    ws = workspace(ctx)
    counts = {"dispatched": 0, "cancelled": 0, "unchanged": 0, "error": 0}
    with progress(ctx, f"rows read from {file.name}") as shown:
        results = list(import_dispatches(ws, file, shown))
    failures = Failures()
    for result in results:
        counts[result.outcome] += 1
        if result.outcome == "error":
            failures.report(
                f"line {result.line} ({result.order or 'no order number'}): {result.detail}"
            )
    say(
        f"Dispatched {counts['dispatched']}, cancelled {counts['cancelled']}, "
        f"unchanged {counts['unchanged']}, failed {counts['error']}."
    )
    failures.exit_if_any()
