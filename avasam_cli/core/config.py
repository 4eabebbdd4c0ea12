"""The settings module: every environment setting is read here, once, and validated.

`Settings.resolve` reads the environment (the only place in avasam that does) when a
command first asks for its workspace; the `Workspace` carries the result. A bad value is
one `InvalidInput` naming the variable, the value and what a good one looks like.
`describe` lists the settings for `avasam config`, with secrets masked. Channel and
export secrets, whose variable the user names, are read with `env_secret` at the moment
they are needed, and never kept here.
"""

from __future__ import annotations

import getpass
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from avasam_cli.core.errors import InvalidInput

DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_MATCH_WINDOW = "4d"
DEFAULT_HTTP_TIMEOUT = 30.0
DEFAULT_HTTP_BACKOFF = 1.0
DEFAULT_EXPORT_TIMEOUT = 30.0
DEFAULT_EXPORT_BACKOFF = 2.0
DEFAULT_IMPORT_SETTLE = 10.0
MAX_SECONDS = 3600.0  # one hour: anything longer is a typo, not a tuning
MAX_ACTOR = 100  # the width of the audit trail's `actor` column
MASK = "***"

_WINDOW = re.compile(r"^(\d{1,5})([dhm])$")
_SECRET_QUERY_KEY = re.compile(r"pass|secret|token|key", re.IGNORECASE)

_Get = Callable[[str], str | None]  # a variable's value; None when unset or blank


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: ZoneInfo
    actor: str
    match_window: timedelta
    http_timeout: float
    http_backoff: float
    export_timeout: float
    export_backoff: float
    import_settle: float
    log_file: str | None
    data_dir: Path
    state_dir: Path
    pinned_now: datetime | None

    @classmethod
    def resolve(
        cls, db: str | None, env: Mapping[str, str] | None = None, *, log_file: str | None = None
    ) -> Settings:
        """Read and check every setting. `db` (--db) and `log_file` (--log-file) are the
        root options, which win over their variables; `env` defaults to the process's."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value and value.strip() else None

        data_dir = _xdg_dir(get, "XDG_DATA_HOME", Path(".local") / "share")
        url = db or get("AVASAM_DATABASE_URL") or default_database_url(data_dir)
        return cls(
            database_url=_database_url(url),
            timezone=resolve_timezone(get("AVASAM_TIMEZONE")),
            actor=_actor(get("AVASAM_ACTOR")),
            match_window=parse_window(get("AVASAM_MATCH_WINDOW") or DEFAULT_MATCH_WINDOW),
            http_timeout=_seconds(get, "AVASAM_HTTP_TIMEOUT", DEFAULT_HTTP_TIMEOUT, zero=False),
            http_backoff=_seconds(get, "AVASAM_HTTP_BACKOFF", DEFAULT_HTTP_BACKOFF, zero=True),
            export_timeout=_seconds(
                get, "AVASAM_EXPORT_TIMEOUT", DEFAULT_EXPORT_TIMEOUT, zero=False
            ),
            export_backoff=_seconds(
                get, "AVASAM_EXPORT_BACKOFF", DEFAULT_EXPORT_BACKOFF, zero=True
            ),
            import_settle=_seconds(get, "AVASAM_IMPORT_SETTLE", DEFAULT_IMPORT_SETTLE, zero=True),
            log_file=_log_file(log_file or get("AVASAM_LOG_FILE")),
            data_dir=data_dir,
            state_dir=_xdg_dir(get, "XDG_STATE_HOME", Path(".local") / "state"),
            pinned_now=_pinned_now(get("AVASAM_NOW")),
        )


def env_secret(name: str) -> str | None:
    """The value of the environment variable a user named to hold a secret, or None."""
    return os.environ.get(name) or None


def default_database_url(data_dir: Path) -> str:
    """A SQLite file in the user's data directory (XDG), created on `avasam init`."""
    return f"sqlite:///{data_dir / 'avasam.db'}"


def resolve_timezone(name: str | None) -> ZoneInfo:
    name = name or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"AVASAM_TIMEZONE {name!r} is not a known timezone; use an IANA "
            "name like Europe/London or UTC"
        ) from None


def parse_window(text: str) -> timedelta:
    """AVASAM_MATCH_WINDOW: how long an unlinked order waits before it is `unmatched`."""
    found = _WINDOW.match(text.strip().lower())
    if not found:
        raise InvalidInput(f"AVASAM_MATCH_WINDOW {text!r} must be like 4d, 12h or 30m")
    unit = {"d": "days", "h": "hours", "m": "minutes"}[found.group(2)]
    return timedelta(**{unit: int(found.group(1))})


