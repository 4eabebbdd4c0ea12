"""`avasam imports ...`: suppliers' dispatch confirmations and stock files, fetched from
their servers on a schedule and applied once."""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from avasam_cli.commands.remote import say_next, trust_host_key
from avasam_cli.core.statuses import FeedAfter, FeedKind, RunOutcome
from avasam_cli.failures import Failures
from avasam_cli.params import (
    MAX_COUNT,
    LimitOption,
    RemoteOptions,
    ScheduleOption,
    SupplierOption,
    complete_names,
    option_group,
)
from avasam_cli.progress import progress
from avasam_cli.render import Format, FormatOption, RecordFormatOption, render_record, render_rows
from avasam_cli.state import job, quiet, say, workspace
from avasam_cli.switches import add_switches

if TYPE_CHECKING:
    from avasam_cli.core.services.feeds import FeedSettings

app = typer.Typer(
    help="Fetch suppliers' dispatch confirmations and stock files from their servers.",
    no_args_is_help=True,
)

ImportArg = Annotated[
    str,
    typer.Argument(
        help="Import name, e.g. oak-dispatches.", autocompletion=complete_names("import")
    ),
]


@dataclass(frozen=True)
class ImportOptions(RemoteOptions):
    """The settings of `imports add` and `imports edit`; None leaves a setting as it is."""

    supplier: SupplierOption = None
    kind: Annotated[
        FeedKind | None,
        typer.Option(
            help="dispatches: order, status, tracking, carrier. stock: the product feed "
            "(full, or ProductId/SKU with stock and/or prices)."
        ),
    ] = None
    pattern: Annotated[
        str | None, typer.Option(help="Which files to take, e.g. '*.csv' [default: *.csv].")
    ] = None
    columns: Annotated[
        str | None,
        typer.Option(
            help="The supplier's column names, OURS=THEIRS, comma-separated, e.g. "
            "'OrderNumber=Order,TrackingNumber=Tracking'; '' for ours as they are."
        ),
    ] = None
    after: Annotated[
        FeedAfter | None,
        typer.Option(
            help="Once a file is applied: archive (move to processed/), delete, or keep it "
            "(remembered, never applied again) [default: archive]."
        ),
    ] = None
    schedule: ScheduleOption = None


import_options = option_group(ImportOptions)


def _settings(options: ImportOptions) -> FeedSettings:
    from avasam_cli.core.services.feeds import FeedSettings

    return FeedSettings(**dataclasses.asdict(options))


@app.command("add")
@import_options
def add(ctx: typer.Context, name: ImportArg, options: ImportOptions) -> None:
    """Add an import: where a supplier leaves its dispatch or stock files, and when to fetch
    them.

    Example: avasam imports add oak-dispatches --supplier OAKCO --kind dispatches --protocol sftp
    --host sftp.oak.example --username avasam --key-file ~/.ssh/oak_ed25519 --remote-dir /out
    --pattern 'dispatch-*.csv' --schedule '*/15 * * * *'
    """
    from avasam_cli.core.services.feeds import add_feed

    row = add_feed(workspace(ctx), name, _settings(options))
    say(
        f"Added import {row['name']}: {row['supplier']}'s {row['kind']} files from {row['source']}."
    )
    say_next(row, "import")


@app.command("edit")
@import_options
def edit(ctx: typer.Context, name: ImportArg, options: ImportOptions) -> None:
    """Change an import's settings; options not given stay as they are.

    Example: avasam imports edit oak-dispatches --after delete --schedule '0 * * * *'
    """
    from avasam_cli.core.services.feeds import edit_feed

    row = edit_feed(workspace(ctx), name, _settings(options))
    say(f"Saved import {row['name']}.")
    say_next(row, "import")


