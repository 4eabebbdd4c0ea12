"""`avasam products ...`: the suppliers' catalogues."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avasam_cli.params import LimitOption, SkuArg
from avasam_cli.progress import progress
from avasam_cli.render import Format, FormatOption, RecordFormatOption, render_record, render_rows
from avasam_cli.state import say, workspace

app = typer.Typer(
    help="Catalogue products: import feeds, search, check delivery rules.", no_args_is_help=True
)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with ProductId, StockQuantity, PriceExclVAT, RRPExclVAT, VAT%Rate, SKU, "
            "Title; or a partial feed: ProductId or SKU and some of the values."
        ),
    ],
    supplier: Annotated[str, typer.Option(help="Supplier code the feed belongs to.")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the good rows, report the bad ones.")
    ] = False,
) -> None:
    """Import a supplier's stock and price feed; re-importing updates stock and prices.

    A full feed adds and updates products. A partial feed (ProductId or SKU, with only
    StockQuantity, or only prices) updates those values of the supplier's products.
    Every change is kept in the product's history (`avasam products history SKU`).

    Example: avasam products import feed.csv --supplier OAKCO
    """
    from avasam_cli.core.services.product_import import import_products

    ws = workspace(ctx)
    with progress(ctx, f"rows read from {file.name}") as shown:
        report = import_products(ws, file, supplier, skip_invalid=skip_invalid, progress=shown)
    for problem in report.problems:
        say(f"  skipped {problem}")
    say(
        f"Imported {report.created} new and updated {report.updated} product(s)"
        f"{f'; {report.unchanged} unchanged' if report.unchanged else ''}"
        f"{f'; skipped {len(report.problems)} bad row(s)' if report.problems else ''}."
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[
        str | None, typer.Option(help="Words of the title, SKU or product id.")
    ] = None,
    supplier: Annotated[str | None, typer.Option(help="Only this supplier's products.")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List products.

    Example: avasam products list --search "oak table" --format csv
    """
    from avasam_cli.core.services import catalogue

    ws = workspace(ctx)
    render_rows(
        catalogue.list_products(ws, search=search, supplier=supplier),
        fmt,
        ws.timezone,
        empty_message="No products match.",
    )


@app.command("show")
def show(ctx: typer.Context, sku: SkuArg, fmt: RecordFormatOption = Format.table) -> None:
    """Show a product with its supplier's delivery restrictions.

    Example: avasam products show OAK-TABLE-01
    """
    from avasam_cli.core.services import catalogue

    ws = workspace(ctx)
    render_record(catalogue.show_product(ws, sku), fmt, ws.timezone)


@app.command("history")
def history(
    ctx: typer.Context, sku: SkuArg, limit: LimitOption = 20, fmt: FormatOption = Format.table
) -> None:
    """A product's stock and price changes, newest first, each with its source (the feed
    and file, or the `products import` file).

    Example: avasam products history OAK-TABLE-01
    """
    from avasam_cli.core.services import catalogue

    ws = workspace(ctx)
    render_rows(
        catalogue.product_history(ws, sku, limit or None),
        fmt,
        ws.timezone,
        empty_message="No changes recorded.",
    )


@app.command("link")
def link(
    ctx: typer.Context,
    channel_sku: Annotated[str, typer.Argument(help="The SKU the channel sends.")],
    sku: Annotated[str, typer.Argument(help="The catalogue SKU it means.")],
    channel: Annotated[str | None, typer.Option(help="Only for this channel.")] = None,
) -> None:
    """Link a channel's SKU to a catalogue product; waiting orders match at the next
    `avasam orders match`.

    Example: avasam products link SHOP-OAK-TBL OAK-TABLE-01 --channel shop
    """
    from avasam_cli.core.services.sku_links import link as link_sku

    row = link_sku(workspace(ctx), channel_sku, sku, channel)
    say(
        f"Linked {row['channel_sku']} to {row['sku']} ({row['channel']} channels)."
        if row["channel"] == "all"
        else f"Linked {row['channel_sku']} to {row['sku']} for channel {row['channel']}."
    )


@app.command("unlink")
def unlink(
    ctx: typer.Context,
    channel_sku: Annotated[str, typer.Argument(help="The channel's SKU.")],
    channel: Annotated[str | None, typer.Option(help="The link of this channel.")] = None,
) -> None:
    """Remove a SKU link (orders already matched keep their products).

    Example: avasam products unlink SHOP-OAK-TBL --channel shop
    """
    from avasam_cli.core.services.sku_links import unlink as unlink_sku

    unlink_sku(workspace(ctx), channel_sku, channel)
    say(f"Unlinked {channel_sku}.")


@app.command("links")
def links(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """List the SKU links.

    Example: avasam products links --format csv
    """
    from avasam_cli.core.services.sku_links import list_links

    ws = workspace(ctx)
    render_rows(list_links(ws), fmt, ws.timezone, empty_message="No SKU links.")
