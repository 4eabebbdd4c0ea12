"""The SQLite workspace file: created only by `avasam init`, owner-only, readable while
another process writes, and clear about a schema newer than this avasam."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from avasam_cli.core.lightdb import HEAD_REVISION
from tests.support import Cli


def test_only_init_creates_the_database(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'shop.db'}"
    for args in (["account", "balance"], ["db", "current"], ["--cron", "orders", "process"]):
        run = cli("--db", url, *args)
        assert run.exit_code == 1
        assert run.stderr.startswith("Error: the database is not initialised")
    assert not (tmp_path / "new").exists()  # nothing left behind
    cli.ok("--db", url, "init")
    assert (tmp_path / "new" / "shop.db").is_file()


def test_customer_data_is_owner_only(cli: Cli, tmp_path: Path) -> None:
    folder, path = tmp_path / "data", tmp_path / "data" / "shop.db"
    cli.ok("--db", f"sqlite:///{path}", "init")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    holder = sqlite3.connect(path)  # while a connection is open, the WAL file exists
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE IF NOT EXISTS probe (x)")
    holder.commit()
    wal = path.with_name("shop.db-wal")
    assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    holder.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_writer_never_blocks_a_reader(cli: Cli, db_url: str) -> None:
    writer = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    writer.execute("UPDATE accounts SET balance_pence = balance_pence")
    try:
        balance = cli("account", "balance", "-f", "json")
        status = cli("status", "-f", "json")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert balance.exit_code == 0, balance.stderr
    assert '"balance": "0.00"' in balance.stdout
    assert status.exit_code == 0, status.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_from_a_newer_avasam_says_so(cli: Cli, db_url: str) -> None:
    newer = f"{int(HEAD_REVISION) + 1:04d}"
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (newer,))
    run = cli("orders", "list")
    assert run.exit_code == 1
    assert run.stderr == (
        f"Error: the database is at revision {newer}, newer than this avasam knows "
        f"({HEAD_REVISION}): it was written by a newer avasam; upgrade avasam\n"
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_job_locks_are_owner_only(cli: Cli, db_url: str) -> None:
    cli.ok("orders", "process")
    lock = Path(db_url.removeprefix("sqlite:///") + ".process.lock")
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_writer_kept_waiting_is_told_why(
    cli: Cli, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("avasam_cli.core.lightdb.BUSY_SECONDS", 1)  # not 30 s in a test
    writer = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        run = cli("account", "topup", "10")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: the database is busy: another avasam process kept it locked for 1 s "
        "(a long import or pull?); try again when it has finished\n"
    )
    assert cli.ok("account", "balance", "-f", "json").stdout.count('"0.00"') == 1
