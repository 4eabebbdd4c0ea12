"""The typed context object every command finds in `ctx.obj`.

Nothing heavy happens here until a command asks for its workspace: `avasam --help`
never imports SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from avasam_cli.core.workspace import Workspace


@dataclass
class CliState:
    db: str | None
    _workspace: Workspace | None = field(default=None, repr=False)

    def workspace(self, ctx: Any, *, check_schema: bool = True) -> Workspace:
        # ctx: the root click context (Typer vendors click, and its class is private).
        if self._workspace is None:
            from avasam_cli.core.config import Settings
            from avasam_cli.core.workspace import Workspace

            self._workspace = Workspace(Settings.resolve(self.db), check_schema=check_schema)
            ctx.call_on_close(self._workspace.close)
        return self._workspace


def workspace(ctx: typer.Context, *, check_schema: bool = True) -> Workspace:
    state = ctx.find_object(CliState)
    if state is None:  # a sub-app invoked on its own (tests)
        state = CliState(db=None)
        ctx.obj = state
    return state.workspace(ctx.find_root(), check_schema=check_schema)


def say(message: str) -> None:
    """A message for the person (stderr), so stdout stays clean for pipes."""
    typer.echo(message, err=True)
