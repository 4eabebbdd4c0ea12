"""Uploaders for supplier exports: one interface over file, FTP, FTPS and SFTP.

Every upload is atomic on the server: the file goes up under a temporary name in the same
directory, its size is checked, and only then is it renamed to its final name. A failed
or interrupted upload never leaves a file under the final name.
"""

from __future__ import annotations

import posixpath
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.statuses import ExportProtocol


class TransferError(Exception):
    """An upload step failed. `transient` failures are worth retrying."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Target:
    protocol: str
    host: str | None
    port: int | None
    username: str | None
    secret: str | None  # a password, or the path of a private key for SFTP
    secret_kind: str | None
    known_hosts: str | None
    remote_dir: str
    passive: bool = True
    insecure_tls: bool = False


class Uploader(Protocol):
    def connect(self) -> list[str]:
        """Connect and log in; the steps done, for `exports test`."""

    def check_writable(self) -> None:
        """Write and delete a probe file in the remote directory."""

    def upload(self, local: Path, name: str) -> int:
        """Upload atomically; the size on the server."""

    def close(self) -> None: ...


def reason(exc: BaseException) -> str:
    """A network or file error in a few words, for an `Error:` line."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def temporary_name(name: str) -> str:
    return f".{name}.part"


def join(remote_dir: str, name: str) -> str:
    return posixpath.join(remote_dir or ".", name)


def uploader_for(target: Target, *, timeout: float) -> Uploader:
    """The uploader of the target's protocol. `timeout`: seconds a connection or a reply may
    take (AVASAM_EXPORT_TIMEOUT), so a stalled server fails the run instead of hanging it."""
    uploader: Uploader
    if target.protocol == ExportProtocol.FILE:
        from avasam_cli.core.transports.local import LocalFolder

        uploader = LocalFolder(target)
    elif target.protocol in (ExportProtocol.FTP, ExportProtocol.FTPS):
        from avasam_cli.core.transports.ftp import FtpUploader

        uploader = FtpUploader(target, timeout=timeout)
    elif target.protocol == ExportProtocol.SFTP:
        from avasam_cli.core.transports.sftp import SftpUploader

        uploader = SftpUploader(target, timeout=timeout)
    else:
        raise InvalidInput(
            f"unknown protocol {target.protocol!r}; use one of {', '.join(ExportProtocol)}"
        )
    return uploader
