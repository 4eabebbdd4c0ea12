"""The root Typer app: global options, error translation, one sub-app per noun."""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

import click
import typer
from typer.core import TyperGroup

from avasam_cli.commands import (
    account,
    channels,
    config,
    cron,
    db,
    dispatches,
    exports,
    imports,
    orders,
    products,
    suppliers,
    tickets,
)
from avasam_cli.core.errors import AvasamError
from avasam_cli.state import CliState


class AvasamGroup(TyperGroup):
    """Turns every failure into one `Error:` line on stderr and exit 1: an expected one
    (`AvasamError`, a database that cannot be reached) as it is, anything else as an
    "unexpected failure" whose traceback goes to a log file, never to the terminal.

    Click's own exits (`typer.Exit`, usage errors with exit 2, Abort) and BaseExceptions
    (SystemExit, KeyboardInterrupt, which Typer turns into exit 130) pass through. Units
    of work roll back as the exception leaves them, before it reaches this funnel.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for arg in args:  # undecodable bytes in argv arrive as lone surrogates
            if _printable(arg) != arg:
                shown = _printable(arg if len(arg) <= 60 else arg[:57] + "...")
                raise click.UsageError(
                    f"the argument {shown!r} is not valid text (bytes that are not UTF-8)",
                    ctx,
                )
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AvasamError as exc:
            _fail(ctx, exc)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`avasam orders list | head`): stop quietly, as other
            # Unix tools do, and keep Python from failing again when it flushes stdout.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except Exception as exc:
            from sqlalchemy.exc import OperationalError

            from avasam_cli.core.db import describe_database_error

            if isinstance(exc, OperationalError):
                _fail(ctx, AvasamError(describe_database_error(exc)))
            _fail(ctx, AvasamError(_unexpected(ctx, exc)))


def _fail(ctx: click.Context, exc: AvasamError) -> NoReturn:
    for problem in getattr(exc, "problems", []):
        typer.echo(f"  {_printable(str(problem))}", err=True)
    typer.echo(f"Error: {_printable(str(exc))}", err=True)
    ctx.exit(1)


def _printable(text: str) -> str:
    """Lone surrogates (from undecodable arguments) escaped, so printing cannot fail."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _unexpected(ctx: click.Context, exc: Exception) -> str:
    """The one line for a failure nobody foresaw; its traceback goes to the error log."""
    from avasam_cli.core.errors import describe_unexpected

    saved = _save_traceback(ctx, exc)
    where = f"details in {saved}" if saved else "details could not be saved"
    return f"unexpected failure ({describe_unexpected(exc)}); {where}"


def _save_traceback(ctx: click.Context, exc: Exception) -> str | None:
    """Append the traceback to `errors.log` in the state directory (owner-only); the
    file's path, or None when it cannot be written."""
    import os
    import traceback
    from datetime import UTC, datetime

    state = ctx.find_object(CliState)
    try:
        folder = state.state_dir() if state else None
        if folder is None:
            return None
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / "errors.log"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as log:
            os.fchmod(fd, 0o600)
            moment = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"--- {moment} avasam {' '.join(_command_path(ctx))}\n")
            log.write("".join(traceback.format_exception(exc)))
        return str(path)
    except Exception:  # a full disk, a read-only home: the one line still goes out
        return None


def _command_path(ctx: click.Context) -> list[str]:
    """The command's words (not its arguments, which may hold personal data)."""
    words = [ctx.info_name or "avasam"]
    sub = ctx.invoked_subcommand
    return [*words, sub] if sub else words


app = typer.Typer(
    cls=AvasamGroup,
    name="avasam",
    help="Run a dropshipping seller's order lifecycle: catalogue, balance, orders, "
    "channels, supplier exports and imports.\n\nStart with `avasam init`, then "
    "`avasam suppliers add`. "
    "`avasam config` lists the settings (AVASAM_* variables) with their values.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"avasam {version('avasam')}")
        except PackageNotFoundError:  # a source tree that was never installed
            typer.echo("avasam (not installed)")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="AVASAM_DATABASE_URL",
            help="Database URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB. "
            "Default: a SQLite file in ~/.local/share/avasam/.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    cron: Annotated[
        bool,
        typer.Option(
            "--cron", help="Job mode for cron: print nothing on success, only Error lines."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="With --cron: print as usual.")
    ] = False,
    log_file: Annotated[
        str | None,
        typer.Option(envvar="AVASAM_LOG_FILE", help="Append one line per job run to this file."),
    ] = None,
) -> None:
    ctx.obj = CliState(db=db_url, cron=cron, verbose=verbose, log_file=log_file)


db.register(app)
app.add_typer(suppliers.app, name="suppliers")
app.add_typer(products.app, name="products")
app.add_typer(account.app, name="account")
app.add_typer(orders.app, name="orders")
app.add_typer(channels.app, name="channels")
app.add_typer(exports.app, name="exports")
app.add_typer(imports.app, name="imports")
app.add_typer(cron.app, name="cron")
app.command("status")(cron.status)
app.command("config")(config.show_config)
app.add_typer(dispatches.app, name="dispatches")
app.add_typer(tickets.app, name="tickets")


def run() -> None:
    app()
