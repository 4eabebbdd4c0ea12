"""The light read path: the database's own driver, no SQLAlchemy.

`orders list`, `--count`, `orders show` and `orders audit` answer in a fraction of a
second at a million orders; importing SQLAlchemy alone (0.16 s) and mapping our models
(0.11 s more) would take most of that budget. These commands speak SQL to `sqlite3` or
psycopg here; everything else uses the engine of `core/db.py`. The SQL is written with
`?` placeholders and works on both databases; `LightDB` adapts the placeholders.

The schema check, the rules for the URL and the wording of errors are the same as the
engine's (`core/db.py` imports the shared parts from here).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from avasam_cli.core.errors import AvasamError, InvalidInput, SchemaOutdated

# The newest Alembic revision. A test checks it equals the head of migrations/versions,
# so commands can check the schema without loading Alembic.
HEAD_REVISION = "0012"
BUSY_SECONDS = 30  # how long a SQLite writer waits for another one (busy_timeout)
NOT_INITIALISED = (
    f"the database is not initialised (this avasam needs {HEAD_REVISION}); run `avasam init`"
)
# SQLAlchemy's SQLite DateTime format: naive UTC text that sorts as it compares.
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def escape_like(text: str) -> str:
    """Text for a LIKE pattern with escape "\\": its own %, _ and \\ match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def check_revision(revision: str | None) -> None:
    """Raise SchemaOutdated unless the database is at this avasam's revision."""
    if revision is None:
        raise SchemaOutdated(NOT_INITIALISED)
    if revision.isdigit() and int(revision) > int(HEAD_REVISION):
        raise SchemaOutdated(
            f"the database is at revision {revision}, newer than this avasam knows "
            f"({HEAD_REVISION}): it was written by a newer avasam; upgrade avasam"
        )
    if revision != HEAD_REVISION:
        raise SchemaOutdated(
            f"the database is at revision {revision} (this avasam needs {HEAD_REVISION}); "
            "run `avasam init`"
        )


def busy_message() -> str:
    return (
        f"the database is busy: another avasam process kept it locked for {BUSY_SECONDS} s "
        "(a long import or pull?); try again when it has finished"
    )


def first_line(exc: BaseException) -> str:
    """The first line of a driver error, for one `Error:` line."""
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


class Rows(Protocol):
    """Run one SQL statement (`?` placeholders) and give back its rows as tuples."""

    def __call__(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class LightDB:
    """One connection of the workspace, opened on first use: read-only, or (`write`) in
    autocommit for the few single-statement writes of the job records (core/jobs.py)."""

    def __init__(self, url: str, *, write: bool = False) -> None:
        self.url = url
        self.dialect = _dialect(url)
        self.write = write
        self._conn: Any = None

    # -- connection ---------------------------------------------------------------------

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._open()
            try:
                check_revision(self._revision())
            except BaseException:
                self.close()
                raise
        return self._conn

    def _open(self) -> Any:
        if self.dialect == "sqlite":
            path = sqlite_path(self.url)
            if path is not None and not Path(path).exists():
                raise SchemaOutdated(NOT_INITIALISED)
            try:
                local = sqlite3.connect(
                    path or ":memory:", timeout=BUSY_SECONDS, isolation_level=None
                )
                local.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
                if not self.write:
                    local.execute("PRAGMA query_only=1")
            except sqlite3.Error as exc:
                raise self._cannot_open(exc) from None
            return local
        try:
            import psycopg
        except ImportError:
            raise InvalidInput(
                "PostgreSQL needs its driver, which is not installed: "
                "pip install 'avasam[postgres]'"
            ) from None
        try:
            server = psycopg.connect(_libpq_uri(self.url), connect_timeout=10)
        except psycopg.Error as exc:
            raise self._cannot_open(exc) from None
        if self.write:
            server.autocommit = True  # each statement its own transaction
        else:
            server.read_only = True  # every transaction of this connection only reads
        return server

    def _cannot_open(self, exc: BaseException) -> AvasamError:
        from avasam_cli.core.config import mask_url

        return AvasamError(
            f"cannot open the database {mask_url(self.url)}: {first_line(exc)}; "
            "check the URL and that the server is running"
        )

    def _revision(self) -> str | None:
        try:
            rows = self._execute("SELECT version_num FROM alembic_version", ()).fetchall()
        except AvasamError as exc:
            if "alembic_version" in str(exc):
                return None
            raise
        return str(rows[0][0]) if rows else None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- statements ---------------------------------------------------------------------

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._execute(sql, params).fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A statement that returns no rows (an UPDATE), committed at once (`write`)."""
        self._execute(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows one batch at a time: a server-side cursor on PostgreSQL, SQLite's own
        stepping otherwise, so a million rows print with flat memory."""
        conn = self._connection()
        if self.dialect == "sqlite":
            yield from self._guarded(lambda: conn.execute(sql, tuple(params)))
            return
        with conn.cursor(name="avasam_stream") as cursor:
            cursor.itersize = 1000
            yield from self._guarded(lambda: cursor.execute(_pg_sql(sql), tuple(params)))

    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        conn = self._connection()
        if self.dialect == "sqlite":
            return self._call(lambda: conn.execute(sql, tuple(params)))
        return self._call(lambda: conn.execute(_pg_sql(sql), tuple(params)))

    def _call(self, action: Any) -> Any:
        try:
            return action()
        except (sqlite3.Error, _pg_error()) as exc:
            raise self._failed(exc) from None

    def _guarded(self, start: Any) -> Iterator[tuple[Any, ...]]:
        cursor = self._call(start)
        while True:
            batch = self._call(lambda: cursor.fetchmany(1000))
            if not batch:
                return
            yield from batch

    def _failed(self, exc: BaseException) -> AvasamError:
        line = first_line(exc)
        if "database is locked" in line:
            return AvasamError(busy_message())
        return AvasamError(f"the database failed: {line}")

    # -- values -------------------------------------------------------------------------

    def time_param(self, value: datetime) -> Any:
        """A bind value for a UTC timestamp column."""
        value = value.astimezone(UTC)
        if self.dialect == "sqlite":
            return value.replace(tzinfo=None).strftime(SQLITE_TIME)
        return value

    def time_value(self, raw: Any) -> datetime | None:
        """A timestamp column's value as an aware UTC datetime."""
        if raw is None:
            return None
        if isinstance(raw, str):
            return datetime.fromisoformat(raw).replace(tzinfo=UTC)
        value: datetime = raw
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _dialect(url: str) -> str:
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgresql+psycopg"):
        return "postgresql"
    # Anything else is refused by the engine's own checks, with their wording.
    from avasam_cli.core.db import make_engine

    make_engine(url).dispose()
    raise InvalidInput(
        "the database URL is not valid; use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    )


def sqlite_path(url: str) -> str | None:
    rest = url.partition("://")[2]
    if "?" in rest:
        raise InvalidInput("a SQLite URL takes no ?options here; use sqlite:///PATH")
    if not rest.startswith("/") or rest == "/":
        return None  # sqlite:// is a database in memory
    return unquote(rest[1:])  # no `~` expansion: the engine (SQLAlchemy) does none either


def _libpq_uri(url: str) -> str:
    """psycopg takes libpq's URI: SQLAlchemy's without the +driver."""
    return "postgresql://" + url.partition("://")[2]


def _pg_sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def _pg_error() -> type[Exception]:
    try:
        import psycopg
    except ImportError:
        return sqlite3.Error
    return psycopg.Error
