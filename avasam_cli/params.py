"""Arguments and options that several commands share: one help text, one set of choices and
one shell completion each, so `avasam exports show NAME` and `avasam exports run NAME` can
never drift apart.

Completing names opens the workspace only when the shell asks; a missing or broken database
completes nothing rather than printing an error into the shell.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_type_hints

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


def shown(text: str, limit: int = 80) -> str:
    """A value a user typed, quoted and cut short, for an error line."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def check_output_file(path: str, flag: str) -> None:
    """A file option we will write: not a folder, in a folder that exists, writable."""
    from avasam_cli.core.errors import InvalidInput

    where = Path(path)
    try:
        if not path or where.is_dir():
            problem = "is a folder, not a file"
        elif not where.parent.is_dir():
            problem = "is not in a folder that exists"
        elif not os.access(where if where.exists() else where.parent, os.W_OK):
            problem = "cannot be written"
        else:
            return
    except OSError as exc:  # e.g. a name too long for the file system
        problem = f"cannot be used ({exc.strerror})"
    raise InvalidInput(f"{flag} {shown(path)} {problem}; name a file in an existing folder")


def _choice(values: Iterable[str]) -> click.Choice[str]:
    return click.Choice([str(v) for v in values])


OrderArg = Annotated[
    str,
    typer.Argument(help="Order number, id or reference.", autocompletion=complete_names("order")),
]
ChannelArg = Annotated[
    str, typer.Argument(help="Channel name, e.g. shop.", autocompletion=complete_names("channel"))
]
ExportArg = Annotated[
    str, typer.Argument(help="Export name, e.g. oak-sftp.", autocompletion=complete_names("export"))
]
SupplierArg = Annotated[
    str,
    typer.Argument(help="Supplier code, e.g. OAKCO.", autocompletion=complete_names("supplier")),
]
SkuArg = Annotated[str, typer.Argument(help="Catalogue SKU, e.g. OAK-TABLE-01.")]
TicketArg = Annotated[
    int, typer.Argument(help="Ticket number, as `tickets list` shows it.", min=1, max=2**31 - 1)
]
ServiceArg = Annotated[
    str,
    typer.Argument(
        help="Shipping service: standard, standard_tracked or expedited.",
        metavar="SERVICE",
        click_type=_choice(tuple(ShippingServiceKind)),
    ),
]

ServiceOption = Annotated[
    str | None,
    typer.Option(help="Shipping service.", click_type=_choice(tuple(ShippingServiceKind))),
]
CancelReasonOption = Annotated[
    str, typer.Option(help="Why: 'other' needs --note.", click_type=_choice(SELLER_CANCEL_REASONS))
]
ChannelTypeOption = Annotated[
    str,
    typer.Option(
        "--type", help="Where the orders come from.", click_type=_choice(tuple(ChannelType))
    ),
]
ProtocolOption = Annotated[
    str | None,
    typer.Option(help="How the file is delivered.", click_type=_choice(tuple(ExportProtocol))),
]
FileFormatOption = Annotated[
    str | None,
    typer.Option("--file-format", help="The file's format.", click_type=_choice(tuple(FileFormat))),
]
TicketKindOption = Annotated[
    str, typer.Option(help="What the ticket is about.", click_type=_choice(tuple(TicketKind)))
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        help="Since a day (2026-11-01, today, yesterday) or a span back from now "
        "(12h, 7d, 2w, 3mo); days are in the business timezone."
    ),
]
# --limit means the same everywhere: at most N rows, 0 for no limit.
# Counts and ids typed by people are bounded at the edge: past these, a number is a typo, and
# the database could not hold it anyway (64-bit integers).
MAX_COUNT = 1_000_000_000
LimitOption = Annotated[int, typer.Option(min=0, max=MAX_COUNT, help="At most N rows; 0 for all.")]


def option_group(group: type[Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Options declared once and shared by several commands, the way sqlite-utils shares
    `output_options`: `group` is a dataclass whose fields carry their `typer.Option`. A
    command decorated with it takes one parameter of that type; Typer sees the fields as the
    command's options in its place (after the command's own parameters), and the command
    receives one instance holding their values.
    """
    fields = {f.name: f.default for f in dataclasses.fields(group)}
    types = get_type_hints(group, include_extras=True)

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        hints = get_type_hints(command, include_extras=True)
        [target] = [name for name, hint in hints.items() if hint is group]
        params = [
            p.replace(annotation=hints[p.name])
            for p in inspect.signature(command).parameters.values()
            if p.name != target
        ]
        params += [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=types[name]
            )
            for name, default in fields.items()
        ]

        @functools.wraps(command)
        def with_group(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in fields}
            return command(*args, **kwargs, **{target: group(**values)})

        with_group.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            params, return_annotation=hints.get("return")
        )
        with_group.__annotations__ = {p.name: p.annotation for p in params}
        return with_group

    return decorate


@dataclass(frozen=True)
class RemoteOptions:
    """Where a supplier's server is and how to log in: shared by exports and imports."""

    protocol: ProtocolOption = None
    host: Annotated[str | None, typer.Option(help="Server name or address.")] = None
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (21 for FTP/FTPS, 22 for SFTP).")
    ] = None
    username: Annotated[str | None, typer.Option(help="Login name.")] = None
    password_env: Annotated[
        str | None, typer.Option(help="NAME of the environment variable holding the password.")
    ] = None
    password_file: Annotated[
        str | None, typer.Option(help="A mode-600 file holding the password.")
    ] = None
    key_file: Annotated[
        str | None, typer.Option(help="SFTP: a private key (ed25519, RSA, ECDSA).")
    ] = None
    known_hosts: Annotated[
        str | None, typer.Option(help="SFTP: known_hosts file [default: ~/.ssh/known_hosts].")
    ] = None
    remote_dir: Annotated[
        str | None, typer.Option(help="Directory on the server (or the folder).")
    ] = None
    passive: Annotated[bool | None, typer.Option("--passive/--active", help="FTP data mode.")] = (
        None
    )
    insecure_tls: Annotated[
        bool | None,
        typer.Option("--insecure-tls/--verify-tls", help="FTPS: accept a self-signed certificate."),
    ] = None


SupplierOption = Annotated[str | None, typer.Option(help="Supplier code.")]
ScheduleOption = Annotated[str | None, typer.Option(help="Cron expression, e.g. '0 */2 * * *'.")]


@dataclass(frozen=True)
class ExportOptions(RemoteOptions):
    """The settings of `exports add` and `exports edit`; None leaves a setting as it is."""

    supplier: SupplierOption = None
    filename: Annotated[
        str | None, typer.Option(help="File name template: {supplier} {export} {timestamp} {run}.")
    ] = None
    file_format: FileFormatOption = None
    schedule: ScheduleOption = None
    only_new: Annotated[
        bool | None,
        typer.Option(
            "--only-new/--all-open", help="Send only orders not sent before, or every open order."
        ),
    ] = None
    raw_csv: Annotated[
        bool | None,
        typer.Option(
            "--raw-csv/--safe-csv",
            help="--safe-csv (default): a CSV cell starting with = + - @ gets a ' in front, so "
            "a spreadsheet shows it as text, never runs it as a formula (plain numbers stay); "
            "note a phone number +44 20 ... then becomes '+44 20 .... --raw-csv: every value "
            "as it is, for a supplier whose importer needs raw values.",
        ),
    ] = None


export_options = option_group(ExportOptions)
