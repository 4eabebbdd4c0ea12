"""Five-field cron schedules (minute hour day-of-month month day-of-week) in the business
timezone: validation, the next run after a time, and whether a run has come due.

The syntax and matching are cronsim's (Debian cron): `*`, lists `1,15`, ranges `1-5`, steps
`*/15`, names in any case (`mon-fri`, `JAN-MAR`), `L` (last day of the month), `LW` (last
weekday), `mon#2` (second Monday), `5L` (last Friday); weekday 0 and 7 are Sunday; when both
day fields are restricted (neither starts with `*`) either one matches.

Clock changes. A *slot* is a wall-clock minute the expression matches. Every slot runs once,
at the first instant the clock shows it. In Europe/London:
- Repeated hour (last Sunday of October, 02:00 BST -> 01:00 GMT): 01:00-01:59 runs in the
  first pass (BST) only. `*/15` runs 01:00, 01:15, 01:30, 01:45 BST, then 02:00 GMT.
- Gap (last Sunday of March, 01:00 GMT -> 02:00 BST): 01:00-01:59 never shows, so those
  slots run at the end of the gap, 02:00 BST (as Debian cron does for `30 1 * * *`). If
  several slots fall in the gap, they become one run.
cronsim only gets naive wall-clock times, and this module places each slot. The reason:
cronsim's own aware iteration steps in UTC when the minute or hour starts with `*`. That
would run the repeated hour twice and drop the gap's slots (`30 * * * *`).

Slots are whole minutes. Times are compared minute by minute, so a run that started at
10:30:20 counts as the run for the 10:30 slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from avasam_cli.core.errors import InvalidInput

_MINUTE = timedelta(minutes=1)
_PROBE = datetime(2000, 1, 1)  # where parse_schedule looks for a first run
_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31 or L (also LW)"),
    ("month", "1-12 or jan-dec"),
    ("day of week", "0-7 or sun-sat (also mon#2, 5L)"),
)


@dataclass(frozen=True)
class Schedule:
    text: str

    def next_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first run after `moment`'s minute, as an aware time in `tz`."""
        return self._next_instant(moment, tz).astimezone(tz)

    def _next_instant(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """next_after in UTC. Compare in UTC: Python's `==` across zones is always False
        when one side is in a repeated hour (PEP 495)."""
        after = moment.astimezone(UTC).replace(second=0, microsecond=0)
        wall = after.astimezone(tz).replace(tzinfo=None, fold=0)
        # cronsim yields slots after `wall` in wall-clock order, and their instants never go
        # down, so the first slot later than `after` is the answer. If `after` is in the
        # second pass of a repeated hour, the slots before it ran in the first pass: skip them.
        for slot in CronSim(self.text, wall):  # gives up (StopIteration) after 50 years
            at = _first_instant(slot, tz)
            if at > after:
                return at
        raise InvalidInput(_never(self.text))


def parse_schedule(text: str) -> Schedule:
    parts = text.split()
    if len(parts) != 5:  # cronsim would also take a leading seconds field; cron does not
        raise InvalidInput(
            f"schedule {text!r} must have five fields: minute hour day month "
            "weekday, e.g. '*/15 * * * *'"
        )
    if not _parses(text):
        raise InvalidInput(_problem(text, parts))
    # Refuse here, when the export is saved, a schedule whose days never meet, such as
    # `0 0 */31 * mon#5` (the 1st that is a fifth Monday); cronsim gives up after 50 years.
    if next(CronSim(text, _PROBE), None) is None:
        raise InvalidInput(_never(text))
    return Schedule(text)


def is_due(
    schedule: Schedule, last_run: datetime | None, now: datetime, tz: ZoneInfo, created: datetime
) -> bool:
    """Due when a slot has come since the last run (or since creation, if it never ran).
    Missed slots collapse into one run. It looks only for the first slot after the last
    run, not at every slot since, so it stays cheap however long ago that run was."""
    return schedule._next_instant(last_run or created, tz) <= now.astimezone(UTC)


def _first_instant(slot: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant the clock in `tz` first shows the naive wall time `slot`."""
    # A time in the spring gap never shows: use the first minute after it that does. That
    # is the end of the gap, so the loop is at most as long as the gap.
    while slot.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) != slot:
        slot += _MINUTE
    return slot.replace(tzinfo=tz, fold=0).astimezone(UTC)  # fold=0: first of a repeat


def _parses(text: str) -> bool:
    try:
        CronSim(text, _PROBE)
    except (CronSimError, ValueError):  # ValueError: int() refuses numbers > 4300 digits
        return False
    return True


def _problem(text: str, parts: list[str]) -> str:
    """Name the bad field. cronsim only says "Bad <field>", and it also gives that for
    good fields that can never match together."""
    for index, (name, allowed) in enumerate(_FIELDS):
        probe = ["*"] * 5
        probe[index] = parts[index]
        if not _parses(" ".join(probe)):
            return (
                f"schedule {text!r}: {name} {parts[index]!r} is not valid; use {allowed}, "
                "lists (1,15), ranges (1-5) or steps (*/15)"
            )
    return (
        f"schedule {text!r} never runs: day of month {parts[2]!r} does not occur in "
        f"month {parts[3]!r}"
    )


def _never(text: str) -> str:
    return f"schedule {text!r} never runs: check its day of month, month and day of week"