def mask_url(url: str) -> str:
    """A database URL fit to show: its password, and any secret-looking query parameter
    (`?password=...`), as ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return _mask_unparsed(url)
    shown = parsed.set(query={}).render_as_string(hide_password=True)
    pairs = [
        (key, MASK if _SECRET_QUERY_KEY.search(key) else quote_plus(value))
        for key, values in parsed.query.items()
        for value in ((values,) if isinstance(values, str) else values)
    ]
    if pairs:
        shown += "?" + "&".join(f"{quote_plus(key)}={value}" for key, value in pairs)
    return shown


def url_has_secret(url: str) -> bool:
    """A password in the URL itself, or in a secret-looking query parameter."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return bool(parsed.password) or any(_SECRET_QUERY_KEY.search(key) for key in parsed.query)


def describe(settings: Settings) -> list[dict[str, Any]]:
    """Every setting: its variable, current value (text, secrets masked), default and
    meaning, for `avasam config`. None where there is no value or no default."""
    s = settings

    def row(variable: str, value: str | None, default: str | None, meaning: str) -> dict[str, Any]:
        return {"variable": variable, "value": value, "default": default, "meaning": meaning}

    return [
        row(
            "AVASAM_DATABASE_URL",
            mask_url(s.database_url),
            mask_url(default_database_url(s.data_dir)),
            "The workspace database: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB "
            "(--db wins).",
        ),
        row(
            "AVASAM_TIMEZONE",
            s.timezone.key,
            DEFAULT_TIMEZONE,
            "Business timezone of the days people type and see (IANA name).",
        ),
        row(
            "AVASAM_ACTOR",
            s.actor,
            "your login name",
            "Who acts, in the audit trail (cron jobs set it).",
        ),
        row(
            "AVASAM_MATCH_WINDOW",
            _window_text(s.match_window),
            DEFAULT_MATCH_WINDOW,
            "How long an order with an unlinked SKU waits before it is unmatched "
            "(like 4d, 12h, 30m).",
        ),
        row(
            "AVASAM_HTTP_TIMEOUT",
            _number(s.http_timeout),
            _number(DEFAULT_HTTP_TIMEOUT),
            "Seconds a channel API request may take.",
        ),
        row(
            "AVASAM_HTTP_BACKOFF",
            _number(s.http_backoff),
            _number(DEFAULT_HTTP_BACKOFF),
            "Seconds before a channel API request is retried (doubling each time).",
        ),
        row(
            "AVASAM_EXPORT_TIMEOUT",
            _number(s.export_timeout),
            _number(DEFAULT_EXPORT_TIMEOUT),
            "Seconds an FTP/FTPS/SFTP connection or reply may take.",
        ),
        row(
            "AVASAM_EXPORT_BACKOFF",
            _number(s.export_backoff),
            _number(DEFAULT_EXPORT_BACKOFF),
            "Seconds before an export upload is retried (doubling each time).",
        ),
        row(
            "AVASAM_IMPORT_SETTLE",
            _number(s.import_settle),
            _number(DEFAULT_IMPORT_SETTLE),
            "Seconds an import waits between two listings of the supplier's folder: a file "
            "whose size or time changed meanwhile is still being written.",
        ),
        row(
            "AVASAM_LOG_FILE",
            s.log_file,
            None,
            "Jobs append one line per run to this file (--log-file wins).",
        ),
        row(
            "AVASAM_NOW",
            s.pinned_now.isoformat() if s.pinned_now else None,
            None,
            "Pins the clock (ISO 8601 with offset), for tests and demos.",
        ),
        row(
            "XDG_DATA_HOME",
            str(s.data_dir),
            "~/.local/share/avasam",
            "avasam's data directory is $XDG_DATA_HOME/avasam (the default database).",
        ),
        row(
            "XDG_STATE_HOME",
            str(s.state_dir),
            "~/.local/state/avasam",
            "avasam's state directory is $XDG_STATE_HOME/avasam (the cron jobs' log).",
        ),
    ]


# --- reading one setting ---------------------------------------------------------------


def _seconds(get: _Get, name: str, default: float, *, zero: bool) -> float:
    text = get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    low_ok = value >= 0 if zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= MAX_SECONDS):
        bounds = "from 0 to" if zero else "more than 0 and at most"
        raise InvalidInput(
            f"{name} {text!r} must be a number of seconds {bounds} "
            f"{MAX_SECONDS:g}, like {default:g}"
        )
    return value


