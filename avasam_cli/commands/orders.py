"""`avasam orders ...`: add, edit, process, show, dispatch."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from avasam_cli.core.statuses import Payment, Shipping, Status
from avasam_cli.failures import Failures
from avasam_cli.params import (
    MAX_COUNT,
    CancelReasonOption,
    LimitOption,
    OrderArg,
    ServiceOption,
    SinceOption,
    complete_names,
    shown,
)
from avasam_cli.progress import progress
from avasam_cli.render import (
    Format,
    FormatOption,
    RecordFormatOption,
    render_changed,
    render_record,
    render_rows,
)
from avasam_cli.state import job, on_terminal, quiet, say, workspace

if TYPE_CHECKING:
    from avasam_cli.core.services.processing import Outcome
    from avasam_cli.core.workspace import Workspace

app = typer.Typer(
    help="Orders: add, edit, process, find, follow, dispatch, cancel.", no_args_is_help=True
)


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
    item: Annotated[list[str] | None, typer.Option(help="SKU or SKU:QTY; repeat for more.")] = None,
    shipping_service: ServiceOption = None,
    reference: Annotated[str | None, typer.Option(help="Your own unique reference.")] = None,
    note: Annotated[str | None, typer.Option(help="A note kept with the order.")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            help="A JSON object with the same fields (items as a list).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    fmt: FormatOption = Format.table,
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
        "name": name,
        "address1": address1,
        "address2": address2,
        "city": city,
        "county": county,
        "postcode": postcode,
        "country": country,
        "phone": phone,
        "email": email,
        "items": item,
        "shipping_service": shipping_service,
        "reference": reference,
        "note": note,
    }
    values.update({key: value for key, value in options.items() if value})
    manual = manual_orders.build_manual_order(values)
    ws = workspace(ctx)
    outcomes = manual_orders.add_manual_order(ws, manual)
    for outcome in outcomes:
        label = outcome.number or "QUEUE"
        say(f"Order {label} (id {outcome.order_id}, total {outcome.total} GBP): {outcome.detail}.")
    _print_changed(ws, [o.order_id for o in outcomes], fmt)


def _print_changed(ws: Workspace, order_ids: list[int], fmt: Format) -> None:
    from avasam_cli.core.services.order_views import SUMMARY_COLUMNS, order_summaries

    rows = order_summaries(ws, order_ids)
    if fmt == Format.table:  # the columns a person reads; scripts get every field
        rows = [{k: row[k] for k in SUMMARY_COLUMNS if k != "currency"} for row in rows]
    render_changed(rows, fmt, ws.timezone)


@app.command("edit")
def edit(
    ctx: typer.Context,
    order: OrderArg,
    name: Annotated[str | None, typer.Option(help="Customer's name.")] = None,
    address1: Annotated[str | None, typer.Option(help="First address line.")] = None,
    address2: Annotated[
        str | None, typer.Option(help="Second address line ('' clears it).")
    ] = None,
    city: Annotated[str | None, typer.Option(help="Town or city.")] = None,
    county: Annotated[str | None, typer.Option(help="County ('' clears it).")] = None,
    postcode: Annotated[str | None, typer.Option(help="Postcode, e.g. SW1A 1AA.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO country code, e.g. GB.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number ('' clears it).")] = None,
    email: Annotated[str | None, typer.Option(help="Email address ('' clears it).")] = None,
    shipping_service: ServiceOption = None,
    reason: Annotated[
        str | None, typer.Option(help="Why, in your words (kept in the audit trail).")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Correct the delivery details of an order the supplier does not have yet (matching,
    unmatched, held or queue). Each changed field is audited (old and new value); a held or
    queued order is checked again at once, so a corrected postcode releases its hold.
    Once the supplier has the order, ask them with `avasam tickets raise`.

    Example: avasam orders edit A-100 --postcode "IV1 1AA" --reason "customer's correction"
    """
    from avasam_cli.core.services.order_edit import edit_order

    values = {
        "name": name,
        "address1": address1,
        "address2": address2,
        "city": city,
        "county": county,
        "postcode": postcode,
        "country": country,
        "phone": phone,
        "email": email,
        "shipping_service": shipping_service,
    }
    ws = workspace(ctx)
    result = edit_order(ws, order, values, reason)
    if not result.changes:
        say(f"Order {result.label}: nothing to change (the values given are its own).")
    else:
        changed = "; ".join(
            f"{key} {shown(old or '')} -> {shown(new or '')}" for key, old, new in result.changes
        )
        after = f"; {result.rechecked}" if result.rechecked else ""
        say(f"Order {result.label} edited: {changed}{after}.")
    _print_changed(ws, [result.order_id], fmt)


