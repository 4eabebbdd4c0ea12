"""Fixtures shared by every layer.

Every test runs with its database and config in tmp_path. `db_url` is parametrised over
SQLite and a real PostgreSQL server that this suite starts itself on loopback.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from avasam_cli.core.db import make_engine
from avasam_cli.core.migrate import upgrade
from avasam_cli.main import app

# The checkout: scripts/test.sh runs a copy of the tests against the installed wheel and
# says where the source tree is (for files that are not part of the package, e.g. cron/).
REPO = Path(os.environ.get("AVASAM_SOURCE_TREE") or Path(__file__).resolve().parent.parent)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("AVASAM_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("AVASAM_ACTOR", "tester")
    for name in (
        "AVASAM_TIMEZONE",
        "AVASAM_NOW",
        "AVASAM_MATCH_WINDOW",
        "AVASAM_LOG_FILE",
        "AVASAM_HTTP_TIMEOUT",
        "AVASAM_HTTP_BACKOFF",
        "AVASAM_EXPORT_TIMEOUT",
        "AVASAM_EXPORT_BACKOFF",
    ):
        monkeypatch.delenv(name, raising=False)


# --- PostgreSQL -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    pytest.fail("PostgreSQL server binaries not found; run scripts/test.sh, which installs them")


def _as_postgres(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class PostgresServer:
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    external = os.environ.get("AVASAM_TEST_PG_PORT")
    if external:
        yield PostgresServer(int(external))
        return
    bindir = _pg_bin()
    # Not under pytest's tmp dir: that is private to root, and postgres runs as `postgres`.
    base = Path(tempfile.mkdtemp(prefix="avasam-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        _as_postgres(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(sockets),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
            ]
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pg = PostgresServer(port)
    _wait_for(pg)
    yield pg
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(base, ignore_errors=True)


def _wait_for(pg: PostgresServer) -> None:
    engine = create_engine(pg.url("postgres"))
    deadline = time.monotonic() + 60
    while True:
        try:
            with engine.connect():
                break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    engine.dispose()


@pytest.fixture(scope="session")
def pg_template(postgres_server: PostgresServer) -> str:
    """A migrated database that each test copies (CREATE DATABASE ... TEMPLATE)."""
    admin = create_engine(postgres_server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS avasam_template"))
        conn.execute(text("CREATE DATABASE avasam_template"))
    admin.dispose()
    engine = make_engine(postgres_server.url("avasam_template"))
    upgrade(engine)
    engine.dispose()
    return "avasam_template"


def new_pg_database(pg: PostgresServer, template: str | None) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        suffix = f" TEMPLATE {template}" if template else ""
        conn.execute(text(f"CREATE DATABASE {name}{suffix}"))
    admin.dispose()
    return pg.url(name)


@pytest.fixture
def empty_pg_url(postgres_server: PostgresServer) -> str:
    return new_pg_database(postgres_server, None)


# --- a migrated database of each kind ---------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name("template.db-wal").exists()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
) -> str:
    """A migrated, empty workspace; AVASAM_DATABASE_URL points at it."""
    if request.param == "sqlite":
        path = tmp_path / "avasam.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        pg = request.getfixturevalue("postgres_server")
        url = new_pg_database(pg, request.getfixturevalue("pg_template"))
    monkeypatch.setenv("AVASAM_DATABASE_URL", url)
    return url


# --- running the CLI --------------------------------------------------------------------


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli() -> Cli:
    return Cli()


class Cli:
    """Runs `avasam ARGS` in-process, with stdout and stderr apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Run:
        result = self.runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, input: str | None = None) -> Run:
        run = self(*args, input=input)
        assert run.exit_code == 0, f"avasam {' '.join(args)} failed:\n{run.stderr}"
        return run
