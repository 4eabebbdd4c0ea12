"""`avasam tickets ...`: asking the supplier about an order."""

from __future__ import annotations

from typing import Annotated

import click
import typer

from avasam_cli.core.statuses import SELLER_CANCEL_REASONS, TicketKind, TicketStatus
from avasam_cli.params import OrderArg, TicketArg, TicketKindOption
from avasam_cli.render import Format, FormatOption, RecordFormatOption, render_record, render_rows
from avasam_cli.state import say, workspace

app = typer.Typer(
    help="Tickets to the supplier: cancel requests, queries, returns.", no_args_is_help=True
)


@app.command("raise")
def raise_(
    ctx: typer.Context,
    order: OrderArg,
    message: Annotated[str, typer.Option(help="What you ask the supplier.")],
    kind: TicketKindOption = TicketKind.CANCEL_REQUEST.value,
) -> None:
    """Raise a ticket to the supplier about an order.

    Example: avasam tickets raise AV0000123 --message "Customer cancelled, please stop it"
    """
    from avasam_cli.core.services.tickets import raise_ticket

    ws = workspace(ctx)
    row = raise_ticket(ws, order, message, kind)
    say(f"Raised ticket {row['id']} ({row['kind']}) about order {row['order']}.")
    typer.echo(row["id"])


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[TicketStatus | None, typer.Option(help="Open or closed tickets.")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List tickets.

    Example: avasam tickets list --status open
    """
    from avasam_cli.core.services.tickets import list_tickets

    ws = workspace(ctx)
    render_rows(
        list_tickets(ws, status.value if status else None),
        fmt,
        ws.timezone,
        empty_message="No tickets.",
    )


@app.command("show")
def show(ctx: typer.Context, ticket: TicketArg, fmt: RecordFormatOption = Format.table) -> None:
    """Show a ticket and its messages.

    Example: avasam tickets show 3
    """
    from avasam_cli.core.services.tickets import show_ticket

    ws = workspace(ctx)
    render_record(show_ticket(ws, ticket), fmt, ws.timezone)


@app.command("reply")
def reply(
    ctx: typer.Context,
    ticket: TicketArg,
    message: Annotated[str, typer.Option(help="The reply.")],
) -> None:
    """Add a message to an open ticket.

    Example: avasam tickets reply 3 --message "Supplier says it left the warehouse"
    """
    from avasam_cli.core.services import tickets

    ws = workspace(ctx)
    row = tickets.reply(ws, ticket, message)
    say(f"Replied on ticket {row['id']} (order {row['order']}).")


@app.command("close")
def close(
    ctx: typer.Context,
    ticket: TicketArg,
    cancel_order: Annotated[
        bool,
        typer.Option(
            "--cancel-order", help="The supplier agreed to cancel: cancel and refund the order."
        ),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option(
            help="Cancel reason, with --cancel-order.",
            click_type=click.Choice(SELLER_CANCEL_REASONS),
        ),
    ] = None,
) -> None:
    """Close a ticket; with --cancel-order, cancel and refund the order too.

    Example: avasam tickets close 3 --cancel-order --reason customer_changed_mind
    """
    from avasam_cli.core.services import tickets

    ws = workspace(ctx)
    row = tickets.close(ws, ticket, cancel_order=cancel_order, reason=reason)
    done = f"; order {row['order']} is {row['order_status']}" if cancel_order else ""
    say(f"Closed ticket {row['id']}{done}.")
