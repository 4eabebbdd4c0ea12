"""Days and spans that people type (`2026-11-28`, `today`, `yesterday`, `7d`, `12h`, `3mo`),
in the business timezone, turned into UTC instants for queries.

`--since` means the same in every command: a day (from its first instant) or a span back
from now. Months are calendar months (dateutil's relativedelta: 3mo before 31 May is 28 Feb),
which a fixed number of days cannot say.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from avasam_cli.core.errors import InvalidInput

_SPAN = re.compile(r"^([0-9]{1,5})(h|d|w|mo)$")
_MAX_SPAN = timedelta(days=366 * 30)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
_UNIT_DAYS = {"h": 1 / 24, "d": 1, "w": 7, "mo": 31}


class NotADay(InvalidInput):
    """Text that is not a day at all (as opposed to a day outside the range we accept)."""


def parse_day(text: str, tz: ZoneInfo, now: datetime) -> date:
    word = text.strip().lower()
    today = now.astimezone(tz).date()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise NotADay(
            f"day {text!r} is not a date; write it like 2026-11-28, today or yesterday"
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:  # orders are of this century; beyond, dates overflow
        raise InvalidInput(f"day {text!r} is outside {FIRST_DAY} to {LAST_DAY}")
    return day


def start_of(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in the business timezone (DST-aware)."""
    return datetime.combine(day, time.min, tzinfo=tz)


def parse_since(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """The instant `--since TEXT` starts at: a day's first instant, or now minus a span."""
    from dateutil.relativedelta import relativedelta

    match = _SPAN.match(text.strip().lower())
    if not match:
        try:
            return start_of(parse_day(text, tz, now), tz)
        except NotADay:
            raise InvalidInput(
                f"--since {text!r} is neither a day nor a span; write it like "
                "2026-11-01, yesterday, 12h, 7d, 2w or 3mo"
            ) from None
    count, unit = int(match.group(1)), match.group(2)
    if count * _UNIT_DAYS[unit] > _MAX_SPAN.days:  # before any date arithmetic can overflow
        raise InvalidInput(f"--since {text!r} reaches back more than 30 years")
    if unit == "h":  # hours are elapsed time, even across a clock change
        return now - timedelta(hours=count)
    # days, weeks and months are on the calendar: 7d before 09:00 is 09:00, whatever the clock
    span = {
        "d": relativedelta(days=count),
        "w": relativedelta(weeks=count),
        "mo": relativedelta(months=count),
    }[unit]
    start: datetime = now.astimezone(tz) - span
    return start


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
        return parse_since(since, tz, now), None
    start = start_of(parse_day(from_, tz, now), tz) if from_ else None
    end = start_of(parse_day(to, tz, now) + timedelta(days=1), tz) if to else None
    if start and end and end <= start:
        raise InvalidInput("--from is after --to")
    return start, end
