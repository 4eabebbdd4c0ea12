"""`avasam channels ...`: sales channels and pulling their orders."""

from __future__ import annotations

from contextlib import nullcontext
from enum import StrEnum
from typing import Annotated

import typer

from avasam_cli.failures import Failures
from avasam_cli.params import (
    ChannelArg,
    ChannelTypeOption,
    LimitOption,
    ServiceArg,
    SinceOption,
    complete_names,
)
from avasam_cli.progress import progress
from avasam_cli.render import Format, FormatOption, RecordFormatOption, render_record, render_rows
from avasam_cli.state import job, quiet, say, workspace
from avasam_cli.switches import add_switches

app = typer.Typer(
    help="Sales channels (file drops, Shopify, WooCommerce) and pulls.", no_args_is_help=True
)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name, e.g. shop.")],
    type_: ChannelTypeOption,
    path: Annotated[
        str | None, typer.Option(help="file: the folder orders are dropped in.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="shopify/woocommerce: the shop's address.")
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(help="shopify: NAME of the environment variable holding the access token."),
    ] = None,
    token_file: Annotated[
        str | None, typer.Option(help="shopify: a file (mode 600) holding the access token.")
    ] = None,
    key_env: Annotated[
        str | None, typer.Option(help="woocommerce: NAME of the variable holding the consumer key.")
    ] = None,
    secret_env: Annotated[
        str | None,
        typer.Option(help="woocommerce: NAME of the variable holding the consumer secret."),
    ] = None,
    allow_loopback_http: Annotated[
        bool,
        typer.Option(
            "--allow-loopback-http",
            help="Accept a plain http:// URL to this machine (127.0.0.1), for testing.",
        ),
    ] = False,
    notify_customer: Annotated[
        bool,
        typer.Option(
            help="shopify/woocommerce: the buyer is told of dispatches and cancels (Shopify "
            "notifies; WooCommerce gets a customer note)."
        ),
    ] = True,
    confirm_dir: Annotated[
        str | None,
        typer.Option(
            help="file: where `channels push` writes confirmations [default: PATH/confirmations]."
        ),
    ] = None,
) -> None:
    """Add a sales channel. Secrets are named, never given: avasam stores only the names.

    Example: avasam channels add shop --type shopify --url https://oak.myshopify.com
    --token-env SHOPIFY_TOKEN
    """
    from avasam_cli.core.services.channels import add_channel

    ws = workspace(ctx)
    row = add_channel(
        ws,
        name,
        type_,
        {
            "path": path,
            "url": url,
            "token_env": token_env,
            "token_file": token_file,
            "key_env": key_env,
            "secret_env": secret_env,
            "allow_loopback_http": "yes" if allow_loopback_http else None,
            "notify_customer": "yes" if notify_customer else "no",
            "confirm_dir": confirm_dir,
        },
    )
    say(
        f"Added {row['type']} channel {row['name']} ({row['source']}); "
        f"pull it with `avasam channels pull {row['name']}`."
    )


@app.command("list")
def list_(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """List channels.

    Example: avasam channels list
    """
    from avasam_cli.core.services.channels import list_channels

    ws = workspace(ctx)
    render_rows(list_channels(ws), fmt, ws.timezone)


@app.command("show")
def show(ctx: typer.Context, name: ChannelArg, fmt: RecordFormatOption = Format.table) -> None:
    """Show a channel, its cursor and its shipping method map.

    Example: avasam channels show shop
    """
    from avasam_cli.core.services.channels import show_channel

    ws = workspace(ctx)
    render_record(show_channel(ws, name), fmt, ws.timezone)


@app.command("errors")
def errors(
    ctx: typer.Context,
    name: ChannelArg,
    limit: LimitOption = 50,
    fmt: FormatOption = Format.table,
) -> None:
    """What pulls of a channel could not take in, newest first: rejected files and API
    orders refused with their reasons.

    Example: avasam channels errors shop --limit 10
    """
    from avasam_cli.core.services.channels import channel_problems

    ws = workspace(ctx)
    render_rows(
        channel_problems(ws, name, limit or None),
        fmt,
        ws.timezone,
        empty_message=f"No problems recorded for channel {name}.",
    )


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: ChannelArg,
    force: Annotated[bool, typer.Option("--force", help="Remove even with orders (kept).")] = False,
) -> None:
    """Remove a channel. One that has orders needs --force; its orders are kept.

    Example: avasam channels remove old-shop --force
    """
    from avasam_cli.core.services.channels import remove_channel

    ws = workspace(ctx)
    kept = remove_channel(ws, name, force=force)
    say(f"Removed channel {name}" + (f"; its {kept} order(s) are kept." if kept else "."))


add_switches(
    app,
    "channel",
    ChannelArg,
    "avasam_cli.core.services.channels",
    example="shop",
    enable="Pull this channel again with `channels pull --all`.",
    disable="Stop pulling this channel (its orders stay).",
)


