"""The settings module: every variable's default, a good value, and hostile values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from avasam_cli.core.config import Settings, describe, mask_url
from avasam_cli.core.errors import InvalidInput

BASE = {"AVASAM_DATABASE_URL": "sqlite:////tmp/avasam-test.db", "AVASAM_ACTOR": "tester"}


def resolve(**env: str) -> Settings:
    return Settings.resolve(None, {**BASE, **env})


def test_defaults() -> None:
    s = Settings.resolve(None, {})
    home = Path.home()
    assert s.database_url == f"sqlite:///{home / '.local/share/avasam/avasam.db'}"
    assert s.timezone.key == "Europe/London"
    assert s.actor  # the login name
    assert s.match_window == timedelta(days=4)
    assert (s.http_timeout, s.http_backoff) == (30.0, 1.0)
    assert (s.export_timeout, s.export_backoff) == (30.0, 2.0)
    assert s.log_file is None
    assert s.data_dir == home / ".local/share/avasam"
    assert s.state_dir == home / ".local/state/avasam"
    assert s.pinned_now is None


def test_blank_values_are_defaults() -> None:
    s = resolve(AVASAM_HTTP_TIMEOUT="", AVASAM_TIMEZONE=" ", AVASAM_NOW="", AVASAM_LOG_FILE="")
    assert (s.http_timeout, s.timezone.key, s.pinned_now, s.log_file) == (
        30.0,
        "Europe/London",
        None,
        None,
    )


def test_good_values() -> None:
    s = resolve(
        AVASAM_TIMEZONE="America/New_York",
        AVASAM_ACTOR="cron",
        AVASAM_MATCH_WINDOW="12h",
        AVASAM_HTTP_TIMEOUT="0.5",
        AVASAM_HTTP_BACKOFF="0",
        AVASAM_EXPORT_TIMEOUT="3600",
        AVASAM_EXPORT_BACKOFF="2.5",
        AVASAM_LOG_FILE="/var/log/avasam.log",
        XDG_DATA_HOME="/data",
        XDG_STATE_HOME="/state",
        AVASAM_NOW="2026-11-28T12:00:00+01:00",
    )
    assert s.timezone.key == "America/New_York"
    assert s.actor == "cron"
    assert s.match_window == timedelta(hours=12)
    assert (s.http_timeout, s.http_backoff) == (0.5, 0.0)
    assert (s.export_timeout, s.export_backoff) == (3600.0, 2.5)
    assert s.log_file == "/var/log/avasam.log"
    assert (s.data_dir, s.state_dir) == (Path("/data/avasam"), Path("/state/avasam"))
    assert s.pinned_now == datetime(2026, 11, 28, 11, 0, tzinfo=UTC)


def test_the_default_database_follows_the_data_dir() -> None:
    s = Settings.resolve(None, {"XDG_DATA_HOME": "/data"})
    assert s.database_url == "sqlite:////data/avasam/avasam.db"


def test_the_db_option_and_log_file_option_win() -> None:
    s = Settings.resolve(
        "sqlite:////elsewhere.db", {**BASE, "AVASAM_LOG_FILE": "/env.log"}, log_file="/option.log"
    )
    assert (s.database_url, s.log_file) == ("sqlite:////elsewhere.db", "/option.log")


@pytest.mark.parametrize("window", ["0d", "4d", "12h", "30m", " 2D ", "99999d"])
def test_match_windows(window: str) -> None:
    assert resolve(AVASAM_MATCH_WINDOW=window).match_window >= timedelta(0)


@pytest.mark.parametrize("name", ["AVASAM_HTTP_TIMEOUT", "AVASAM_EXPORT_TIMEOUT"])
@pytest.mark.parametrize(
    "bad", ["abc", "nan", "-1", "inf", "-inf", "0", "0.0", "3601", "1e400", "30s", "½", "1,5"]
)
def test_bad_timeouts(name: str, bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(**{name: bad})
    message = str(caught.value)
    assert message.startswith(f"{name} {bad!r} must be a number of seconds more than 0")
    assert "like 30" in message


@pytest.mark.parametrize("name", ["AVASAM_HTTP_BACKOFF", "AVASAM_EXPORT_BACKOFF"])
@pytest.mark.parametrize("bad", ["abc", "nan", "-1", "-0.001", "inf", "3601", "1e400"])
def test_bad_backoffs(name: str, bad: str) -> None:
    with pytest.raises(
        InvalidInput,
        match=rf"^{name} '{bad}' must be a number of seconds "
        r"from 0 to 3600, like \d",
    ):
        resolve(**{name: bad})


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        (
            "AVASAM_MATCH_WINDOW",
            "four days",
            "AVASAM_MATCH_WINDOW 'four days' must be like 4d, 12h or 30m",
        ),
        ("AVASAM_MATCH_WINDOW", "-1d", "AVASAM_MATCH_WINDOW '-1d' must be like 4d, 12h or 30m"),
        ("AVASAM_MATCH_WINDOW", "4", "AVASAM_MATCH_WINDOW '4' must be like 4d, 12h or 30m"),
        (
            "AVASAM_MATCH_WINDOW",
            "123456d",
            "AVASAM_MATCH_WINDOW '123456d' must be like 4d, 12h or 30m",
        ),
        (
            "AVASAM_TIMEZONE",
            "Mars/Olympus",
            "AVASAM_TIMEZONE 'Mars/Olympus' is not a known timezone; use an IANA name like "
            "Europe/London or UTC",
        ),
        ("AVASAM_TIMEZONE", "America", "AVASAM_TIMEZONE 'America' is not a known timezone"),
        ("AVASAM_TIMEZONE", "../../etc/passwd", "AVASAM_TIMEZONE '../../etc/passwd' is not"),
        ("AVASAM_TIMEZONE", "x" * 300, "AVASAM_TIMEZONE 'xxxx"),
        (
            "AVASAM_NOW",
            "yesterday",
            "AVASAM_NOW 'yesterday' must be an ISO 8601 time with an offset between the years "
            "2000 and 2100, like 2026-11-28T12:00:00+00:00",
        ),
        ("AVASAM_NOW", "2026-11-28T12:00:00", "AVASAM_NOW '2026-11-28T12:00:00' must be"),
        ("AVASAM_ACTOR", "a" * 101, "AVASAM_ACTOR 'aaaa"),
        ("AVASAM_ACTOR", "bob\nrm -rf", "AVASAM_ACTOR 'bob\\nrm -rf' must be a printable name"),
        ("XDG_DATA_HOME", "relative/dir", "XDG_DATA_HOME 'relative/dir' must be an absolute path"),
        ("XDG_STATE_HOME", "state", "XDG_STATE_HOME 'state' must be an absolute path"),
        (
            "AVASAM_DATABASE_URL",
            "not a url",
            "AVASAM_DATABASE_URL (or --db) 'not a url' is not a database URL; use sqlite:///PATH",
        ),
    ],
)
def test_bad_values_name_the_variable_and_the_value(name: str, bad: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(**{name: bad})
    assert str(caught.value).startswith(message)


def test_a_bad_url_with_a_password_does_not_show_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(AVASAM_DATABASE_URL="bob:hunter2@db.example/shop")
    assert "hunter2" not in str(caught.value)
    assert "'***@db.example/shop'" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://bob:hunter2@db.example:5432/shop",
            "postgresql+psycopg://bob:***@db.example:5432/shop",
        ),
        ("postgresql+psycopg://bob:p%40ss%2Fw@db/shop", "postgresql+psycopg://bob:***@db/shop"),
        (
            "postgresql+psycopg://bob@db/shop?password=hunter2&sslmode=require",
            "postgresql+psycopg://bob@db/shop?password=***&sslmode=require",
        ),
        ("sqlite:////tmp/a.db", "sqlite:////tmp/a.db"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_describe_lists_every_setting_with_secrets_masked() -> None:
    s = Settings.resolve(
        "postgresql+psycopg://bob:hunter2@db/shop",
        {**BASE, "AVASAM_HTTP_TIMEOUT": "12.5", "AVASAM_MATCH_WINDOW": "90m"},
    )
    rows = {row["variable"]: row for row in describe(s)}
    assert set(rows) == {
        "AVASAM_DATABASE_URL",
        "AVASAM_TIMEZONE",
        "AVASAM_ACTOR",
        "AVASAM_MATCH_WINDOW",
        "AVASAM_HTTP_TIMEOUT",
        "AVASAM_HTTP_BACKOFF",
        "AVASAM_EXPORT_TIMEOUT",
        "AVASAM_EXPORT_BACKOFF",
        "AVASAM_IMPORT_SETTLE",
        "AVASAM_LOG_FILE",
        "AVASAM_NOW",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
    }
    assert all(
        set(row) == {"variable", "value", "default", "meaning"} and row["meaning"]
        for row in rows.values()
    )
    assert rows["AVASAM_DATABASE_URL"]["value"] == "postgresql+psycopg://bob:***@db/shop"
    assert "hunter2" not in repr(describe(s))
    assert (rows["AVASAM_HTTP_TIMEOUT"]["value"], rows["AVASAM_HTTP_TIMEOUT"]["default"]) == (
        "12.5",
        "30",
    )
    assert rows["AVASAM_MATCH_WINDOW"]["value"] == "90m"
    assert rows["AVASAM_EXPORT_BACKOFF"]["default"] == "2"
    assert rows["AVASAM_NOW"]["value"] is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AVASAM_NOW", "0001-01-01T00:00:00+14:00", "between the years 2000 and 2100"),
        ("AVASAM_NOW", "9999-12-31T23:59:59-14:00", "between the years 2000 and 2100"),
        ("AVASAM_DATABASE_URL", "postgresql://u:secret@host:abc/x", "is not a database URL"),
        ("AVASAM_DATABASE_URL", "postgresql://u:secret@[::1", "is not a database URL"),
        ("AVASAM_LOG_FILE", "/", "is a folder, not a file"),
        ("AVASAM_LOG_FILE", "/etc/passwd/x.log", "cannot be created: /etc/passwd is not a folder"),
        ("XDG_DATA_HOME", "/etc/passwd", "is not a folder"),
        ("XDG_STATE_HOME", "/etc/passwd/deeper", "is not in a folder that exists"),
        ("XDG_DATA_HOME", "/" + "a" * 300, "cannot be used"),
    ],
)
def test_hostile_paths_urls_and_times(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        resolve(**{name: value})
    assert "secret" not in str(caught.value)


def test_a_query_string_password_is_masked() -> None:
    assert mask_url("postgresql://u@h/db?password=s3cret&sslmode=require") == (
        "postgresql://u@h/db?password=***&sslmode=require"
    )


def test_a_query_string_password_in_an_unparseable_url_is_masked() -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(AVASAM_DATABASE_URL="postgresql://h:abc/db?password=sekrit&x=1")
    assert "sekrit" not in str(caught.value)
    assert "password=***" in str(caught.value)
