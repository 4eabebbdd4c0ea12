"""The typed context object every command finds in `ctx.obj`.

Nothing heavy happens here until a command asks for its workspace: `avasam --help`
never imports SQLAlchemy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from avasam_cli.core.jobs import Job
    from avasam_cli.core.workspace import Workspace


@dataclass
class CliState:
    db: str | None
    cron: bool = False  # job mode: nothing on stdout/stderr on success, unless verbose
    verbose: bool = False
    log_file: str | None = None
    _workspace: Workspace | None = field(default=None, repr=False)

    def workspace(self, ctx: Any, *, check_schema: bool = True, create: bool = False) -> Workspace:
        # ctx: the root click context (Typer vendors click, and its class is private).
        if self._workspace is None:
            from avasam_cli.core.config import Settings
            from avasam_cli.core.workspace import Workspace

            self._workspace = Workspace(
                Settings.resolve(self.db, log_file=self.log_file),
                check_schema=check_schema,
                create=create,
            )
            ctx.call_on_close(self._workspace.close)
        return self._workspace

    def state_dir(self) -> Path:
        """Where the error log goes: the settings' state directory (XDG_STATE_HOME).
        Raises what `Settings.resolve` raises when the settings themselves are bad."""
        if self._workspace is not None:
            return self._workspace.settings.state_dir
        from avasam_cli.core.config import Settings

        return Settings.resolve(self.db).state_dir


def workspace(ctx: typer.Context, *, check_schema: bool = True, create: bool = False) -> Workspace:
    state = ctx.find_object(CliState)
    if state is None:  # a sub-app invoked on its own (tests)
        state = CliState(db=None)
        ctx.obj = state
    return state.workspace(ctx.find_root(), check_schema=check_schema, create=create)


def say(message: str) -> None:
    """A message for the person (stderr), so stdout stays clean for pipes."""
    typer.echo(message, err=True)


def on_terminal(ctx: typer.Context) -> bool:
    """A person is watching stderr: progress bars and hints are for them, never for cron
    (`--cron`) or a pipe."""
    return not quiet(ctx) and not _in_cron(ctx) and sys.stderr.isatty()


def _in_cron(ctx: typer.Context) -> bool:
    state = ctx.find_object(CliState)
    return bool(state and state.cron)


def quiet(ctx: typer.Context) -> bool:
    """True under `avasam --cron` without --verbose: a successful job prints nothing."""
    state = ctx.find_object(CliState)
    return bool(state and state.cron and not state.verbose)


@contextmanager
def job(ctx: typer.Context, name: str) -> Iterator[Job]:
    """Run a recurring job's command under its lock, recorded and logged. A second run of
    a running job says so in one line and exits 0.

    The command ends a failed run with `typer.Exit(1)` (see `failures.Failures`): a non-zero
    exit code marks the job failed, and the core's job runner never sees Typer's exception.
    """
    from avasam_cli.core.jobs import JobBusy, log_line, run_job

    ws = workspace(ctx)
    current: Job | None = None
    stop: typer.Exit | None = None
    try:
        with run_job(ws, name) as current:
            try:
                yield current
            except typer.Exit as exc:
                stop = exc
                current.failed = current.failed or exc.exit_code != 0
    except JobBusy:
        if not quiet(ctx):  # under cron a skipped overlap is normal, not mail-worthy
            say(f"Job {name} is already running; skipped.")
        raise typer.Exit(0) from None
    finally:
        if current is not None:
            log_line(ws.settings.log_file, ws.now(), current)  # --log-file or AVASAM_LOG_FILE
    if stop is not None:
        raise stop
