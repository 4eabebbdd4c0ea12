"""init, db, the schema check and the global options."""

from __future__ import annotations

from pathlib import Path

from avasam_cli.core.lightdb import HEAD_REVISION
from tests.support import Cli


def test_init_twice_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    first = cli.ok("init")
    assert "was empty" in first.stderr
    second = cli.ok("init")
    assert f"is up to date (revision {HEAD_REVISION})" in second.stderr
    current = cli.ok("db", "current")
    assert current.stdout.splitlines() == [f"current: {HEAD_REVISION}", f"head: {HEAD_REVISION}"]


def test_default_database_is_in_the_user_data_dir(cli: Cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AVASAM_DATABASE_URL")
    cli.ok("init")
    assert (tmp_path / "xdg" / "avasam" / "avasam.db").exists()


def test_db_option_beats_the_environment(cli: Cli, tmp_path: Path) -> None:
    cli.ok("--db", f"sqlite:///{tmp_path / 'other.db'}", "init")
    assert (tmp_path / "other.db").exists()
    assert not (tmp_path / "default.db").exists()


def test_commands_refuse_an_uninitialised_database(cli: Cli) -> None:
    run = cli("suppliers", "list")
    assert run.exit_code == 1
    assert run.stderr.strip() == (
        f"Error: the database is not initialised (this avasam needs {HEAD_REVISION}); "
        "run `avasam init`"
    )


def test_commands_refuse_a_database_behind_the_newest_revision(cli: Cli) -> None:
    cli.ok("init")
    cli.ok("db", "downgrade", "base")
    run = cli("account", "balance")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: the database is not initialised")
    assert "run `avasam init`" in run.stderr


def test_unknown_revision_is_a_clear_error(cli: Cli) -> None:
    cli.ok("init")
    run = cli("db", "downgrade", "nope")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: ")
    assert "Traceback" not in run.stderr


def test_a_bad_url_is_a_clear_error_without_the_password(cli: Cli) -> None:
    run = cli("--db", "postgresql+psycopg://u:s3cret@127.0.0.1:1/x", "suppliers", "list")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: cannot open the database")
    assert "s3cret" not in run.stderr


def test_postgresql_without_its_extra_names_the_extra(cli: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if `avasam[postgres]` was not installed
    run = cli("--db", "postgresql://u@127.0.0.1:1/x", "suppliers", "list")
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: PostgreSQL needs its driver, which is not installed: "
        "pip install 'avasam[postgres]'\n"
    )


def test_a_bare_postgresql_url_uses_psycopg(cli: Cli) -> None:
    # Not psycopg2 (SQLAlchemy's default for postgresql://): the server is simply not there.
    run = cli("--db", "postgresql://u:s3cret@127.0.0.1:1/x", "suppliers", "list")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: cannot open the database postgresql+psycopg://u:***@")
    assert "s3cret" not in run.stderr


def test_another_postgresql_driver_is_refused(cli: Cli) -> None:
    run = cli("--db", "postgresql+psycopg2://u@127.0.0.1:1/x", "suppliers", "list")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: unsupported PostgreSQL driver 'psycopg2'")
