"""A supplier's server, as exports (files we send) and import feeds (files we fetch) both
name it: protocol, host, login, the secret's reference, known hosts, directory.

`ExportTarget` and `ImportFeed` carry the same connection columns; the rules for setting
and reading them live here once. Secrets are referenced (an environment variable's name,
or a mode-600 file), never stored, and never shown.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import Protocol

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.secrets import check_env_name, check_secret_file, read_secret
from avasam_cli.core.statuses import ExportProtocol, SecretKind
from avasam_cli.core.transports import Target

PROTOCOLS = tuple(ExportProtocol)
DEFAULT_PORTS = {"ftp": 21, "ftps": 21, "sftp": 22}


class Remote(Protocol):
    """The connection columns of ExportTarget and ImportFeed."""

    name: str
    protocol: str
    host: str | None
    port: int | None
    username: str | None
    secret_kind: str | None
    secret_ref: str | None
    known_hosts: str | None
    remote_dir: str
    passive: bool
    insecure_tls: bool


@dataclass
class RemoteSettings:
    """The connection options of `exports|imports add` and `edit`; None leaves a setting as
    it is."""

    protocol: str | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    key_file: str | None = None
    known_hosts: str | None = None
    remote_dir: str | None = None
    passive: bool | None = None
    insecure_tls: bool | None = None


def apply_remote(remote: Remote, s: RemoteSettings, *, new: bool, noun: str) -> None:
    """Set the connection columns from the options given and check the whole is usable.
    `noun`: "export" or "import", for the error messages."""
    if s.protocol is not None:
        if s.protocol not in PROTOCOLS:
            raise InvalidInput(f"--protocol must be one of {', '.join(PROTOCOLS)}")
        remote.protocol = s.protocol
    elif new:
        raise InvalidInput(f"an {noun} needs --protocol ftp|ftps|sftp|file")
    for key in ("host", "port", "username", "known_hosts", "passive", "insecure_tls"):
        if getattr(s, key) is not None:
            setattr(remote, key, getattr(s, key))
    if s.remote_dir is not None:
        remote.remote_dir = _remote_dir(s.remote_dir)
    _apply_secret(remote, s)
    _check_complete(remote, noun)
    if remote.protocol == ExportProtocol.FILE and remote.remote_dir:
        # A local folder is stored absolute: cron runs from $HOME, not from here.
        remote.remote_dir = os.path.abspath(os.path.expanduser(remote.remote_dir))


def target_of(remote: Remote, noun: str) -> Target:
    """Connection settings with the secret read now, from its variable or file."""
    secret = None
    label = f"{noun} {remote.name}"
    if remote.secret_kind == SecretKind.PASSWORD_ENV:
        secret = read_secret(remote.secret_ref, None, f"{label} password")
    elif remote.secret_kind == SecretKind.PASSWORD_FILE:
        secret = read_secret(None, remote.secret_ref, f"{label} password")
    elif remote.secret_kind == SecretKind.KEY_FILE:
        check_secret_file(remote.secret_ref or "", f"{label} key file")
        secret = remote.secret_ref
    return Target(
        protocol=remote.protocol,
        host=remote.host,
        port=remote.port,
        username=remote.username,
        secret=secret,
        secret_kind=remote.secret_kind,
        known_hosts=remote.known_hosts,
        remote_dir=remote.remote_dir,
        passive=remote.passive,
        insecure_tls=remote.insecure_tls,
    )


def location(remote: Remote) -> str:
    """Where the files are, fit to show (never the secret)."""
    if remote.protocol == ExportProtocol.FILE:
        return remote.remote_dir
    return (
        f"{remote.protocol}://{remote.username}@{remote.host}:{remote.port}"
        f"/{remote.remote_dir.lstrip('/')}"
    )


def auth_text(remote: Remote) -> str | None:
    if remote.secret_kind is None:
        return None
    label = {
        SecretKind.PASSWORD_ENV: "password from environment variable",
        SecretKind.PASSWORD_FILE: "password from file",
        SecretKind.KEY_FILE: "key file",
    }[SecretKind(remote.secret_kind)]
    return f"{label} {remote.secret_ref}"


def _apply_secret(remote: Remote, s: RemoteSettings) -> None:
    given = [
        (k, v)
        for k, v in (
            (SecretKind.PASSWORD_ENV, s.password_env),
            (SecretKind.PASSWORD_FILE, s.password_file),
            (SecretKind.KEY_FILE, s.key_file),
        )
        if v is not None
    ]
    if len(given) > 1:
        raise InvalidInput("give one of --password-env, --password-file and --key-file")
    if not given:
        return
    kind, ref = given[0]
    if kind == SecretKind.PASSWORD_ENV:
        check_env_name(ref, "--password-env", "password")
    else:
        flag = f"--{kind.replace('_', '-')}"
        ref = os.path.abspath(os.path.expanduser(ref))
        if not os.path.isfile(ref):  # a folder, a missing file, a name too long
            raise InvalidInput(f"{flag}: {ref[:200]!r} is not a file that exists")
        check_secret_file(ref, flag)
    remote.secret_kind, remote.secret_ref = kind.value, ref


def _check_complete(remote: Remote, noun: str) -> None:
    if remote.protocol == ExportProtocol.FILE:
        if not remote.remote_dir or remote.remote_dir == ".":
            raise InvalidInput(f"a file {noun} needs --remote-dir, the folder to use")
        remote.host = remote.username = remote.port = None
        return
    if not remote.host:
        raise InvalidInput(f"an {remote.protocol} {noun} needs --host")
    if not remote.username:
        raise InvalidInput(f"an {remote.protocol} {noun} needs --username")
    if remote.secret_kind is None:
        raise InvalidInput(
            f"an {noun} needs --password-env VAR, --password-file PATH or --key-file PATH"
        )
    if remote.secret_kind == SecretKind.KEY_FILE and remote.protocol != ExportProtocol.SFTP:
        raise InvalidInput("--key-file works with sftp only")
    remote.port = remote.port or DEFAULT_PORTS[remote.protocol]


def _remote_dir(text: str) -> str:
    path = text.strip() or "."
    if ".." in posixpath.normpath(path).split("/") or ".." in path.split("/"):
        raise InvalidInput(f"--remote-dir {text!r} must not contain '..'")
    return posixpath.normpath(path)  # one spelling per folder: "/out/" is "/out"
