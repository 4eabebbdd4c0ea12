"""Fixtures shared by every layer.

Every test runs with its database and config in tmp_path. `db_url` is parametrised over
SQLite and a real PostgreSQL server that this suite starts itself on loopback.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from avasam_cli.core.db import make_engine
from avasam_cli.core.migrate import upgrade
from tests.support import Cli, PostgresServer, new_pg_database, start_postgres


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("AVASAM_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("AVASAM_ACTOR", "tester")
    # Import feeds wait this long between two listings of a supplier's folder; tests make a
    # file change between the listings themselves instead of waiting (test_imports.py).
    monkeypatch.setenv("AVASAM_IMPORT_SETTLE", "0")
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    external = os.environ.get("AVASAM_TEST_PG_PORT")
    if external:
        yield PostgresServer(int(external))
        return
    with start_postgres() as server:
        yield server


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


@pytest.fixture
def empty_pg_url(postgres_server: PostgresServer) -> str:
    return new_pg_database(postgres_server, None)


# --- a migrated database of each kind ---------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(f"sqlite:///{path}", create=True)
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


@pytest.fixture
def cli() -> Cli:
    return Cli()