@app.command("map-shipping")
def map_shipping(
    ctx: typer.Context,
    name: ChannelArg,
    method: Annotated[str, typer.Argument(help="The channel's shipping method, as it sends it.")],
    service: ServiceArg,
) -> None:
    """Map a channel's shipping method to a shipping service.

    Orders held for an unmapped method go ahead at the next `avasam orders process`.

    Example: avasam channels map-shipping shop "Royal Mail 2nd Class" standard
    """
    from avasam_cli.core.services.channels import map_shipping as map_method

    map_method(workspace(ctx), name, method, service)
    say(f"Channel {name}: {method!r} ships as {service}.")


@app.command("pull")
def pull(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Channels to pull.", autocompletion=complete_names("channel")),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every enabled channel.")] = False,
    since: SinceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Pull new and changed orders from channels; safe to run again at any time.

    A failing channel is reported with one Error line and the others are still pulled
    (exit 1 if any failed).

    Example: avasam channels pull --all
    """
    from avasam_cli.core.days import parse_since
    from avasam_cli.core.services.due_work import idle_pull

    ws = workspace(ctx)
    start = parse_since(since, ws.timezone, ws.now()) if since else None  # one error, once
    with job(ctx, "pull") as current:
        summaries = []
        idle = idle_pull(ws, [] if all_ else names or []) if start is None else None
        if idle is not None:  # empty drops only: done without loading SQLAlchemy
            from avasam_cli.core.services.pull_summary import PullSummary

            summaries = [PullSummary(name) for name in idle]
        else:
            from avasam_cli.core.services.pull import channels_to_pull, pull_channel

            for name in channels_to_pull(ws, names or [], all_):
                with progress(ctx, f"orders read from {name}") as shown:
                    summaries.append(pull_channel(ws, name, start, shown))
        rows = [
            {
                "channel": s.channel,
                "new": s.new,
                "updated": s.updated,
                "skipped": s.skipped,
                "matched": s.matched,
                "waiting_for_match": s.waiting,
                "held": s.held,
                "result": "failed" if s.error else "ok",
            }
            for s in summaries
        ]
        current.summary = {
            key: sum(int(row[key]) for row in rows) for key in ("new", "updated", "skipped", "held")
        }
        if not quiet(ctx):
            render_rows(rows, fmt, ws.timezone, empty_message="No enabled channels to pull.")
        failures = Failures()
        for summary in summaries:
            for problem in summary.problems:
                failures.report(f"{summary.channel}: {problem}")
            if summary.error:
                failures.report(f"{summary.channel}: {summary.error}")
        failures.exit_if_any()


@app.command("push")
def push(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Channels to tell.", autocompletion=complete_names("channel")),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every enabled channel with updates due (the default).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Tell the sales channels of dispatches (tracking) and cancels, each exactly once.

    Updates are sent oldest first, one channel after another: a channel that fails keeps
    its updates pending and the others are still told (exit 1 if any failed).

    Example: avasam channels push --all
    """
    from avasam_cli.core.jobs import Job
    from avasam_cli.core.services.due_work import anything_to_push

    ws = workspace(ctx)
    # A dry run sends nothing: it neither takes the job's lock nor leaves a run behind.
    with nullcontext(Job("push")) if dry_run else job(ctx, "push") as current:
        results = []
        if names or anything_to_push(ws):  # else done without loading SQLAlchemy
            from avasam_cli.core.services.push import push as push_updates

            results = list(push_updates(ws, names or [], dry_run=dry_run))
        rows = [{"channel": r.channel, **line} for r in results for line in r.lines]
        current.summary = {
            "sent": sum(r.sent for r in results),
            "retrying": sum(r.retrying for r in results),
            "failed": sum(r.failed for r in results),
        }
        if not quiet(ctx) and (rows or not any(r.error for r in results)):
            render_rows(rows, fmt, ws.timezone, empty_message="No channel updates due.")
        failures = Failures()
        for result in results:
            if result.error:
                failures.report(f"{result.channel}: {result.error}")
            for line in result.lines:
                if line["result"] in ("failed", "will retry"):
                    failures.report(
                        f"{result.channel}: order {line['order']} ({line['update']}): "
                        f"{line['result']}: {line['detail']}"
                    )
        failures.exit_if_any()


class UpdateState(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


@app.command("updates")
def updates(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="Only this channel.", autocompletion=complete_names("channel")),
    ] = None,
    status: Annotated[UpdateState | None, typer.Option(help="Only updates in this state.")] = None,
    limit: LimitOption = 50,
    fmt: FormatOption = Format.table,
) -> None:
    """List channel updates (dispatches and cancels to tell the channels), newest first.

    Example: avasam channels updates shop --status failed
    """
    from avasam_cli.core.services.push import list_updates

    ws = workspace(ctx)
    rows = list_updates(ws, name, status.value if status else None, limit or None)
    render_rows(rows, fmt, ws.timezone, empty_message="No channel updates.")


@app.command("retry")
def retry(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None,
        typer.Argument(help="Update IDs, as `channels updates` shows them.", min=1, max=2**31 - 1),
    ] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Every failed update.")] = False,
) -> None:
    """Queue failed channel updates again; the next `channels push` sends them.

    Example: avasam channels retry --all-failed
    """
    from avasam_cli.core.services.push import retry_updates

    ws = workspace(ctx)
    queued = retry_updates(ws, ids or [], all_failed=all_failed)
    say(f"Queued {queued} channel update(s) again; `avasam channels push` sends them.")
