"""An unexpected failure is one `Error:` line, its traceback goes to an owner-only log, and
its transaction is rolled back (issue 11, item 14)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from avasam_cli.core.db import UnitOfWork
from tests.support import Cli

COMMIT = UnitOfWork.commit
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def fail_on_commit(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def commit(self: UnitOfWork) -> None:
        self.session.flush()  # the rows are written, then the commit fails
        raise exc

    monkeypatch.setattr(UnitOfWork, "commit", commit)


def suppliers(cli: Cli) -> list[str]:
    return [row["code"] for row in json.loads(cli.ok("suppliers", "list", "-f", "json").stdout)]


@SQLITE_ONLY
def test_an_unexpected_failure_is_one_line_and_a_log(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_on_commit(monkeypatch, ValueError("the first line\nsecond line with more"))
    run = cli("suppliers", "add", "ELM", "--name", "Elm Ltd")
    log = tmp_path / "state" / "avasam" / "errors.log"
    assert run.exit_code == 1
    assert run.stdout == ""
    assert run.stderr == (
        f"Error: unexpected failure (ValueError: the first line); details in {log}\n"
    )
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "second line with more" in text
    monkeypatch.setattr(UnitOfWork, "commit", COMMIT)
    assert suppliers(cli) == []  # rolled back


@SQLITE_ONLY
def test_a_database_error_shows_only_the_drivers_first_line(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = IntegrityError(
        "INSERT INTO orders (address1) VALUES (?)",
        {"address1": "1 Secret Road"},
        Exception("UNIQUE constraint failed: orders.reference\nDETAIL: Key (x)=(Secret)"),
    )
    fail_on_commit(monkeypatch, error)
    run = cli("suppliers", "add", "ELM", "--name", "Elm Ltd")
    log = tmp_path / "state" / "avasam" / "errors.log"
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: unexpected failure (IntegrityError: UNIQUE constraint failed: "
        f"orders.reference); details in {log}\n"
    )
    assert "Secret" not in run.stderr
    assert "1 Secret Road" in log.read_text()  # the owner-only log has it all


@SQLITE_ONLY
def test_an_unwritable_error_log_is_said_not_raised(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "avasam").write_text("a file where the folder belongs")
    fail_on_commit(monkeypatch, OverflowError("Python int too large to convert"))
    run = cli("suppliers", "add", "ELM", "--name", "Elm Ltd")
    assert run.exit_code == 1
    assert run.stderr == (
        "Error: unexpected failure (OverflowError: Python int too large to convert); "
        "details could not be saved\n"
    )


@SQLITE_ONLY
def test_ctrl_c_is_exit_130_without_a_traceback(
    cli: Cli, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_on_commit(monkeypatch, KeyboardInterrupt())
    run = cli("suppliers", "add", "ELM", "--name", "Elm Ltd")
    assert run.exit_code == 130
    assert "Traceback" not in run.stderr
    assert "unexpected" not in run.stderr


def test_usage_errors_stay_exit_2(cli: Cli) -> None:
    run = cli("orders", "list", "--limit", "99999999999999999999")
    assert run.exit_code == 2
    assert "Error: Invalid value for '--limit'" in run.stderr


def test_undecodable_arguments_are_a_usage_error(cli: Cli) -> None:
    run = cli("suppliers", "show", "caf\udce9")
    assert run.exit_code == 2
    assert "Error: the argument 'caf\\\\udce9' is not valid text" in run.stderr


@SQLITE_ONLY
def test_bad_paths_are_refused_at_the_edge(cli: Cli, db_url: str, tmp_path: Path) -> None:
    run = cli("orders", "add", "--from-file", str(tmp_path))
    assert run.exit_code == 2
    assert "is a directory" in run.stderr
    cli.ok("suppliers", "add", "OAKCO", "--name", "Oak")
    cli.ok(
        "exports", "add", "oak", "--supplier", "OAKCO", "--protocol", "file",
        "--remote-dir", str(tmp_path),
    )  # fmt: skip
    run = cli("exports", "run", "oak", "--dry-run", "--output", str(tmp_path / "no" / "x.csv"))
    assert (run.exit_code, run.stderr) == (
        1,
        f"Error: --output {str(tmp_path / 'no' / 'x.csv')!r} is not in a folder that exists; "
        "name a file in an existing folder\n",
    )
    run = cli("exports", "edit", "oak", "--key-file", str(tmp_path))
    assert (run.exit_code, run.stderr) == (
        1,
        f"Error: --key-file: {str(tmp_path)!r} is not a file that exists\n",
    )


@SQLITE_ONLY
def test_a_job_that_fails_unexpectedly_records_no_secret(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from avasam_cli.commands import orders

    def broken(*args: object) -> object:
        raise IntegrityError(
            "UPDATE orders SET address1=?", {"address1": "1 Secret Road"}, Exception("no room")
        )

    monkeypatch.setattr(orders, "_processed", broken)
    run = cli("orders", "process")
    log = tmp_path / "state" / "avasam" / "errors.log"
    assert (run.exit_code, run.stderr) == (
        1,
        f"Error: unexpected failure (IntegrityError: no room); details in {log}\n",
    )
    status = cli("status", "-f", "json")
    assert status.exit_code == 1
    process = next(j for j in json.loads(status.stdout)["jobs"] if j["job"] == "process")
    assert process["outcome"] == "failed"
    assert process["counts"] == {"error": "IntegrityError: no room"}
    assert "Secret" not in status.stdout


def test_a_reader_that_goes_away_ends_the_output_quietly(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    """`avasam orders list --all | head -1`: no error line, no traceback."""
    import subprocess
    import sys

    from tests.helpers import bulk_open_orders, set_up_catalogue

    set_up_catalogue(cli, tmp_path)
    bulk_open_orders(cli, tmp_path, 400)  # more than a pipe's 64 KiB of JSON Lines
    proc = subprocess.Popen(
        [sys.executable, "-m", "avasam_cli", "orders", "list", "--all", "-f", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith("{")
    proc.stdout.close()  # as `head -1` does
    assert proc.wait(timeout=60) == 1
    assert proc.stderr.read() == ""
