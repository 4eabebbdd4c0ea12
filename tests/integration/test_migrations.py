"""Migrations are code: one head, upgrade from empty, down and up again, no drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from avasam_cli.core.db import make_engine
from avasam_cli.core.lightdb import HEAD_REVISION
from avasam_cli.core.migrate import alembic_config, current_revision, downgrade, upgrade
from avasam_cli.core.models import Base


def test_one_head_and_the_code_knows_it() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads == [HEAD_REVISION]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return str(request.getfixturevalue("empty_pg_url"))


def test_upgrade_from_empty_creates_every_table(empty_url: str) -> None:
    engine = make_engine(empty_url, create=True)
    upgrade(engine)
    assert current_revision(engine) == HEAD_REVISION
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_url: str) -> None:
    engine = make_engine(empty_url, create=True)
    upgrade(engine)
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == HEAD_REVISION
    engine.dispose()


def test_models_match_migrations(empty_url: str) -> None:
    engine = make_engine(empty_url, create=True)
    upgrade(engine)
    with engine.begin() as conn:
        command.check(alembic_config(conn))  # raises when autogenerate finds drift
    engine.dispose()


def test_each_step_downgrades_and_upgrades(empty_url: str) -> None:
    engine = make_engine(empty_url, create=True)
    revisions = [s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    for revision in reversed(revisions):
        upgrade(engine, revision)
        assert current_revision(engine) == revision
    for revision in revisions[1:]:
        downgrade(engine, revision)
        assert current_revision(engine) == revision
    engine.dispose()
