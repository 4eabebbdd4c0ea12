"""Arguments and options that several commands share: one help text, one set of choices and
one shell completion each, so `avasam exports show NAME` and `avasam exports run NAME` can
never drift apart.

Completing names opens the workspace only when the shell asks; a missing or broken database
completes nothing rather than printing an error into the shell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated

import click
import typer

from avasam_cli.core.statuses import (
    SELLER_CANCEL_REASONS,
    ChannelType,
    ExportProtocol,
    FileFormat,
    ShippingServiceKind,
    TicketKind,
)


def complete_names(kind: str) -> Callable[[typer.Context, str], list[str]]:
    def complete(ctx: typer.Context, incomplete: str) -> list[str]:
        try:
            from avasam_cli.core.config import Settings
            from avasam_cli.core.services.lookup import names_starting
            from avasam_cli.core.workspace import Workspace

            ws = Workspace(Settings.resolve(ctx.find_root().params.get("db")))
            try:
                return names_starting(ws, kind, incomplete)
            finally:
                ws.close()
        except Exception:  # completion must never break the shell
            return []

    return complete


def _choice(values: Iterable[str]) -> click.Choice[str]:
    return click.Choice([str(v) for v in values])


OrderArg = Annotated[str, typer.Argument(
    help="Order number, id or reference.", autocompletion=complete_names("order"))]
ChannelArg = Annotated[str, typer.Argument(
    help="Channel name, e.g. shop.", autocompletion=complete_names("channel"))]
ExportArg = Annotated[str, typer.Argument(
    help="Export name, e.g. oak-sftp.", autocompletion=complete_names("export"))]
SupplierArg = Annotated[str, typer.Argument(
    help="Supplier code, e.g. OAKCO.", autocompletion=complete_names("supplier"))]
SkuArg = Annotated[str, typer.Argument(help="Catalogue SKU, e.g. OAK-TABLE-01.")]
TicketArg = Annotated[int, typer.Argument(help="Ticket number, as `tickets list` shows it.")]
ServiceArg = Annotated[str, typer.Argument(
    help="Shipping service: standard, standard_tracked or expedited.", metavar="SERVICE",
    click_type=_choice(tuple(ShippingServiceKind)))]

ServiceOption = Annotated[str | None, typer.Option(
    help="Shipping service.", click_type=_choice(tuple(ShippingServiceKind)))]
CancelReasonOption = Annotated[str, typer.Option(
    help="Why: 'other' needs --note.", click_type=_choice(SELLER_CANCEL_REASONS))]
ChannelTypeOption = Annotated[str, typer.Option(
    "--type", help="Where the orders come from.", click_type=_choice(tuple(ChannelType)))]
ProtocolOption = Annotated[str | None, typer.Option(
    help="How the file is delivered.", click_type=_choice(tuple(ExportProtocol)))]
FileFormatOption = Annotated[str | None, typer.Option(
    "--file-format", help="The file's format.", click_type=_choice(tuple(FileFormat)))]
TicketKindOption = Annotated[str, typer.Option(
    help="What the ticket is about.", click_type=_choice(tuple(TicketKind)))]
SinceOption = Annotated[str | None, typer.Option(
    help="Since a day (2026-11-01, today, yesterday) or a span back from now (12h, 7d, 2w, 3mo); "
    "days are in the business timezone.")]
# --limit means the same everywhere: at most N rows, 0 for no limit.
LimitOption = Annotated[int, typer.Option(min=0, help="At most N rows; 0 for all.")]
