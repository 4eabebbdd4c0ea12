"""What `exports` and `imports` say and do alike about a supplier's server: the next run
after `add`/`edit`, and `trust` of an SFTP host key."""

from __future__ import annotations

import sys

import typer

from avasam_cli.state import say, workspace


def say_next(row: dict[str, object], noun: str) -> None:
    """After `add`/`edit`: when cron runs it next, or how to run it by hand.
    `noun`: "export" or "import"."""
    if row["next_run_at"]:
        say(
            f"Next scheduled run: {row['next_run_at']:%Y-%m-%d %H:%M %Z} "
            f"(schedule '{row['schedule']}'); cron runs it with `avasam {noun}s run --due`."
        )
    else:
        how = "send" if noun == "export" else "fetch"
        say(f"No schedule: {how} with `avasam {noun}s run {row['name']}`.")


def trust_host_key(ctx: typer.Context, name: str, *, yes: bool, noun: str) -> None:
    """Show the server's key fingerprint, ask (on a terminal), record exactly that key."""
    from avasam_cli.core.services.export_trust import fetch_key, record_key

    ws = workspace(ctx)
    shown, key = fetch_key(ws, name, noun=noun)
    say(f"The server presents {shown}.")
    if not yes and sys.stdin.isatty():
        typer.confirm("Trust this key?", abort=True, err=True)
    path = record_key(ws, name, key, noun=noun)
    say(f"Recorded the host key in {path}.")
