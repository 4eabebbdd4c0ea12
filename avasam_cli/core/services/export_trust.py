"""`exports trust` and `imports trust`: record an SFTP server's host key after showing its
fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from avasam_cli.core.errors import InvalidInput, RemoteError
from avasam_cli.core.services.feeds import get_feed
from avasam_cli.core.services.lookup import get_export
from avasam_cli.core.services.remote import target_of
from avasam_cli.core.statuses import ExportProtocol
from avasam_cli.core.transports import Target, TransferError
from avasam_cli.core.workspace import Workspace


def _target(ws: Workspace, name: str, noun: str) -> Target:
    with ws.uow(read_only=True) as uow:
        remote = get_export(uow.session, name) if noun == "export" else get_feed(uow.session, name)
        if remote.protocol != ExportProtocol.SFTP:
            raise InvalidInput(f"{noun} {name} uses {remote.protocol}; only SFTP has host keys")
        return target_of(remote, noun)


def fetch_key(ws: Workspace, name: str, *, noun: str = "export") -> tuple[str, Any]:
    """The key the server presents now and its fingerprint, to show before recording.
    `noun`: "export" or "import", which kind of thing `name` is."""
    from avasam_cli.core.transports.sftp import fingerprint, server_key

    target = _target(ws, name, noun)
    try:
        key = server_key(target.host or "", target.port or 22, timeout=ws.settings.export_timeout)
    except TransferError as exc:
        raise RemoteError(str(exc)) from None
    return f"{key.get_name()} {fingerprint(key)}", key


def record_key(ws: Workspace, name: str, key: Any, *, noun: str = "export") -> Path:
    """Record exactly the key that was shown (not a second fetch, which could differ)."""
    from avasam_cli.core.transports.sftp import trust

    return trust(_target(ws, name, noun), key)
