"""`enable` and `disable`: one pair of commands, written once, for every noun that can be
switched off (channels, exports)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import typer

from avasam_cli.state import say, workspace


def add_switches(
    app: typer.Typer,
    noun: str,
    argument: Any,
    service: str,
    *,
    example: str,
    enable: str,
    disable: str,
) -> None:
    """Register `enable` and `disable` on `app`.

    `argument` is the name's Annotated argument type (params.py); `service` the core module
    whose `set_enabled(ws, name, enabled)` does the work, imported only when a command runs;
    `enable` and `disable` the first line of each command's help.
    """
    for command, enabled, summary in (("enable", True, enable), ("disable", False, disable)):
        app.command(command, help=f"{summary}\n\nExample: avasam {noun}s {command} {example}")(
            _switch(noun, argument, service, enabled)
        )


def _switch(noun: str, argument: Any, service: str, enabled: bool) -> Callable[..., None]:
    def switch(ctx: typer.Context, name: str) -> None:
        set_enabled = importlib.import_module(service).set_enabled
        set_enabled(workspace(ctx), name, enabled)
        say(f"{noun.capitalize()} {name} {'enabled' if enabled else 'disabled'}.")

    # Typer reads the argument's help and completion from the annotation.
    switch.__annotations__ = {"ctx": typer.Context, "name": argument, "return": None}
    return switch
