"""`avasam exports ...`: suppliers receive their open orders as files on their servers."""

from __future__ import annotations

import dataclasses
import sys
from contextlib import nullcontext
from typing import IO, TYPE_CHECKING, Annotated

import typer

from avasam_cli.commands.remote import say_next, trust_host_key
from avasam_cli.core.statuses import RunOutcome
from avasam_cli.failures import Failures
from avasam_cli.params import (
    ExportArg,
    ExportOptions,
    LimitOption,
    check_output_file,
    complete_names,
    export_options,
    shown,
)
from avasam_cli.progress import progress
from avasam_cli.render import Format, FormatOption, RecordFormatOption, render_record, render_rows
from avasam_cli.state import job, quiet, say, workspace
from avasam_cli.switches import add_switches

if TYPE_CHECKING:
    from avasam_cli.core.services.export_run import DryRunOutput
    from avasam_cli.core.services.exports import ExportSettings

app = typer.Typer(
    help="Send suppliers their open orders over FTP, FTPS, SFTP or to a folder.",
    no_args_is_help=True,
)


def _settings(options: ExportOptions) -> ExportSettings:
    from avasam_cli.core.services.exports import ExportSettings

    values = dataclasses.asdict(options)
    return ExportSettings(format=values.pop("file_format"), **values)


@app.command("add")
@export_options
def add(ctx: typer.Context, name: ExportArg, options: ExportOptions) -> None:
    """Add an export: where a supplier receives its open orders, and when.

    Example: avasam exports add oak-sftp --supplier OAKCO --protocol sftp --host sftp.oak.example
    --username avasam --key-file ~/.ssh/oak_ed25519 --remote-dir /in --schedule "*/30 * * * *"
    """
    from avasam_cli.core.services.exports import add_export

    row = add_export(workspace(ctx), name, _settings(options))
    say(f"Added export {row['name']}: {row['supplier']}'s open orders to {row['destination']}.")
    say_next(row, "export")


@app.command("edit")
@export_options
def edit(ctx: typer.Context, name: ExportArg, options: ExportOptions) -> None:
    """Change an export's settings; options not given stay as they are.

    Example: avasam exports edit oak-sftp --schedule "0 * * * *" --only-new
    """
    from avasam_cli.core.services.exports import edit_export

    row = edit_export(workspace(ctx), name, _settings(options))
    say(f"Saved export {row['name']}.")
    say_next(row, "export")