def _xdg_dir(get: _Get, name: str, fallback: Path) -> Path:
    base = get(name)
    if base is None:
        return Path.home() / fallback / "avasam"
    if not Path(base).is_absolute():  # the XDG spec: relative paths are invalid
        raise InvalidInput(
            f"{name} {base!r} must be an absolute path, like {Path.home() / fallback}"
        )
    problem = _not_a_folder(Path(base))
    if problem:
        raise InvalidInput(f"{name} {base!r} {problem}")
    return Path(base) / "avasam"


def _log_file(path: str | None) -> str | None:
    """--log-file / AVASAM_LOG_FILE: a file we can append to, in a folder that exists."""
    if path is None:
        return None
    where = Path(path)
    try:
        if where.is_dir():
            problem = "is a folder, not a file"
        elif not where.parent.is_dir():  # the first job run creates the folder, if it can
            folder = _not_a_folder(where.parent)
            if folder is None:
                return path
            problem = f"cannot be created: {where.parent} {folder}"
        elif not os.access(where if where.exists() else where.parent, os.W_OK):
            problem = "cannot be written"
        else:
            return path
    except OSError as exc:  # e.g. a name too long for the file system
        problem = f"cannot be used ({exc.strerror})"
    raise InvalidInput(
        f"AVASAM_LOG_FILE (or --log-file) {path!r} {problem}; "
        "name a file in an existing, writable folder"
    )


def _not_a_folder(path: Path) -> str | None:
    """Why `path` cannot be (or become) a folder of ours, or None when it can."""
    try:
        if path.exists():
            return None if path.is_dir() else "is not a folder"
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is None or not parent.is_dir():
            return "is not in a folder that exists"
        return None if os.access(parent, os.W_OK) else f"cannot be created in {parent}"
    except OSError as exc:  # e.g. a name too long for the file system
        return f"cannot be used ({exc.strerror})"


# SQLAlchemy's own URL pattern (`_parse_url` in sqlalchemy/engine/url.py): a well-formed
# URL is accepted without importing SQLAlchemy (0.16 s), which the light read path never
# loads; anything else goes to SQLAlchemy itself, for its exact verdict.
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
        (?:(?:\[(?P<ipv6host>[^/\?]+)\]|(?P<ipv4host>[^/:\?]+))?(?::(?P<port>[^/\?]*))?)?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)


def _database_url(url: str) -> str:
    found = _URL.match(url)
    if found and (found["port"] is None or found["port"].isdigit()) and "%" not in url:
        return url
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018  (a port that is not a number fails only when read)
    except (ArgumentError, ValueError):
        raise InvalidInput(
            f"AVASAM_DATABASE_URL (or --db) {_mask_unparsed(url)!r} is not a "
            "database URL; use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from None
    return url


def _mask_unparsed(url: str) -> str:
    # Not a URL, but it may still hold `user:password@` (hide what sits before the @) or a
    # secret-looking query parameter (`?password=...`: hide its value).
    shown = re.sub(r"^[^@]*@", f"{MASK}@", url)
    return re.sub(
        r"([?&][^=&]*(?:pass|secret|token|key)[^=&]*=)[^&]*",
        rf"\1{MASK}",
        shown,
        flags=re.IGNORECASE,
    )


def _actor(explicit: str | None) -> str:
    """AVASAM_ACTOR (set by cron jobs), else the login."""
    if explicit is None:
        try:
            return getpass.getuser()[:MAX_ACTOR]
        except (KeyError, OSError):
            return "unknown"
    if len(explicit) > MAX_ACTOR or not explicit.isprintable():
        raise InvalidInput(
            f"AVASAM_ACTOR {explicit[:40]!r} must be a printable name of at "
            f"most {MAX_ACTOR} characters, like alice or cron"
        )
    return explicit


def _pinned_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or not 2000 <= value.year <= 2100:
        raise InvalidInput(
            f"AVASAM_NOW {text!r} must be an ISO 8601 time with an offset "
            "between the years 2000 and 2100, like 2026-11-28T12:00:00+00:00"
        )
    return value.astimezone(UTC)


def _number(value: float) -> str:
    return f"{value:g}"


def _window_text(window: timedelta) -> str:
    minutes = int(window.total_seconds()) // 60
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"
