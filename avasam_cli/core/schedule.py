"""Five-field cron expressions (minute hour day-of-month month day-of-week): validation,
the next run after a time, and whether a run has come due since the last one.

Supports `*`, numbers, lists `1,15`, ranges `1-5`, steps `*/15` and `10-50/20`; day of week
0-7 (0 and 7 are Sunday). As in cron, when both day fields are restricted either matches.
Times are evaluated in the business timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from avasam_cli.core.errors import InvalidInput

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
           ("day of week", 0, 7))
_SEARCH_LIMIT = timedelta(days=366 * 5)


@dataclass(frozen=True)
class Schedule:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def matches(self, moment: datetime) -> bool:
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        return moment.month in self.months and self._day_matches(moment)

    def next_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first scheduled minute strictly after `moment`."""
        local = moment.astimezone(tz).replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = local + _SEARCH_LIMIT
        while local < end:
            if local.month not in self.months:
                local = (local.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(
                    day=1)
                continue
            if not self._day_matches(local) or local.hour not in self.hours:
                local = (local + timedelta(hours=1)).replace(minute=0)
                continue
            if local.minute in self.minutes:
                return local
            local += timedelta(minutes=1)
        raise InvalidInput(f"schedule {self.text!r} never runs")

    def last_at_or_before(self, moment: datetime, tz: ZoneInfo) -> datetime | None:
        """The latest scheduled minute at or before `moment` (within the last year)."""
        local = moment.astimezone(tz).replace(second=0, microsecond=0)
        start = local - timedelta(days=366)
        while local > start:
            if self.matches(local):
                return local
            local -= timedelta(minutes=1)
        return None

    def _day_matches(self, local: datetime) -> bool:
        day_ok = local.day in self.days
        weekday_ok = (local.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok


def parse_schedule(text: str) -> Schedule:
    parts = text.split()
    if len(parts) != 5:
        raise InvalidInput(f"schedule {text!r} must have five fields: minute hour day month "
                           "weekday, e.g. '*/15 * * * *'")
    sets = [_field(part, name, low, high, text) for part, (name, low, high)
            in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])
    return Schedule(text, sets[0], sets[1], sets[2], sets[3], weekdays,
                    any_day=parts[2] == "*", any_weekday=parts[4] == "*")


def is_due(schedule: Schedule, last_run: datetime | None, now: datetime, tz: ZoneInfo,
           created: datetime) -> bool:
    """Due when a scheduled minute has passed since the last run (or since creation).
    Missed runs collapse into one."""
    since = last_run or created
    latest = schedule.last_at_or_before(now, tz)
    return latest is not None and latest > since.astimezone(tz).replace(second=0, microsecond=0)


def _field(part: str, name: str, low: int, high: int, text: str) -> frozenset[int]:
    values: set[int] = set()
    for item in part.split(","):
        base, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                start, end = low, high
            elif "-" in base:
                first, last = base.split("-", 1)
                start, end = int(first), int(last)
            else:
                start = end = int(base)
                if step_text:
                    end = high
        except ValueError:
            raise InvalidInput(f"schedule {text!r}: {name} {item!r} is not a number, range or "
                               "step") from None
        if step < 1 or start < low or end > high or start > end:
            raise InvalidInput(f"schedule {text!r}: {name} {item!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)
