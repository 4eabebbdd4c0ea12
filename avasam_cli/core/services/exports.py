"""Export settings: where each supplier receives its open orders, and when.

Secrets are referenced (an environment variable's name, or a mode-600 file), never
stored, and never shown.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.errors import Conflict, InvalidInput
from avasam_cli.core.models import ExportTarget
from avasam_cli.core.schedule import parse_schedule
from avasam_cli.core.services.lookup import NAME, get_export, get_supplier
from avasam_cli.core.services.remote import RemoteSettings, apply_remote, auth_text, location
from avasam_cli.core.services.remote import target_of as remote_target
from avasam_cli.core.statuses import FileFormat
from avasam_cli.core.transports import Target
from avasam_cli.core.workspace import Workspace

DEFAULT_TEMPLATE = "orders-{supplier}-{timestamp}.csv"


@dataclass
class ExportSettings(RemoteSettings):
    """What `exports add` and `exports edit` may set; None means "leave as it is"."""

    supplier: str | None = None
    filename: str | None = None
    format: str | None = None
    schedule: str | None = None
    only_new: bool | None = None
    raw_csv: bool | None = None


def add_export(ws: Workspace, name: str, settings: ExportSettings) -> dict[str, Any]:
    if not NAME.match(name):
        raise InvalidInput(f"export name {name!r} must be 1-64 letters, digits, '-', '_' or '.'")
    with ws.uow() as uow:
        if uow.session.scalar(select(ExportTarget.id).where(ExportTarget.name == name)):
            raise Conflict(f"export {name} already exists; change it with `avasam exports edit`")
        export = ExportTarget(
            name=name,
            remote_dir=".",
            filename_template=DEFAULT_TEMPLATE,
            format="csv",
            only_new=False,
            passive=True,
            insecure_tls=False,
            raw_csv=False,
            enabled=True,
            created_at=ws.now(),
        )
        _apply(uow.session, export, settings, new=True)
        uow.session.add(export)
        uow.commit()
        return export_row(export, ws)


def edit_export(ws: Workspace, name: str, settings: ExportSettings) -> dict[str, Any]:
    with ws.uow() as uow:
        export = get_export(uow.session, name)
        _apply(uow.session, export, settings, new=False)
        uow.commit()
        return export_row(export, ws)


def list_exports(ws: Workspace) -> list[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        exports = uow.session.scalars(select(ExportTarget).order_by(ExportTarget.name))
        return [export_row(e, ws) for e in exports]


def show_export(ws: Workspace, name: str) -> dict[str, Any]:
    with ws.uow(read_only=True) as uow:
        return export_row(get_export(uow.session, name), ws)


def remove_export(ws: Workspace, name: str) -> None:
    with ws.uow() as uow:
        export = get_export(uow.session, name)
        export.enabled = False
        export.name = f"{name} (removed {export.id})"  # its history stays
        uow.commit()


def set_enabled(ws: Workspace, name: str, enabled: bool) -> None:
    with ws.uow() as uow:
        get_export(uow.session, name).enabled = enabled
        uow.commit()


def target_of(export: ExportTarget) -> Target:
    """Connection settings with the secret read now, from its variable or file."""
    return remote_target(export, "export")


def render_filename(
    template: str, *, supplier: str, export: str, moment: datetime, run: int
) -> str:
    """The file name of one run. The template may hold only the four placeholders, bare:
    no format spec (`{run:>100000000}` would build a huge name), no attribute or index
    (`{supplier.__doc__}`), no conversion; `{{` and `}}` stand for braces."""
    values = {
        "supplier": supplier,
        "export": export,
        "run": str(run),
        "timestamp": moment.strftime("%Y%m%dT%H%M%SZ"),
    }
    parts: list[str] = []
    for literal, field, spec, conversion in _template_parts(template):
        parts.append(literal)
        if field is None:
            continue
        if field not in values or spec or conversion is not None:
            shown = (
                "{"
                + field
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise InvalidInput(
                f"file name template {_shown(template)}: {_shown(shown)} is not allowed; "
                "use only {supplier}, {export}, {timestamp} and {run}, as they are"
            )
        parts.append(values[field])
    name = "".join(parts)
    if not name or "/" in name or "\\" in name or name.startswith(".") or ".." in name:
        raise InvalidInput(
            f"file name template {_shown(template)} gives {_shown(name)}, which would leave "
            "the remote directory or hide the file; use a plain file name"
        )
    if not name.isprintable() or len(name.encode("utf-8", "surrogatepass")) > MAX_FILE_NAME:
        raise InvalidInput(
            f"file name template {_shown(template)} gives a name that is too long or holds "
            f"control characters; keep it under {MAX_FILE_NAME} bytes of plain text"
        )
    return name


MAX_TEMPLATE = 200  # characters of a --filename template
MAX_FILE_NAME = 255  # bytes: the limit of common file systems and FTP/SFTP servers


def _template_parts(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    if len(template) > MAX_TEMPLATE:
        raise InvalidInput(
            f"file name template {_shown(template)} is longer than {MAX_TEMPLATE} characters"
        )
    try:
        return list(string.Formatter().parse(template))
    except ValueError as exc:  # a lone brace
        raise InvalidInput(
            f"file name template {_shown(template)}: {exc}; write {{{{ and }}}} for braces"
        ) from None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def export_row(export: ExportTarget, ws: Workspace) -> dict[str, Any]:
    next_run = None
    if export.schedule and export.enabled:
        next_run = parse_schedule(export.schedule).next_after(ws.now(), ws.timezone)
    return {
        "name": export.name,
        "supplier": export.supplier.code if export.supplier else None,
        "protocol": export.protocol,
        "destination": location(export),
        "authentication": auth_text(export),
        "file_name": export.filename_template,
        "format": export.format,
        "schedule": export.schedule,
        "only_new": export.only_new,
        # CSV cells a spreadsheet would run as formulas: quoted with a ' or left raw
        "csv_formulas": "raw" if export.raw_csv else "neutralised",
        "enabled": export.enabled,
        "last_run_at": export.last_run_at,
        "next_run_at": next_run,
    }


def _apply(session: Session, export: ExportTarget, s: ExportSettings, *, new: bool) -> None:
    if s.supplier is not None:
        export.supplier = get_supplier(session, s.supplier)
        export.supplier_id = export.supplier.id
    elif new:
        raise InvalidInput("an export needs --supplier CODE")
    apply_remote(export, s, new=new, noun="export")
    if s.filename is not None:
        render_filename(s.filename, supplier="S", export="E", moment=datetime.now(), run=1)
        export.filename_template = s.filename
    if s.format is not None:
        if s.format not in tuple(FileFormat):
            raise InvalidInput("--file-format must be csv or json")
        export.format = s.format
    if s.schedule is not None:
        export.schedule = parse_schedule(s.schedule).text if s.schedule.strip() else None
    for key in ("only_new", "raw_csv"):
        if getattr(s, key) is not None:
            setattr(export, key, getattr(s, key))
