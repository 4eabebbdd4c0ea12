"""FTP and FTPS (explicit TLS: AUTH TLS, then PROT P for the data channel) with ftplib."""

from __future__ import annotations

import contextlib
import ftplib
import io
import ssl
from pathlib import Path
from typing import BinaryIO

from avasam_cli.core.statuses import ExportProtocol
from avasam_cli.core.transports import Target, TransferError, reason, temporary_name


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
