"""A supplier's server, over file, FTP, FTPS and SFTP: uploads for exports, listing,
download, archive and delete for import feeds. One class per protocol does both.

Every upload is atomic on the server: the file goes up under a temporary name in the same
directory, its size is checked, and only then is it renamed to its final name. A failed
or interrupted upload never leaves a file under the final name.

A fetch never changes the server except by `move` (into a subdirectory, never over an
existing file) and `delete`, which import feeds call only once a file's effects are
committed.
"""

from __future__ import annotations

import posixpath
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar, cast

from avasam_cli.core.errors import InvalidInput, RemoteError
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


@dataclass(frozen=True)
class RemoteFile:
    """A regular file in the remote directory, as the server lists it."""

    name: str
    size: int
    mtime: int  # seconds since the epoch, UTC


class Fetcher(Protocol):
    def connect(self) -> list[str]:
        """Connect and log in; the steps done, for `imports test`."""

    def check_writable(self) -> None:
        """Write and delete a probe file in the remote directory."""

    def listing(self) -> list[RemoteFile]:
        """The regular files of the remote directory (not folders, not links)."""

    def download(self, name: str, local: Path) -> int:
        """Copy a remote file to `local`; the bytes copied."""

    def move(self, name: str, folder: str) -> str:
        """Move a file into a subdirectory (made if missing), never over a file already
        there (a free name is chosen); the path it now has."""

    def delete(self, name: str) -> None: ...

    def close(self) -> None: ...


def free_name(name: str, taken: Callable[[str], bool]) -> str:
    """`name`, or `name.1`, `name.2`... : the first that `taken` says is free."""
    candidate, number = name, 0
    while taken(candidate):
        number += 1
        candidate = f"{name}.{number}"
    return candidate


T = TypeVar("T")


def remote_step(step: Callable[[], T]) -> T:
    """One step of `exports test` / `imports test`: a TransferError becomes the RemoteError
    the command line shows as one `Error:` line."""
    try:
        return step()
    except TransferError as exc:
        raise RemoteError(str(exc)) from None


def reason(exc: BaseException) -> str:
    """A network or file error in a few words, for an `Error:` line."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def temporary_name(name: str) -> str:
    return f".{name}.part"


def join(remote_dir: str, name: str) -> str:
    return posixpath.join(remote_dir or ".", name)


def fetcher_for(target: Target, *, timeout: float) -> Fetcher:
    """The same classes as `uploader_for`, seen from the fetching side."""
    return cast(Fetcher, uploader_for(target, timeout=timeout))


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