@app.command("process")
def process(ctx: typer.Context, fmt: RecordFormatOption = Format.table) -> None:
    """Invoice and pay every queued order from the balance and pass it to its supplier.

    Held orders are checked again and go ahead once their cause is fixed. An order the
    balance cannot pay stays in the queue, unpaid, and is tried again next run.

    Example: avasam orders process
    """
    ws = workspace(ctx)
    with job(ctx, "process") as current:
        rows = [
            {
                "id": o.order_id,
                "number": o.number or "QUEUE",
                "reference": o.reference,
                "status": o.status,
                "payment": o.payment_status,
                "total": o.total,
                "result": o.detail,
            }
            for o in _processed(ctx, ws)
        ]
        current.summary = {
            "paid": sum(r["payment"] == "paid" for r in rows),
            "held": sum(r["status"] == "held" for r in rows),
            "unpaid": sum(r["status"] == "queue" for r in rows),
        }
        if not quiet(ctx):
            count = render_rows(rows, fmt, ws.timezone, empty_message="No orders to process.")
            if count:
                say(f"Processed {count} order(s).")


def _processed(ctx: typer.Context, ws: Workspace) -> list[Outcome]:
    from avasam_cli.core.services.due_work import anything_to_process

    if not anything_to_process(ws):  # done without loading SQLAlchemy (cron runs this often)
        return []
    from avasam_cli.core.services.processing import process_pending

    with progress(ctx, "orders processed") as shown:
        return list(process_pending(ws, shown))


