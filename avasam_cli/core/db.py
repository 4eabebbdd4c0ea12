"""Engines and the unit of work.

SQLite: WAL, a busy timeout, foreign keys, and `BEGIN IMMEDIATE` for write units so two
processes serialise their writes instead of failing on a lock upgrade.
PostgreSQL: writes lock the rows they change (`SELECT ... FOR UPDATE`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from avasam_cli.core import lightdb
from avasam_cli.core.errors import AvasamError, InvalidInput, SchemaOutdated
from avasam_cli.core.lightdb import (  # shared with the light read path
    NOT_INITIALISED,
    Rows,
    busy_message,
    check_revision,
    first_line,
)

T = TypeVar("T")
READ_ONLY = "avasam_read_only"


def redact_url(url: str) -> str:
    """The URL fit to show: password and secret-looking query parameters as ***."""
    from avasam_cli.core.config import mask_url

    return mask_url(url)


def make_engine(url: str, *, create: bool = False) -> Engine:
    """An engine for the workspace at `url`. A SQLite file that is not there is created only
    with `create` (avasam init): any other command says to run init rather than leave an
    empty database behind."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(
            "the database URL is not valid; use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, create=create)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed)
    raise InvalidInput(
        f"unsupported database {parsed.get_backend_name()!r}; use SQLite or PostgreSQL"
    )


POSTGRES_DRIVER = "psycopg"


def _postgres_engine(parsed: URL) -> Engine:
    # A bare postgresql:// would mean psycopg2 to SQLAlchemy; avasam speaks psycopg 3.
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername=f"postgresql+{POSTGRES_DRIVER}")
    if parsed.get_driver_name() != POSTGRES_DRIVER:
        raise InvalidInput(
            f"unsupported PostgreSQL driver {parsed.get_driver_name()!r}; "
            "use postgresql+psycopg://USER@HOST/DB"
        )
    try:
        import psycopg  # noqa: F401  (only to find out whether the extra is installed)
    except ImportError:
        raise InvalidInput(
            "PostgreSQL needs its driver, which is not installed: pip install 'avasam[postgres]'"
        ) from None
    return create_engine(parsed, pool_pre_ping=False, connect_args={"connect_timeout": 10})


def _sqlite_engine(url: str, database: str | None, *, create: bool) -> Engine:
    if database and database != ":memory:":
        _sqlite_file(Path(database), create=create)
    engine = create_engine(url, connect_args={"timeout": lightdb.BUSY_SECONDS})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={lightdb.BUSY_SECONDS * 1000}")
        # 64 MiB of page cache (default 2 MiB): bulk intake and matching update many index
        # pages; with the default they thrash.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _sqlite_file(path: Path, *, create: bool) -> None:
    """Customer data is owner-only: the folder 0700 and the file 0600 when avasam creates
    them (SQLite gives its -wal and -shm files the database file's permissions)."""
    if path.exists():
        return
    if not create:
        raise SchemaOutdated(NOT_INITIALISED)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise InvalidInput(f"cannot create the database {path}: {exc.strerror}") from None


def schema_revision(engine: Engine) -> str | None:
    try:
        # Read-only (a plain BEGIN): a writer holding the database never blocks the check.
        with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError) as exc:
        if "alembic_version" in str(exc) or "no such table" in str(exc):
            return None
        raise


def ensure_current_schema(engine: Engine) -> None:
    try:
        revision = schema_revision(engine)
    except OperationalError as exc:
        raise AvasamError(
            f"cannot open the database {redact_url(str(engine.url))}: "
            f"{first_line(exc)}; check the URL and that the server is running"
        ) from None
    check_revision(revision)


# PostgreSQL's "deadlock detected" and "could not serialize": the transaction was rolled
# back whole, and running it again is the documented remedy.
RETRYABLE_SQLSTATES = ("40P01", "40001")
CONFLICT_ATTEMPTS = 3


def is_conflict(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_conflicts(action: Callable[[], T]) -> T:
    """Run one unit of work again (up to three times in all) when PostgreSQL aborted it as
    a deadlock or a serialization failure; anything else, or a third conflict, is raised."""
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return action()
        except OperationalError as exc:
            if not is_conflict(exc) or attempt == CONFLICT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def describe_database_error(exc: BaseException) -> str:
    """One line for a failure of the database itself, naming the cause people can act on."""
    line = first_line(exc)
    if "database is locked" in line:
        return busy_message()
    return f"the database failed: {line}"


def session_rows(session: Session) -> Rows:
    """A session as `Rows`, for the plain-SQL rules shared with the light read path: `?`
    placeholders become SQLAlchemy's named ones."""

    def rows(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        parts = sql.split("?")
        named = "".join(f"{part}:p{i}" for i, part in enumerate(parts[:-1])) + parts[-1]
        values = {f"p{i}": value for i, value in enumerate(params)}
        return [tuple(row) for row in session.execute(text(named), values)]

    return rows


class UnitOfWork:
    """`with uow: ...; uow.commit()`. Leaving the block without commit rolls back."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
        self._bind = bind
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self._bind, expire_on_commit=False, autoflush=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
