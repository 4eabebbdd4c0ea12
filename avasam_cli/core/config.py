"""Settings resolved once per command: database URL, business timezone, actor."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from avasam_cli.core.errors import InvalidInput

DEFAULT_TIMEZONE = "Europe/London"


def default_database_url() -> str:
    """A SQLite file in the user's data directory (XDG), created on `avasam init`."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(data_home) / 'avasam' / 'avasam.db'}"


def resolve_timezone(name: str | None) -> ZoneInfo:
    name = name or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown timezone {name!r} in AVASAM_TIMEZONE; use an IANA name such as Europe/London"
        ) from None


def current_actor() -> str:
    """Who is acting, for the audit trail: AVASAM_ACTOR (set by cron jobs), else the login."""
    explicit = os.environ.get("AVASAM_ACTOR")
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: ZoneInfo
    actor: str

    @classmethod
    def resolve(cls, db: str | None) -> Settings:
        url = db or os.environ.get("AVASAM_DATABASE_URL") or default_database_url()
        return cls(
            database_url=url,
            timezone=resolve_timezone(os.environ.get("AVASAM_TIMEZONE")),
            actor=current_actor(),
        )
