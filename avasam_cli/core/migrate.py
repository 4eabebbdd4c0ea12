"""Run Alembic from inside avasam (no alembic.ini needed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine

import avasam_cli
from avasam_cli.core.errors import InvalidInput


def migrations_dir() -> Path:
    """The migrations ship inside the package: the wheel carries what the source tree has."""
    return Path(avasam_cli.__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    _check_revision(revision)
    with _alembic_errors(), engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    _check_revision(revision)
    with _alembic_errors(), engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def _check_revision(revision: str) -> None:
    if not revision.strip():  # Alembic asserts on an empty name instead of saying so
        raise InvalidInput("name a revision: head, base, or one `avasam db current` shows")


@contextmanager
def _alembic_errors() -> Iterator[None]:
    try:
        yield
    except CommandError as exc:
        raise InvalidInput(f"{exc}; see `avasam db current`") from None
