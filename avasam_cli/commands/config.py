"""`avasam config`: the settings in effect, read from the environment."""

from __future__ import annotations

import typer

from avasam_cli.render import Format, FormatOption, render_rows
from avasam_cli.state import workspace


def show_config(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """List every setting: its environment variable, the value in effect, the default and
    what it means. Passwords are shown as ***. Needs no database.

    Example: avasam config --format json
    """
    from avasam_cli.core.config import describe

    ws = workspace(ctx, check_schema=False)  # its settings only: the engine is never opened
    render_rows(
        describe(ws.settings), fmt, ws.timezone, columns=["variable", "value", "default", "meaning"]
    )
