"""`avasam init` and `avasam db current|upgrade|downgrade`."""

from __future__ import annotations

from typing import Annotated

import typer

from avasam_cli.state import say, workspace

app = typer.Typer(help="Schema of the database (Alembic revisions).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.command("init")(init)
    root.add_typer(app, name="db")


def init(ctx: typer.Context) -> None:
    """Create the database, or upgrade it to the newest schema. Safe to run again.

    Example: avasam --db sqlite:///shop.db init
    """
    from avasam_cli.core import migrate
    from avasam_cli.core.db import redact_url

    ws = workspace(ctx, check_schema=False, create=True)
    before = migrate.current_revision(ws.engine)
    migrate.upgrade(ws.engine, "head")
    after = migrate.current_revision(ws.engine)
    where = redact_url(ws.settings.database_url)
    if before == after:
        say(f"Database {where} is up to date (revision {after}).")
    else:
        say(f"Database {where} is at revision {after} (was {before or 'empty'}).")


@app.command("current")
def current(ctx: typer.Context) -> None:
    """Print the database's schema revision and the newest one this avasam knows.

    Example: avasam db current
    """
    from avasam_cli.core import migrate

    ws = workspace(ctx, check_schema=False)
    typer.echo(f"current: {migrate.current_revision(ws.engine) or 'empty'}")
    typer.echo(f"head: {migrate.head_revision()}")


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the schema to REVISION (default: the newest).

    Example: avasam db upgrade head
    """
    from avasam_cli.core import migrate

    ws = workspace(ctx, check_schema=False, create=True)
    migrate.upgrade(ws.engine, revision)
    say(f"Database at revision {migrate.current_revision(ws.engine) or 'empty'}.")


@app.command("downgrade")
def downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' for empty.")],
) -> None:
    """Downgrade the schema to REVISION. Data in dropped tables is lost.

    Example: avasam db downgrade base
    """
    from avasam_cli.core import migrate

    ws = workspace(ctx, check_schema=False)
    migrate.downgrade(ws.engine, revision)
    say(f"Database at revision {migrate.current_revision(ws.engine) or 'empty'}.")
