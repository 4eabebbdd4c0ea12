"""Days that people type (`2026-11-28`, `today`, `yesterday`, `7d`), in the business
timezone, turned into UTC instants for queries."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from avasam_cli.core.errors import InvalidInput

_SPAN = re.compile(r"^(\d{1,4})d$")


def parse_day(text: str, tz: ZoneInfo, now: datetime) -> date:
    word = text.strip().lower()
    today = now.astimezone(tz).date()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise InvalidInput(
            f"day {text!r} is not a date; write it like 2026-11-28, today or yesterday"
        ) from None


def start_of(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in the business timezone (DST-aware)."""
    return datetime.combine(day, time.min, tzinfo=tz)


def parse_span(text: str) -> timedelta:
    """'7d' -> 7 days."""
    match = _SPAN.match(text.strip().lower())
    if not match:
        raise InvalidInput(f"{text!r} is not a number of days; write it like 7d")
    return timedelta(days=int(match.group(1)))


def day_window(
    tz: ZoneInfo,
    now: datetime,
    *,
    on: str | None = None,
    since: str | None = None,
    from_: str | None = None,
    to: str | None = None,
) -> tuple[datetime | None, datetime | None]:
    """[start, end) in UTC for --date / --since / --from --to (inclusive days)."""
    if on and (from_ or to or since):
        raise InvalidInput("--date cannot be combined with --from, --to or --since")
    if since and (from_ or to):
        raise InvalidInput("--since cannot be combined with --from or --to")
    if on:
        day = parse_day(on, tz, now)
        return start_of(day, tz), start_of(day + timedelta(days=1), tz)
    if since:
        return now - parse_span(since), None
    start = start_of(parse_day(from_, tz, now), tz) if from_ else None
    end = start_of(parse_day(to, tz, now) + timedelta(days=1), tz) if to else None
    if start and end and end <= start:
        raise InvalidInput("--from is after --to")
    return start, end