@app.command("show")
def show(
    ctx: typer.Context,
    order: OrderArg,
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
    order: OrderArg,
    tracking: Annotated[str, typer.Option(help="Tracking number.")],
    carrier: Annotated[str | None, typer.Option(help="Carrier, e.g. Royal Mail.")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Mark an open order dispatched with its tracking number.

    Example: avasam orders dispatch AV0000123 --tracking RM123456789GB --carrier "Royal Mail"
    """
    from avasam_cli.core.services.dispatch import dispatch_order

    ws = workspace(ctx)
    order_id, outcome = dispatch_order(ws, order, tracking, carrier)
    if outcome == "unchanged":
        say(f"Order {order} was already dispatched with tracking {tracking}.")
    else:
        say(f"Order {order} dispatched with tracking {tracking}.")
    _print_changed(ws, [order_id], fmt)


@app.command("audit")
def audit(
    ctx: typer.Context,
    order: OrderArg,
    fmt: FormatOption = Format.table,
) -> None:
    """Show an order's history, oldest first: when, who, what, from -> to, details.

    Example: avasam orders audit AV0000123
    """
    from avasam_cli.core.services.order_views import order_audit

    ws = workspace(ctx)
    render_rows(order_audit(ws, order), fmt, ws.timezone)


class SortChoice(StrEnum):
    placed = "placed"
    newest = "-placed"
    total = "total"
    largest = "-total"
    number = "number"


LIST_TABLE = [
    "number",
    "channel_reference",
    "placed_at",
    "customer",
    "item_count",
    "total",
    "status",
    "payment_status",
    "shipping_status",
    "notes",
]


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[
        str | None,
        typer.Option(
            help="Order number, reference, an item's SKU or supplier product id; else title words."
        ),
    ] = None,
    status: Annotated[
        list[Status] | None,
        typer.Option(
            help="Repeat for several. Orders still matching are shown only when asked for."
        ),
    ] = None,
    payment: Annotated[Payment | None, typer.Option(help="Payment status.")] = None,
    shipping: Annotated[Shipping | None, typer.Option(help="Shipping status.")] = None,
    channel: Annotated[str | None, typer.Option(help="Channel name, e.g. manual.")] = None,
    supplier: Annotated[str | None, typer.Option(help="Supplier code.")] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Placed on this day: 2026-11-28, today, yesterday.")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Placed on or after this day.")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Placed on or before this day.")] = None,
    since: SinceOption = None,
    sort: Annotated[
        SortChoice, typer.Option(help="Sort order; '-' for descending.")
    ] = SortChoice.newest,
    limit: LimitOption = 50,
    offset: Annotated[int, typer.Option(min=0, max=MAX_COUNT, help="Skip the first N orders.")] = 0,
    all_: Annotated[
        bool, typer.Option("--all", help="Every matching order (as --limit 0).")
    ] = False,
    count: Annotated[bool, typer.Option("--count", help="Print only how many match.")] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Find orders. Days are in the business timezone (AVASAM_TIMEZONE).

    Example: avasam orders list --status open --payment paid --from 2026-11-01 --to 2026-11-30
    """
    from avasam_cli.core.days import day_window
    from avasam_cli.core.services.order_search import OrderQuery, count_orders, list_orders

    ws = workspace(ctx)
    start, end = day_window(ws.timezone, ws.now(), on=date, since=since, from_=from_, to=to)
    query = OrderQuery(
        search=search,
        statuses=[s.value for s in status or []],
        payment=payment.value if payment else None,
        shipping=shipping.value if shipping else None,
        channel=channel,
        supplier=supplier,
        placed_from=start,
        placed_to=end,
        sort=sort.value,
        limit=None if all_ or limit == 0 else limit,
        offset=offset,
    )
    if count:
        typer.echo(count_orders(ws, query))
        return
    rows = list_orders(ws, query)
    if fmt == Format.table:
        rows = ({**row, "notes": "*" if row["has_notes"] else ""} for row in rows)
    shown = render_rows(
        rows,
        fmt,
        ws.timezone,
        columns=LIST_TABLE if fmt == Format.table else None,
        empty_message="No orders match.",
    )
    if query.limit is not None and shown == query.limit and on_terminal(ctx):
        total = count_orders(ws, query)
        if total > offset + shown:
            say(f"Showing {shown:,} of {total:,} orders; --all for every one.")


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    orders: Annotated[
        list[str],
        typer.Argument(
            help="Order numbers, ids or references.", autocompletion=complete_names("order")
        ),
    ],
    reason: CancelReasonOption,
    note: Annotated[str | None, typer.Option(help="Why, in your words.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Cancel orders the supplier has not received yet; paid ones are refunded.

    Each order is reported; one failure does not stop the others (exit 1 if any failed).

    Example: avasam orders cancel AV0000123 AV0000124 --reason customer_changed_mind --yes
    """
    from avasam_cli.core.services.cancellation import cancel_orders, seller_reason

    seller_reason(reason, note)  # a bad reason fails before anything is asked
    if not yes and _interactive():
        typer.confirm(f"Cancel {len(orders)} order(s) ({reason})?", abort=True, err=True)
    ws = workspace(ctx)
    failures, cancelled = Failures(), []
    for result in cancel_orders(ws, orders, reason, note):
        if result.ok and result.order_id is not None:
            say(f"Cancelled: {result.message}.")
            cancelled.append(result.order_id)
        else:
            failures.report(f"{result.ident}: {result.message}")
    _print_changed(ws, cancelled, fmt)
    failures.exit_if_any()


@app.command("note")
def note(
    ctx: typer.Context,
    order: OrderArg,
    text: Annotated[str, typer.Argument(help="The note.")],
) -> None:
    """Add a note to an order (shown in `orders show`, the audit and the list).

    Example: avasam orders note AV0000123 "Customer asked for a morning delivery"
    """
    from avasam_cli.core.services.notes import add_note

    ws = workspace(ctx)
    say(f"Note added to order {add_note(ws, order, text)}.")


def _interactive() -> bool:
    """A person at a terminal is asked to confirm; scripts and cron are not."""
    return sys.stdin.isatty()


@app.command("match")
def match(
    ctx: typer.Context,
    include_unmatched: Annotated[
        bool,
        typer.Option(
            "--include-unmatched", help="Also retry orders whose matching window has passed."
        ),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Retry linking waiting orders to products. After the matching window
    (AVASAM_MATCH_WINDOW, default 4d from download) an order becomes `unmatched`.

    Example: avasam orders match --include-unmatched
    """
    from avasam_cli.core.services.due_work import anything_to_match

    ws = workspace(ctx)
    with job(ctx, "match") as current:
        counts = {"matched": 0, "held": 0, "waiting": 0, "unmatched": 0}
        if anything_to_match(ws, include_unmatched=include_unmatched):
            from avasam_cli.core.services.matching import match_waiting

            with progress(ctx, "orders matched") as shown:
                summary = match_waiting(ws, include_unmatched=include_unmatched, progress=shown)
            counts = {
                "matched": summary.matched,
                "held": summary.held,
                "waiting": summary.waiting,
                "unmatched": summary.unmatched,
            }
        # else nothing waits: done without loading SQLAlchemy (cron runs this for ever)
        current.summary = counts
        if not quiet(ctx):
            render_rows(
                [
                    {
                        "matched": counts["matched"],
                        "held": counts["held"],
                        "still_waiting": counts["waiting"],
                        "now_unmatched": counts["unmatched"],
                    }
                ],
                fmt,
                ws.timezone,
            )