@app.command("list")
def list_(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """List exports (never their secrets).

    Example: avasam exports list
    """
    from avasam_cli.core.services.exports import list_exports

    ws = workspace(ctx)
    render_rows(list_exports(ws), fmt, ws.timezone, empty_message="No exports yet.")


@app.command("show")
def show(ctx: typer.Context, name: ExportArg, fmt: RecordFormatOption = Format.table) -> None:
    """Show an export's settings (secrets are only named) and its next run.

    Example: avasam exports show oak-sftp
    """
    from avasam_cli.core.services.exports import show_export

    ws = workspace(ctx)
    render_record(show_export(ws, name), fmt, ws.timezone)


@app.command("remove")
def remove(ctx: typer.Context, name: ExportArg) -> None:
    """Remove an export (its run history is kept).

    Example: avasam exports remove oak-sftp
    """
    from avasam_cli.core.services.exports import remove_export

    remove_export(workspace(ctx), name)
    say(f"Removed export {name}.")


add_switches(
    app,
    "export",
    ExportArg,
    "avasam_cli.core.services.exports",
    example="oak-sftp",
    enable="Run this export again (by schedule or `--all`).",
    disable="Stop running this export.",
)


@app.command("test")
def test(ctx: typer.Context, name: ExportArg) -> None:
    """Connect, log in and check the remote directory is writable, step by step.

    Example: avasam exports test oak-sftp
    """
    from avasam_cli.core.services.export_run import test_export

    for step in test_export(workspace(ctx), name):
        say(f"ok: {step}")
    say(f"Export {name} is ready.")


@app.command("trust")
def trust(
    ctx: typer.Context,
    name: ExportArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """SFTP: show the server's host key fingerprint and record it in known_hosts.

    Check the fingerprint with the supplier before you accept it.

    Example: avasam exports trust oak-sftp
    """
    trust_host_key(ctx, name, yes=yes, noun="export")


@app.command("run")
def run(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Exports to run.", autocompletion=complete_names("export")),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every enabled export.")] = False,
    due: Annotated[bool, typer.Option("--due", help="Those whose schedule has come due.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the file, upload nothing.")
    ] = False,
    output: Annotated[
        str | None,
        typer.Option(help="With --dry-run: write the file here ('-' for stdout, the default)."),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Send each supplier's open orders now. Exit 1 if any export failed.

    Example: avasam exports run --due
    """
    from avasam_cli.core.jobs import Job
    from avasam_cli.core.services.due_work import exports_due

    ws = workspace(ctx)
    chosen = list(names or [])
    if not chosen and not (due or all_):
        raise typer.BadParameter("name exports, or use --all or --due")
    # A dry run rehearses: it sends nothing, so it neither takes the job's lock nor
    # leaves a job run behind (a failed rehearsal must not make `status` ring).
    with nullcontext(Job("exports")) if dry_run else job(ctx, "exports") as current:
        if due:
            chosen += exports_due(ws)
        if all_:
            from avasam_cli.core.services.export_run import enabled_exports

            chosen += enabled_exports(ws)
        results = []
        for name in dict.fromkeys(chosen):
            from avasam_cli.core.services.export_run import run_export  # only with work to do

            with progress(ctx, f"order lines written for {name}") as shown:
                results.append(
                    run_export(
                        ws,
                        name,
                        dry_run=dry_run,
                        output=_dry_run_output(output),
                        progress=shown,
                        exclusive=not dry_run,  # under the exports job lock
                    )
                )
        failed = [r for r in results if r.outcome == RunOutcome.FAILED]
        current.summary = {
            "sent": sum(r.outcome == RunOutcome.OK for r in results),
            "orders": sum(r.orders for r in results),
            "failed": len(failed),
        }
        if not dry_run and not quiet(ctx):
            render_rows(
                [
                    {
                        "export": r.export,
                        "outcome": r.outcome,
                        "file": r.file_name,
                        "orders": r.orders,
                        "bytes": r.bytes,
                    }
                    for r in results
                ],
                fmt,
                ws.timezone,
                empty_message="No exports due.",
            )
        failures = Failures()
        for result in failed:
            failures.report(f"export {result.export}: {result.error}")
        for result in results:
            if result.outcome == RunOutcome.BUSY and not quiet(ctx):
                say(f"Export {result.export} is already running elsewhere; skipped.")
        failures.exit_if_any()


def _dry_run_output(output: str | None) -> DryRunOutput:
    """--output FILE, written afresh by each run, or stdout for '-' (the default). The
    file is checked here, before any run, and opened only once a run's file is written."""
    if output in (None, "-"):
        return lambda: nullcontext(sys.stdout.buffer)
    path = str(output)
    check_output_file(path, "--output")

    def opened() -> IO[bytes]:
        from avasam_cli.core.errors import InvalidInput

        try:
            return open(path, "wb")
        except OSError as exc:
            raise InvalidInput(f"cannot write --output {shown(path)} ({exc.strerror})") from None

    return opened


@app.command("history")
def history(
    ctx: typer.Context,
    name: ExportArg,
    limit: LimitOption = 20,
    fmt: FormatOption = Format.table,
) -> None:
    """An export's runs, newest first: when, outcome, file, orders, bytes, sha256, error.

    Example: avasam exports history oak-sftp --format json
    """
    from avasam_cli.core.services.export_run import history as runs

    ws = workspace(ctx)
    render_rows(runs(ws, name, limit or None), fmt, ws.timezone, empty_message="No runs yet.")
