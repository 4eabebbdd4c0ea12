"""`avasam orders ...`: add, process, show, dispatch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from avasam_cli.render import Format, FormatOption, RecordFormatOption, render_record, render_rows
from avasam_cli.state import say, workspace

app = typer.Typer(help="Orders: add, process, find, follow, dispatch, cancel.",
                  no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Customer's name.")] = None,
    address1: Annotated[str | None, typer.Option(help="First address line.")] = None,
    address2: Annotated[str | None, typer.Option(help="Second address line.")] = None,
    city: Annotated[str | None, typer.Option(help="Town or city.")] = None,
    county: Annotated[str | None, typer.Option(help="County.")] = None,
    postcode: Annotated[str | None, typer.Option(help="Postcode, e.g. SW1A 1AA.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO country code [default: GB].")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    item: Annotated[list[str] | None, typer.Option(help="SKU or SKU:QTY; repeat for more.")]
    = None,
    shipping_service: Annotated[
        str | None, typer.Option(help="standard, standard_tracked or expedited.")
    ] = None,
    reference: Annotated[str | None, typer.Option(help="Your own unique reference.")] = None,
    note: Annotated[str | None, typer.Option(help="A note kept with the order.")] = None,
    from_file: Annotated[
        Path | None, typer.Option(help="A JSON object with the same fields (items as a list).")
    ] = None,
) -> None:
    """Key in an order by hand; it is invoiced, paid and passed to the supplier at once.

    Example: avasam orders add --name "Ann Lee" --address1 "1 High St" --city London
    --postcode "SW1A 1AA" --item OAK-TABLE-01:1 --shipping-service standard --reference A-100
    """
    from avasam_cli.core.services import manual_orders

    values: dict[str, Any] = {}
    if from_file is not None:
        values.update(manual_orders.read_order_file(from_file))
    options = {
        "name": name, "address1": address1, "address2": address2, "city": city,
        "county": county, "postcode": postcode, "country": country, "phone": phone,
        "email": email, "items": item, "shipping_service": shipping_service,
        "reference": reference, "note": note,
    }
    values.update({key: value for key, value in options.items() if value})
    manual = manual_orders.build_manual_order(values)
    ws = workspace(ctx)
    outcomes = manual_orders.add_manual_order(ws, manual)
    for outcome in outcomes:
        label = outcome.number or "QUEUE"
        say(f"Order {label} (id {outcome.order_id}, total {outcome.total} GBP): {outcome.detail}.")


@app.command("process")
def process(ctx: typer.Context, fmt: RecordFormatOption = Format.table) -> None:
    """Invoice and pay every queued order from the balance and pass it to its supplier.

    Held orders are checked again and go ahead once their cause is fixed. An order the
    balance cannot pay stays in the queue, unpaid, and is tried again next run.

    Example: avasam orders process
    """
    from avasam_cli.core.services.processing import process_pending

    ws = workspace(ctx)
    rows = (
        {
            "id": o.order_id,
            "number": o.number or "QUEUE",
            "reference": o.reference,
            "status": o.status,
            "payment": o.payment_status,
            "total": o.total,
            "result": o.detail,
        }
        for o in process_pending(ws)
    )
    count = render_rows(rows, fmt, ws.timezone, empty_message="No orders to process.")
    if count:
        say(f"Processed {count} order(s).")


@app.command("show")
def show(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="Order number, id or reference.")],
    fmt: RecordFormatOption = Format.table,
) -> None:
    """Show everything about one order.

    Example: avasam orders show AV0000123 --format json
    """
    from avasam_cli.core.services.order_views import order_detail

    ws = workspace(ctx)
    render_record(order_detail(ws, order), fmt, ws.timezone)


@app.command("dispatch")
def dispatch(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="Order number, id or reference.")],
    tracking: Annotated[str, typer.Option(help="Tracking number.")],
    carrier: Annotated[str | None, typer.Option(help="Carrier, e.g. Royal Mail.")] = None,
) -> None:
    """Mark an open order dispatched with its tracking number.

    Example: avasam orders dispatch AV0000123 --tracking RM123456789GB --carrier "Royal Mail"
    """
    from avasam_cli.core.services.dispatch import dispatch_order

    ws = workspace(ctx)
    outcome = dispatch_order(ws, order, tracking, carrier)
    if outcome == "unchanged":
        say(f"Order {order} was already dispatched with tracking {tracking}.")
    else:
        say(f"Order {order} dispatched with tracking {tracking}.")


@app.command("audit")
def audit(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="Order number, id or reference.")],
    fmt: FormatOption = Format.table,
) -> None:
    """Show an order's history, oldest first: when, who, what, from -> to, details.

    Example: avasam orders audit AV0000123
    """
    from avasam_cli.core.services.order_views import order_audit

    ws = workspace(ctx)
    render_rows(order_audit(ws, order), fmt, ws.timezone)