@app.command("list")
def list_(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """List imports (never their secrets).

    Example: avasam imports list
    """
    from avasam_cli.core.services.feeds import list_feeds

    ws = workspace(ctx)
    render_rows(list_feeds(ws), fmt, ws.timezone, empty_message="No imports yet.")


@app.command("show")
def show(ctx: typer.Context, name: ImportArg, fmt: RecordFormatOption = Format.table) -> None:
    """Show an import's settings (secrets are only named), its last error and next run.

    Example: avasam imports show oak-dispatches
    """
    from avasam_cli.core.services.feeds import show_feed

    ws = workspace(ctx)
    render_record(show_feed(ws, name), fmt, ws.timezone)


@app.command("remove")
def remove(ctx: typer.Context, name: ImportArg) -> None:
    """Remove an import (the history of its files is kept).

    Example: avasam imports remove oak-dispatches
    """
    from avasam_cli.core.services.feeds import remove_feed

    remove_feed(workspace(ctx), name)
    say(f"Removed import {name}.")


add_switches(
    app,
    "import",
    ImportArg,
    "avasam_cli.core.services.feeds",
    example="oak-dispatches",
    enable="Fetch this import again (by schedule or `--all`).",
    disable="Stop fetching this import.",
)


@app.command("test")
def test(ctx: typer.Context, name: ImportArg) -> None:
    """Connect, log in, count the matching files and check files can be archived, step by
    step. Changes nothing.

    Example: avasam imports test oak-dispatches
    """
    from avasam_cli.core.services.feed_run import test_feed

    for step in test_feed(workspace(ctx), name):
        say(f"ok: {step}")
    say(f"Import {name} is ready.")


@app.command("trust")
def trust(
    ctx: typer.Context,
    name: ImportArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """SFTP: show the server's host key fingerprint and record it in known_hosts.

    Check the fingerprint with the supplier before you accept it.

    Example: avasam imports trust oak-dispatches
    """
    trust_host_key(ctx, name, yes=yes, noun="import")


@app.command("run")
def run(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Imports to run.", autocompletion=complete_names("import")),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every enabled import.")] = False,
    due: Annotated[bool, typer.Option("--due", help="Those whose schedule has come due.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Fetch and check the files, say what they would change; apply, "
            "move and record nothing.",
        ),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Fetch each import's new files and apply them, each file once. Exit 1 if an import
    failed (its server, a file that could not be archived) or a file was rejected.

    Example: avasam imports run --due
    """
    from avasam_cli.core.jobs import Job
    from avasam_cli.core.services.due_work import imports_due

    ws = workspace(ctx)
    chosen = list(names or [])
    if not chosen and not (due or all_):
        raise typer.BadParameter("name imports, or use --all or --due")
    if chosen:  # every name known before any file is touched
        from avasam_cli.core.services.feeds import check_names

        check_names(ws, chosen)
    with nullcontext(Job("imports")) if dry_run else job(ctx, "imports") as current:
        if due:
            chosen += imports_due(ws)
        if all_:
            from avasam_cli.core.services.feed_run import enabled_feeds

            chosen += enabled_feeds(ws)
        results = []
        for name in dict.fromkeys(chosen):
            from avasam_cli.core.errors import AvasamError
            from avasam_cli.core.services.feed_run import FeedResult, run_feed  # work to do

            with progress(ctx, f"rows applied for {name}") as shown:
                try:
                    results.append(run_feed(ws, name, dry_run=dry_run, progress=shown))
                except AvasamError as exc:  # this import failed; the others still run
                    results.append(FeedResult(name, RunOutcome.FAILED, error=str(exc)))
        files = [(r.feed, f) for r in results for f in r.files]
        current.summary = {
            "files": sum(f.outcome == "applied" for _, f in files),
            "rejected": sum(f.outcome == "rejected" for _, f in files),
            "failed": sum(r.outcome == RunOutcome.FAILED for r in results),
        }
        failed = [r for r in results if r.outcome == RunOutcome.FAILED]
        if (not quiet(ctx) or dry_run) and (files or not failed):
            render_rows(
                [
                    {
                        "import": feed,
                        "file": f.name,
                        "outcome": f.outcome,
                        "rows": f.rows,
                        "changed": f.changed,
                        "unchanged": f.unchanged,
                        "problems": f.problems,
                        "detail": f.detail,
                    }
                    for feed, f in files
                ],
                fmt,
                ws.timezone,
                empty_message="No new files." if results else "No imports due.",
            )
        failures = Failures()
        for result in failed:
            failures.report(f"import {result.feed}: {result.error}")
        for feed, f in files:
            if f.outcome == "rejected":
                failures.report(f"import {feed}: file {f.detail}")
        failures.exit_if_any()


@app.command("history")
def history(
    ctx: typer.Context,
    name: ImportArg,
    file: Annotated[
        int | None,
        typer.Option(
            "--file", min=1, max=MAX_COUNT, help="One file's rows that were not applied, and why."
        ),
    ] = None,
    limit: LimitOption = 20,
    fmt: FormatOption = Format.table,
) -> None:
    """An import's files, newest first: outcome, rows changed, unchanged and with problems,
    why a file was rejected, when it was archived. With --file ID, that file's problem rows.

    Example: avasam imports history oak-dispatches --file 12
    """
    from avasam_cli.core.services import feed_run

    ws = workspace(ctx)
    if file is not None:
        rows = feed_run.file_problems(ws, name, file)
        render_rows(rows, fmt, ws.timezone, empty_message="Every row of that file applied.")
        return
    render_rows(
        feed_run.history(ws, name, limit or None), fmt, ws.timezone, empty_message="No files yet."
    )
