"""Settings from the environment: one clear Error line for a bad value, and `avasam config`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import Cli


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("AVASAM_HTTP_TIMEOUT", "abc"),
        ("AVASAM_HTTP_TIMEOUT", "nan"),
        ("AVASAM_HTTP_BACKOFF", "-1"),
        ("AVASAM_EXPORT_TIMEOUT", "0"),
        ("AVASAM_EXPORT_BACKOFF", "inf"),
        ("AVASAM_NOW", "tomorrow"),
        ("AVASAM_TIMEZONE", "Mars/Olympus"),
    ],
)
def test_a_bad_setting_is_one_error_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, name: str, bad: str
) -> None:
    monkeypatch.setenv(name, bad)
    run = cli("channels", "pull", "--all")
    assert run.exit_code == 1
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"Error: {name} {bad!r} ")
    assert "Traceback" not in run.stderr


def test_the_http_timeout_error_says_what_is_good(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVASAM_HTTP_TIMEOUT", "abc")
    run = cli("channels", "pull", "--all")
    assert (run.exit_code, run.stderr) == (
        1,
        (
            "Error: AVASAM_HTTP_TIMEOUT 'abc' must be a number of seconds more than 0 and at most "
            "3600, like 30\n"
        ),
    )


def test_config_lists_every_setting_with_the_password_masked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AVASAM_HTTP_TIMEOUT", "12.5")
    monkeypatch.setenv("AVASAM_DATABASE_URL", "postgresql+psycopg://bob:hunter2@db.invalid/shop")
    table = cli.ok("config")
    assert "hunter2" not in table.stdout + table.stderr
    assert "postgresql+psycopg://bob:***@db.invalid/shop" in table.stdout
    http = next(line for line in table.stdout.splitlines() if "AVASAM_HTTP_TIMEOUT" in line)
    assert http.split()[:3] == ["AVASAM_HTTP_TIMEOUT", "12.5", "30"]

    rows = {row["variable"]: row for row in json.loads(cli.ok("config", "-f", "json").stdout)}
    assert rows["AVASAM_HTTP_TIMEOUT"]["value"] == "12.5"
    assert rows["AVASAM_HTTP_TIMEOUT"]["default"] == "30"
    assert rows["AVASAM_HTTP_TIMEOUT"]["meaning"]
    assert rows["AVASAM_DATABASE_URL"]["value"] == "postgresql+psycopg://bob:***@db.invalid/shop"
    assert rows["AVASAM_ACTOR"]["value"] == "tester"
    assert rows["XDG_DATA_HOME"]["value"] == str(tmp_path / "xdg" / "avasam")


def test_config_needs_no_database(cli: Cli, tmp_path: Path) -> None:
    # AVASAM_DATABASE_URL points at tmp_path/default.db, which does not exist.
    rows = json.loads(cli.ok("config", "-f", "json").stdout)
    assert rows[0]["value"] == f"sqlite:///{tmp_path / 'default.db'}"
    assert not (tmp_path / "default.db").exists()


def test_config_with_a_bad_setting_is_the_same_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVASAM_MATCH_WINDOW", "soon")
    run = cli("config")
    assert (run.exit_code, run.stdout, run.stderr) == (
        1,
        "",
        "Error: AVASAM_MATCH_WINDOW 'soon' must be like 4d, 12h or 30m\n",
    )
