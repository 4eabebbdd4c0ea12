"""A real OpenSSH sshd on 127.0.0.1 for SFTP tests: its own config, host key and test user.

sshd runs as root (it must, to switch to the user); the test user has a usable password
(a locked account is refused even for key logins) and an authorized ed25519 key.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

USER = "avasamsftp"
SSHD = "/usr/sbin/sshd"


@dataclass
class SshServer:
    port: int
    home: Path
    password: str
    keys: dict[str, Path]  # client private keys by type: ed25519, rsa, ecdsa
    host_public_line: str  # "ssh-ed25519 AAAA..." for a known_hosts file
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
        # the per-session sshd processes go too: a stopped server drops its transfers
        subprocess.run(["pkill", "-KILL", "-u", USER], check=False)


def _private(key: Any, path: Path) -> str:  # an Ed25519 or RSA private key
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    path.write_bytes(data)
    path.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH,
        serialization.PublicFormat.OpenSSH,
    )
    return str(public.decode())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_user(password: str) -> Path:
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
    subprocess.run(["chpasswd"], input=f"{USER}:{password}".encode(), check=True)
    home = Path(f"/home/{USER}")
    home.chmod(0o755)
    return home


@contextmanager
def serve_sshd() -> Iterator[SshServer]:
    if os.geteuid() != 0:
        raise RuntimeError("the SFTP tests run sshd, which needs root")
    if not Path(SSHD).exists():
        raise RuntimeError("openssh-server is not installed; run scripts/test.sh")
    password = secrets.token_urlsafe(12)
    home = _ensure_user(password)
    for name in ("in", "locked", ".ssh"):
        path = home / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
    shutil.chown(home / "in", USER, USER)
    (home / "locked").chmod(0o755)  # owned by root: the user cannot write there
    workdir = Path(tempfile.mkdtemp(prefix="avasam-sshd-"))
    keys, publics = {}, []
    for kind, key in (
        ("ed25519", ed25519.Ed25519PrivateKey.generate()),
        ("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ecdsa", ec.generate_private_key(ec.SECP256R1())),
    ):
        keys[kind] = workdir / f"client_{kind}"
        publics.append(_private(key, keys[kind]))
    authorized = home / ".ssh" / "authorized_keys"
    authorized.write_text("\n".join(publics) + "\n")
    for path in (home / ".ssh", authorized):
        shutil.chown(path, USER, USER)
    (home / ".ssh").chmod(0o700)
    authorized.chmod(0o600)
    host_line = _private(ed25519.Ed25519PrivateKey.generate(), workdir / "host_ed25519")
    port = _free_port()
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {workdir / 'host_ed25519'}",
                f"PidFile {workdir / 'sshd.pid'}",
                "UsePAM no",
                "PasswordAuthentication yes",
                "PubkeyAuthentication yes",
                "KbdInteractiveAuthentication no",
                "AuthorizedKeysFile .ssh/authorized_keys",
                f"AllowUsers {USER}",
                "Subsystem sftp internal-sftp",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = SshServer(port, home, password, keys, host_line, process)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sshd did not start") from None
            time.sleep(0.05)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
