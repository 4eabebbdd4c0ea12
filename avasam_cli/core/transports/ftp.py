"""FTP and FTPS (explicit TLS: AUTH TLS, then PROT P for the data channel) with ftplib."""

from __future__ import annotations

import calendar
import contextlib
import ftplib
import io
import posixpath
import ssl
import time
from pathlib import Path
from typing import BinaryIO

from avasam_cli.core.statuses import ExportProtocol
from avasam_cli.core.transports import (
    RemoteFile,
    Target,
    TransferError,
    free_name,
    reason,
    temporary_name,
)


class FtpUploader:
    def __init__(self, target: Target, *, timeout: float) -> None:
        self.target = target
        # Seconds a connection or a reply may take: a stalled server fails the run (and is
        # retried) instead of hanging it.
        self.timeout = timeout
        self.ftp: ftplib.FTP | None = None

    def connect(self) -> list[str]:
        target, steps = self.target, []
        tls = target.protocol == ExportProtocol.FTPS
        try:
            if tls:
                context = ssl.create_default_context()
                if target.insecure_tls:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                self.ftp = ftplib.FTP_TLS(context=context, timeout=self.timeout)
            else:
                self.ftp = ftplib.FTP(timeout=self.timeout)
            self.ftp.connect(target.host or "", target.port or 21)
            steps.append(f"connected to {target.host}:{target.port or 21}")
            if isinstance(self.ftp, ftplib.FTP_TLS):
                self.ftp.auth()
                steps.append(
                    "TLS negotiated (AUTH TLS)"
                    + (
                        ", certificate NOT verified"
                        if target.insecure_tls
                        else ", certificate verified"
                    )
                )
            self.ftp.login(target.username or "anonymous", target.secret or "")
            steps.append(f"logged in as {target.username}")
            if isinstance(self.ftp, ftplib.FTP_TLS):
                self.ftp.prot_p()
                steps.append("data channel protected (PROT P)")
            self.ftp.set_pasv(target.passive)
            self.ftp.cwd(target.remote_dir or ".")
            steps.append(f"in directory {target.remote_dir}")
        except ftplib.error_perm as exc:
            raise TransferError(_reply(exc, "the server refused"), transient=False) from None
        except ftplib.error_temp as exc:
            raise TransferError(_reply(exc, "the server failed"), transient=True) from None
        except ssl.SSLError as exc:
            raise TransferError(
                f"TLS failed: {exc.reason or exc}; for a self-signed "
                "certificate use --insecure-tls",
                transient=False,
            ) from None
        except (OSError, EOFError) as exc:
            raise TransferError(
                f"cannot reach {target.host}:{target.port or 21}: {_os_reason(exc)}", transient=True
            ) from None
        return steps

    def check_writable(self) -> None:
        probe = temporary_name("avasam-probe")
        self._store(io.BytesIO(b"avasam probe\n"), probe)
        self._quietly_delete(probe)

    def upload(self, local: Path, name: str) -> int:
        temporary = temporary_name(name)
        with local.open("rb") as handle:
            self._store(handle, temporary)
        ftp = self._ftp()
        try:
            ftp.voidcmd("TYPE I")
            size = ftp.size(temporary)
            if size != local.stat().st_size:
                raise TransferError(
                    f"the server has {size} bytes of {local.stat().st_size}", transient=True
                )
            ftp.rename(temporary, name)
            return int(size)
        except TransferError:
            self._quietly_delete(temporary)
            raise
        except ftplib.all_errors as exc:
            self._quietly_delete(temporary)
            raise TransferError(f"finishing {name} failed: {exc}", transient=True) from None

    def listing(self) -> list[RemoteFile]:
        ftp = self._ftp()
        try:
            try:
                return [
                    RemoteFile(name, int(facts.get("size", 0)), _mlsd_time(facts.get("modify")))
                    for name, facts in ftp.mlsd(facts=["type", "size", "modify"])
                    if facts.get("type") == "file"
                ]
            except ftplib.error_perm:  # a server without MLSD: names, then SIZE and MDTM
                return self._listing_by_name(ftp)
        except ftplib.all_errors as exc:
            raise TransferError(
                f"cannot list {self.target.remote_dir}: {_os_reason(exc)}", transient=True
            ) from None

    def _listing_by_name(self, ftp: ftplib.FTP) -> list[RemoteFile]:
        ftp.voidcmd("TYPE I")
        files = []
        for path in ftp.nlst():
            name = posixpath.basename(path)
            try:
                size = ftp.size(name)
                modified = ftp.voidcmd(f"MDTM {name}").split()[-1]
            except ftplib.error_perm:  # a folder, or gone since the listing
                continue
            files.append(RemoteFile(name, int(size or 0), _mlsd_time(modified)))
        return files

    def download(self, name: str, local: Path) -> int:
        ftp = self._ftp()
        try:
            ftp.voidcmd("TYPE I")
            with local.open("wb") as out, ftp.transfercmd(f"RETR {name}") as conn:
                # Read to the end ourselves: ftplib's TLS shutdown of the data channel hangs
                # with several servers (see _store_binary).
                while chunk := conn.recv(1 << 16):
                    out.write(chunk)
            ftp.voidresp()
        except ftplib.error_perm as exc:
            raise TransferError(
                _reply(exc, f"the server refused {name}"), transient=False
            ) from None
        except ftplib.all_errors as exc:
            raise TransferError(
                f"the download of {name} broke off: {_os_reason(exc)}", transient=True
            ) from None
        return local.stat().st_size

    def move(self, name: str, folder: str) -> str:
        ftp = self._ftp()
        try:
            with contextlib.suppress(ftplib.error_perm):  # it exists already
                ftp.mkd(folder)
            try:
                taken = {posixpath.basename(path) for path in ftp.nlst(folder)}
            except (ftplib.error_perm, ftplib.error_temp):  # ProFTPD: "450 No files found"
                taken = set()
            moved = posixpath.join(folder, free_name(name, taken.__contains__))
            ftp.rename(name, moved)
        except ftplib.all_errors as exc:
            raise TransferError(
                f"cannot move {name} into {folder}: {_os_reason(exc)}", transient=True
            ) from None
        return posixpath.join(self.target.remote_dir, moved)

    def delete(self, name: str) -> None:
        try:
            self._ftp().delete(name)
        except ftplib.all_errors as exc:
            raise TransferError(
                f"cannot delete {name}: {_os_reason(exc)}", transient=True
            ) from None

    def close(self) -> None:
        if self.ftp is not None:
            try:
                self.ftp.quit()
            except Exception:  # the connection may already be gone; close it regardless
                self.ftp.close()
            self.ftp = None

    def _store(self, source: BinaryIO, remote: str) -> None:
        ftp = self._ftp()
        try:
            _store_binary(ftp, f"STOR {remote}", source)
        except ftplib.error_temp as exc:
            self._quietly_delete(remote)
            raise TransferError(
                _reply(exc, f"the server refused the write of {remote}"), transient=True
            ) from None
        except ftplib.error_perm as exc:
            self._quietly_delete(remote)
            raise TransferError(
                _reply(exc, f"the server refused the write of {remote}"), transient=False
            ) from None
        except (OSError, EOFError, ftplib.Error) as exc:
            self._quietly_delete(remote)
            raise TransferError(
                f"the upload of {remote} broke off: {_os_reason(exc)}", transient=True
            ) from None

    def _quietly_delete(self, remote: str) -> None:
        # Best effort: what matters is the final name, and that was never written.
        with contextlib.suppress(Exception):
            self._ftp().delete(remote)

    def _ftp(self) -> ftplib.FTP:
        if self.ftp is None:
            raise TransferError("not connected", transient=True)
        return self.ftp


def _store_binary(ftp: ftplib.FTP, command: str, source: BinaryIO) -> None:
    """ftplib's storbinary without its TLS shutdown of the data channel, which hangs with
    several servers (cpython#78738); the size check after the upload catches truncation."""
    ftp.voidcmd("TYPE I")
    with ftp.transfercmd(command) as conn:
        while chunk := source.read(1 << 16):
            conn.sendall(chunk)
    ftp.voidresp()


def _reply(exc: BaseException, what: str) -> str:
    return f"{what}: {str(exc).strip()}"


def _os_reason(exc: BaseException) -> str:
    return "the connection was closed" if isinstance(exc, EOFError) else reason(exc)


def _mlsd_time(text: str | None) -> int:
    """MLSD's and MDTM's YYYYMMDDHHMMSS[.sss] (UTC) as seconds since the epoch; 0 if absent."""
    if not text:
        return 0
    try:
        return calendar.timegm(time.strptime(text[:14], "%Y%m%d%H%M%S"))
    except ValueError:
        return 0
