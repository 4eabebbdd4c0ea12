"""`avasam cron show|install|uninstall` and `avasam status`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from avasam_cli.render import Format, RecordFormatOption, render_record
from avasam_cli.state import say, workspace

app = typer.Typer(help="The recurring jobs in cron.", no_args_is_help=True)

LogOption = Annotated[
    str | None,
    typer.Option(
        "--log",
        help="Where the jobs log one line per run [default: ~/.local/state/avasam/jobs.log].",
    ),
]


def _block(ctx: typer.Context, log: str | None) -> str:
    from avasam_cli.core.config import url_has_secret
    from avasam_cli.core.cron import render
    from avasam_cli.core.errors import InvalidInput

    ws = workspace(ctx, check_schema=False)
    if url_has_secret(ws.settings.database_url):
        raise InvalidInput(
            "the database URL holds a password, which would be written into "
            "the crontab; put it in ~/.pgpass and use a URL without it"
        )
    # The avasam installed beside this Python (a virtualenv's bin/), not whatever is first
    # on PATH: cron must run this very installation.
    beside = Path(sys.executable).with_name("avasam")
    avasam = str(beside) if beside.exists() else shutil.which("avasam") or "avasam"
    # XDG_STATE_HOME/avasam; the first job run creates the folder (owner-only), so showing
    # the block creates nothing.
    log_file = log or str(ws.settings.state_dir / "jobs.log")
    return render(avasam, ws.settings.database_url, log_file)


@app.command("show")
def show(ctx: typer.Context, log: LogOption = None) -> None:
    """Print the crontab block of the four jobs, ready to paste.

    Example: avasam cron show
    """
    typer.echo(_block(ctx, log), nl=False)


@app.command("install")
def install(ctx: typer.Context, log: LogOption = None) -> None:
    """Add the jobs to your crontab in a marked block (again: the block is replaced).

    Example: avasam cron install
    """
    from avasam_cli.core.cron import read_crontab, without_block, write_crontab

    block = _block(ctx, log)
    kept = without_block(read_crontab())
    write_crontab(kept + block)
    say("Installed the avasam jobs in your crontab; `crontab -l` shows them.")


@app.command("uninstall")
def uninstall(ctx: typer.Context) -> None:
    """Remove the avasam block from your crontab (other entries stay).

    Example: avasam cron uninstall
    """
    from avasam_cli.core.cron import read_crontab, without_block, write_crontab

    write_crontab(without_block(read_crontab()))
    say("Removed the avasam jobs from your crontab.")


def status(
    ctx: typer.Context,
    stale_days: Annotated[
        int,
        typer.Option(
            min=1, max=3650, help="Open orders not dispatched after this many days need attention."
        ),
    ] = 3,
    fmt: RecordFormatOption = Format.table,
) -> None:
    """The jobs' last runs, the balance, and what needs attention. Exit 1 when something
    does, so a monitor can run it.

    Example: avasam status --format json
    """
    from avasam_cli.core.services.status import workspace_status

    ws = workspace(ctx)
    report = workspace_status(ws, stale_days)
    render_record(report, fmt, ws.timezone)
    if report["needs_attention"]:
        raise typer.Exit(1)
