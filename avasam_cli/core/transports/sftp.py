"""SFTP with paramiko: the server's host key is checked against a known_hosts file, and an
unknown or changed key is refused with its fingerprint (`exports trust` records it).
Password or key (ed25519, RSA, ECDSA) authentication."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import stat
from pathlib import Path

import paramiko

from avasam_cli.core.statuses import SecretKind
from avasam_cli.core.transports import (
    RemoteFile,
    Target,
    TransferError,
    free_name,
    join,
    temporary_name,
)
from avasam_cli.core.transports import reason as _reason


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def host_entry(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def known_hosts_path(target: Target) -> Path:
    return Path(target.known_hosts or Path.home() / ".ssh" / "known_hosts").expanduser()


def server_key(host: str, port: int, *, timeout: float) -> paramiko.PKey:
    """The key the server presents (for `exports trust`), without logging in."""
    transport = _transport(host, port, timeout)
    try:
        return transport.get_remote_server_key()
    finally:
        transport.close()


def trust(target: Target, key: paramiko.PKey) -> Path:
    path = known_hosts_path(target)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = paramiko.HostKeys()
    if path.exists():
        keys.load(str(path))
    keys.add(host_entry(target.host or "", target.port or 22), key.get_name(), key)
    keys.save(str(path))
    path.chmod(0o600)
    return path


class SftpUploader:
    def __init__(self, target: Target, *, timeout: float) -> None:
        self.target = target
        # Seconds a connection or a reply may take: a stalled server fails the run (and is
        # retried) instead of hanging it.
        self.timeout = timeout
        self.transport: paramiko.Transport | None = None
        self.sftp: paramiko.SFTPClient | None = None

    def connect(self) -> list[str]:
        target = self.target
        host, port = target.host or "", target.port or 22
        self.transport = _transport(host, port, self.timeout)
        steps = [f"connected to {host}:{port}"]
        key = self.transport.get_remote_server_key()
        self._verify(key, host, port)
        steps.append(
            f"host key {key.get_name()} {fingerprint(key)} matches {known_hosts_path(target)}"
        )
        try:
            if target.secret_kind == SecretKind.KEY_FILE:
                self.transport.auth_publickey(target.username or "", _load_key(target.secret))
            else:
                self.transport.auth_password(target.username or "", target.secret or "")
        except paramiko.AuthenticationException:
            raise TransferError(
                f"{target.username}@{host} was refused: wrong password or key", transient=False
            ) from None
        except (paramiko.SSHException, OSError) as exc:
            raise TransferError(f"login to {host} failed: {exc}", transient=True) from None
        steps.append(f"logged in as {target.username}")
        try:
            # Our own channel, so the timeout covers the SFTP handshake too.
            channel = self.transport.open_session(timeout=self.timeout)
            channel.settimeout(self.timeout)
            channel.invoke_subsystem("sftp")
            self.sftp = paramiko.SFTPClient(channel)
            self.sftp.stat(target.remote_dir or ".")
        except (paramiko.SSHException, EOFError, TimeoutError) as exc:
            raise TransferError(
                f"the SFTP session with {host} failed: {_reason(exc)}", transient=True
            ) from None
        except OSError as exc:
            raise TransferError(
                f"remote directory {target.remote_dir}: {_reason(exc)}", transient=False
            ) from None
        steps.append(f"directory {target.remote_dir} exists")
        return steps

    def check_writable(self) -> None:
        path = join(self.target.remote_dir, temporary_name("avasam-probe"))
        sftp = self._sftp()
        try:
            with sftp.open(path, "wb") as handle:
                handle.write(b"probe")
            sftp.remove(path)
        except OSError as exc:
            raise TransferError(
                f"cannot write in {self.target.remote_dir}: {_reason(exc)}", transient=False
            ) from None

    def upload(self, local: Path, name: str) -> int:
        sftp = self._sftp()
        temporary = join(self.target.remote_dir, temporary_name(name))
        final = join(self.target.remote_dir, name)
        expected = local.stat().st_size
        try:
            with local.open("rb") as handle:
                sftp.putfo(handle, temporary, file_size=expected, confirm=False)
            size = sftp.stat(temporary).st_size
            if size != expected:
                raise TransferError(f"the server has {size} bytes of {expected}", transient=True)
            sftp.posix_rename(temporary, final)
            return int(size or 0)
        except TransferError:
            self._quietly_remove(temporary)
            raise
        except PermissionError as exc:
            self._quietly_remove(temporary)
            raise TransferError(
                f"cannot write in {self.target.remote_dir}: {_reason(exc)}", transient=False
            ) from None
        except (OSError, paramiko.SSHException, EOFError) as exc:
            self._quietly_remove(temporary)
            raise TransferError(
                f"the upload of {name} broke off: {_reason(exc)}", transient=True
            ) from None

    def listing(self) -> list[RemoteFile]:
        folder = self.target.remote_dir or "."
        try:
            attributes = self._sftp().listdir_attr(folder)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise TransferError(f"cannot list {folder}: {_reason(exc)}", transient=True) from None
        return [
            RemoteFile(a.filename, int(a.st_size or 0), int(a.st_mtime or 0))
            for a in attributes
            if a.st_mode is not None and stat.S_ISREG(a.st_mode)
        ]

    def download(self, name: str, local: Path) -> int:
        try:
            with local.open("wb") as out:
                return int(self._sftp().getfo(join(self.target.remote_dir, name), out))
        except (PermissionError, FileNotFoundError) as exc:
            # no retry makes it readable: the file is reported, the others go on
            raise TransferError(f"cannot read {name}: {_reason(exc)}", transient=False) from None
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise TransferError(
                f"the download of {name} broke off: {_reason(exc)}", transient=True
            ) from None

    def move(self, name: str, folder: str) -> str:
        sftp = self._sftp()
        into = join(self.target.remote_dir, folder)
        try:
            if not self._exists(into):
                sftp.mkdir(into)
            moved = join(into, free_name(name, lambda n: self._exists(join(into, n))))
            sftp.rename(join(self.target.remote_dir, name), moved)  # refuses to overwrite
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise TransferError(
                f"cannot move {name} into {into}: {_reason(exc)}", transient=True
            ) from None
        return moved

    def delete(self, name: str) -> None:
        try:
            self._sftp().remove(join(self.target.remote_dir, name))
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise TransferError(f"cannot delete {name}: {_reason(exc)}", transient=True) from None

    def _exists(self, path: str) -> bool:
        try:
            self._sftp().lstat(path)
        except FileNotFoundError:
            return False
        return True

    def close(self) -> None:
        if self.sftp is not None:
            self.sftp.close()
        if self.transport is not None:
            self.transport.close()
        self.sftp = self.transport = None

    def _verify(self, key: paramiko.PKey, host: str, port: int) -> None:
        path = known_hosts_path(self.target)
        keys = paramiko.HostKeys()
        if path.exists():
            keys.load(str(path))
        known = keys.lookup(host_entry(host, port))
        shown = f"{key.get_name()} {fingerprint(key)}"
        if not known:
            raise TransferError(
                f"the host key of {host}:{port} ({shown}) is not in {path}; "
                "if that fingerprint is right, record it with `avasam exports trust NAME` "
                "(or `avasam imports trust NAME`)",
                transient=False,
            )
        if known.get(key.get_name()) != key:
            raise TransferError(
                f"the host key of {host}:{port} CHANGED (now {shown}); it does "
                f"not match {path}. Check with the supplier before trusting it",
                transient=False,
            )

    def _quietly_remove(self, path: str) -> None:
        with contextlib.suppress(Exception):  # best effort; the final name was never written
            self._sftp().remove(path)

    def _sftp(self) -> paramiko.SFTPClient:
        if self.sftp is None:
            raise TransferError("not connected", transient=True)
        return self.sftp


def _transport(host: str, port: int, timeout: float) -> paramiko.Transport:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise TransferError(f"cannot reach {host}:{port}: {_reason(exc)}", transient=True) from None
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        transport.close()
        raise TransferError(f"SSH with {host}:{port} failed: {exc}", transient=True) from None
    return transport


def _load_key(path: str | None) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(path or "")
    except (OSError, paramiko.SSHException) as exc:
        raise TransferError(f"cannot load the key file {path}: {exc}", transient=False) from None
