"""Real FTP and FTPS servers (pyftpdlib) on 127.0.0.1, with scripted faults."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import ThreadedFTPServer

USER, PASSWORD = "supplier", "ftp-s3cret"


@dataclass
class FtpServer:
    root: Path
    port: int = 0
    refuse_stor: str | None = None  # e.g. "552 Exceeded storage allocation."
    break_after_bytes: int | None = None  # cut the upload off, then refuse new sessions
    stopped: threading.Event = field(default_factory=threading.Event)
    # A slow link: each upload waits at STOR until the test opens the gate.
    gate: threading.Event | None = None
    uploading: threading.Event = field(default_factory=threading.Event)


def make_certificate(folder: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path = folder / "ftps.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return path


@contextmanager
def serve_ftp(
    root: Path, *, tls: bool = False, writable: bool = True, certificate: Path | None = None
) -> Iterator[FtpServer]:
    state = FtpServer(root)
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(root), perm="elradfmw" if writable else "elr")
    base: Any = TLS_FTPHandler if tls else FTPHandler

    class BreakingDTP(base.dtp_handler):  # type: ignore[misc]
        def handle_read(self) -> None:
            super().handle_read()
            if (
                state.break_after_bytes is not None
                and self.tot_bytes_received >= state.break_after_bytes
            ):
                state.stopped.set()
                self.cmd_channel.close()
                self.close()

        if not tls:  # pyftpdlib aliases the event to the base class's handle_read
            handle_read_event = handle_read

    class Handler(base):  # type: ignore[misc]
        dtp_handler = BreakingDTP

        def handle(self) -> None:
            if state.stopped.is_set():
                self.respond("421 Service not available, closing control connection.")
                self.close_when_done()
                return
            super().handle()

        def ftp_STOR(self, file: str, mode: str = "w") -> Any:
            if state.gate is not None and not file.endswith("probe"):
                state.uploading.set()
                state.gate.wait(60)
            if state.refuse_stor:
                self.respond(state.refuse_stor)
                return None
            return super().ftp_STOR(file, mode)

    Handler.authorizer = authorizer
    Handler.banner = "avasam test FTP"
    if tls:
        Handler.certfile = str(certificate or make_certificate(root.parent))
        Handler.tls_control_required = True
        Handler.tls_data_required = True
    server = ThreadedFTPServer(("127.0.0.1", 0), Handler)
    state.port = server.address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.close_all()
        thread.join(10)
