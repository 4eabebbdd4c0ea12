"""The root Typer app: global options, error translation, one sub-app per noun."""

from __future__ import annotations

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
    orders,
    products,
    suppliers,
    tickets,
)
from avasam_cli.core.errors import AvasamError
from avasam_cli.state import CliState


class AvasamGroup(TyperGroup):
    """Turns every expected failure into one `Error:` line on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AvasamError as exc:
            _fail(ctx, exc)
        except Exception as exc:
            from sqlalchemy.exc import OperationalError

            from avasam_cli.core.db import first_line

            if not isinstance(exc, OperationalError):
                raise
            _fail(ctx, AvasamError(f"the database failed: {first_line(exc)}"))


def _fail(ctx: click.Context, exc: AvasamError) -> NoReturn:
    for problem in getattr(exc, "problems", []):
        typer.echo(f"  {problem}", err=True)
    typer.echo(f"Error: {exc}", err=True)
    ctx.exit(1)


app = typer.Typer(
    cls=AvasamGroup,
    name="avasam",
    help="Run a dropshipping seller's order lifecycle: catalogue, balance, orders, "
    "channels, supplier exports.\n\nStart with `avasam init`, then `avasam suppliers add`. "
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
app.add_typer(cron.app, name="cron")
app.command("status")(cron.status)
app.command("config")(config.show_config)
app.add_typer(dispatches.app, name="dispatches")
app.add_typer(tickets.app, name="tickets")


def run() -> None:
    app()
