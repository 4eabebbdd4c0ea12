"""`avasam account ...`: the seller's balance and ledger."""

from __future__ import annotations

from typing import Annotated

import typer

from avasam_cli.params import LimitOption
from avasam_cli.render import Format, FormatOption, render_rows
from avasam_cli.state import say, workspace

app = typer.Typer(help="The seller's balance, which pays for orders.", no_args_is_help=True)


@app.command("topup")
def topup(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="Pounds and pence, e.g. 100 or 49.99.")],
    reference: Annotated[str | None, typer.Option(help="Your reference for the payment.")] = None,
) -> None:
    """Add money to the balance.

    Example: avasam account topup 250.00 --reference "bank transfer 28 Nov"
    """
    from avasam_cli.core.services import account

    ws = workspace(ctx)
    row = account.topup(ws, amount, reference)
    say(f"Topped up {row['amount']} GBP; balance {row['balance_after']} GBP.")


@app.command("balance")
def balance(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """Print the balance.

    Example: avasam account balance --format json
    """
    from avasam_cli.core.services import account

    ws = workspace(ctx)
    render_rows([account.balance(ws)], fmt, ws.timezone)


@app.command("ledger")
def ledger(
    ctx: typer.Context,
    limit: LimitOption = 50,
    fmt: FormatOption = Format.table,
) -> None:
    """List the ledger (top-ups, payments, refunds), oldest first.

    Example: avasam account ledger --limit 0 --format csv
    """
    from avasam_cli.core.services import account

    ws = workspace(ctx)
    render_rows(
        account.ledger(ws, limit or None),
        fmt,
        ws.timezone,
        empty_message="The ledger is empty; top up with `avasam account topup`.",
    )
