"""`avasam suppliers ...`: suppliers, their delivery rules and shipping services."""

from __future__ import annotations

from typing import Annotated

import typer

from avasam_cli.params import ServiceArg, SupplierArg
from avasam_cli.render import Format, FormatOption, RecordFormatOption, render_record, render_rows
from avasam_cli.state import say, workspace

app = typer.Typer(
    help="Suppliers, their delivery rules and shipping services.", no_args_is_help=True
)


@app.command("add")
def add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Short unique code, e.g. OAKCO.")],
    name: Annotated[str, typer.Option(help="The supplier's name.")],
    international: Annotated[
        bool, typer.Option("--international", help="Ships outside the UK.")
    ] = False,
    exclude_postcodes: Annotated[
        str, typer.Option(help="Postcode areas it does not deliver to, e.g. 'HS,ZE,KW15-17,BT'.")
    ] = "",
) -> None:
    """Add a supplier.

    Example: avasam suppliers add OAKCO --name "Oak & Co" --exclude-postcodes "HS,ZE,KW15-17,BT"
    """
    from avasam_cli.core.services import catalogue

    ws = workspace(ctx)
    row = catalogue.add_supplier(
        ws, code, name, international=international, exclude_postcodes=exclude_postcodes
    )
    say(
        f"Added supplier {row['code']} ({row['name']}); delivers "
        f"{'internationally' if row['international'] else 'in the UK only'}"
        f"{', excluding ' + row['excluded_postcodes'] if row['excluded_postcodes'] else ''}."
    )


@app.command("list")
def list_(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """List suppliers.

    Example: avasam suppliers list --format csv
    """
    from avasam_cli.core.services import catalogue

    ws = workspace(ctx)
    render_rows(
        catalogue.list_suppliers(ws),
        fmt,
        ws.timezone,
        empty_message="No suppliers yet; add one with `avasam suppliers add`.",
    )


@app.command("show")
def show(ctx: typer.Context, code: SupplierArg, fmt: RecordFormatOption = Format.table) -> None:
    """Show a supplier, its delivery rules and shipping services.

    Example: avasam suppliers show OAKCO
    """
    from avasam_cli.core.services import catalogue

    ws = workspace(ctx)
    render_record(catalogue.show_supplier(ws, code), fmt, ws.timezone)


@app.command("shipping")
def shipping(
    ctx: typer.Context,
    code: SupplierArg,
    service: ServiceArg,
    price: Annotated[str, typer.Option(help="Price excluding VAT, e.g. 2.99.")],
    vat: Annotated[str, typer.Option(help="VAT rate in percent.")] = "20",
    carrier: Annotated[str | None, typer.Option(help="Carrier name, e.g. Royal Mail.")] = None,
) -> None:
    """Set the price of one of a supplier's shipping services (adds it if new).

    Example: avasam suppliers shipping OAKCO standard --price 2.99 --vat 20 --carrier "Royal Mail"
    """
    from avasam_cli.core.services import catalogue

    ws = workspace(ctx)
    row = catalogue.set_shipping(ws, code, service, price=price, vat=vat, carrier=carrier)
    say(
        f"Supplier {row['supplier']} ships {row['service']} for {row['price']} GBP "
        f"+ {row['vat_rate']}% VAT."
    )
