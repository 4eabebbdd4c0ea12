"""Cron schedules in the business timezone, including both clock changes.

Europe/London in 2026: the clocks go forward on Sunday 29 March at 01:00 UTC (01:00 GMT ->
02:00 BST), and back on Sunday 25 October at 01:00 UTC (02:00 BST -> 01:00 GMT). All
expected values below are worked out by hand from those facts and the calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.schedule import Schedule, is_due, parse_schedule

LONDON = ZoneInfo("Europe/London")


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def simulate(
    expr: str, created: datetime, start: datetime, end: datetime, every: int = 1
) -> list[str]:
    """Cron calls `is_due` every `every` minutes from `start` to `end`. Each due export runs,
    and the run's start (a little after cron's call) becomes its last run. Returns when each
    run happened, in local time."""
    schedule = parse_schedule(expr)
    last_run: datetime | None = None
    ran = []
    now = start
    while now <= end:
        if is_due(schedule, last_run, now, LONDON, created):
            ran.append(f"{now.astimezone(LONDON):%Y-%m-%d %H:%M %Z}")
            last_run = now + timedelta(seconds=20)
        now += timedelta(minutes=every)
    return ran


def test_fall_back_hour_runs_each_quarter_once() -> None:
    ran = simulate(
        "*/15 * * * *",
        created=utc(2026, 10, 24, 23, 40),
        start=utc(2026, 10, 24, 23, 40),
        end=utc(2026, 10, 25, 2, 30),
    )
    assert ran == [
        "2026-10-25 00:45 BST",
        "2026-10-25 01:00 BST",
        "2026-10-25 01:15 BST",
        "2026-10-25 01:30 BST",
        "2026-10-25 01:45 BST",
        # 01:00-01:45 GMT are the same wall-clock slots again: they already ran
        "2026-10-25 02:00 GMT",
        "2026-10-25 02:15 GMT",
        "2026-10-25 02:30 GMT",
    ]


def test_fall_back_fixed_time_runs_once_in_the_first_pass() -> None:
    ran = simulate(
        "30 1 * * *",
        created=utc(2026, 10, 24, 12, 0),
        start=utc(2026, 10, 24, 12, 0),
        end=utc(2026, 10, 25, 23, 59),
    )
    assert ran == ["2026-10-25 01:30 BST"]


def test_spring_gap_slot_runs_once_at_the_end_of_the_gap() -> None:
    ran = simulate(
        "30 1 * * *",
        created=utc(2026, 3, 28, 12, 0),
        start=utc(2026, 3, 28, 12, 0),
        end=utc(2026, 3, 29, 23, 59),
    )
    assert ran == ["2026-03-29 02:00 BST"]


def test_spring_gap_with_steps_and_hourly() -> None:
    quarters = simulate(
        "*/15 * * * *",
        created=utc(2026, 3, 29, 0, 20),
        start=utc(2026, 3, 29, 0, 20),
        end=utc(2026, 3, 29, 1, 30),
    )
    assert quarters == [
        "2026-03-29 00:30 GMT",
        "2026-03-29 00:45 GMT",
        "2026-03-29 02:00 BST",
        "2026-03-29 02:15 BST",
        "2026-03-29 02:30 BST",
    ]
    hourly = simulate(
        "30 * * * *",
        created=utc(2026, 3, 29, 0, 0),
        start=utc(2026, 3, 29, 0, 0),
        end=utc(2026, 3, 29, 2, 0),
    )
    assert hourly == ["2026-03-29 00:30 GMT", "2026-03-29 02:00 BST", "2026-03-29 02:30 BST"]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (
            utc(2026, 3, 25, 12, 0),
            [
                "2026-03-26 09:00 GMT",
                "2026-03-27 09:00 GMT",
                "2026-03-28 09:00 GMT",
                "2026-03-29 09:00 BST",
                "2026-03-30 09:00 BST",
                "2026-03-31 09:00 BST",
            ],
        ),
        (
            utc(2026, 10, 21, 12, 0),
            [
                "2026-10-22 09:00 BST",
                "2026-10-23 09:00 BST",
                "2026-10-24 09:00 BST",
                "2026-10-25 09:00 GMT",
                "2026-10-26 09:00 GMT",
                "2026-10-27 09:00 GMT",
            ],
        ),
    ],
)
def test_daily_runs_at_nine_local_across_a_clock_change(
    start: datetime, expected: list[str]
) -> None:
    ran = simulate("0 9 * * *", created=start, start=start, end=start + timedelta(days=6), every=5)
    assert ran == expected


def test_missed_slots_collapse_into_one_run() -> None:
    hourly = parse_schedule("0 * * * *")
    created = utc(2026, 11, 28, 10, 5)
    assert not is_due(hourly, None, utc(2026, 11, 28, 10, 59), LONDON, created)
    # down from 10:05 to 13:30: 11:00, 12:00 and 13:00 were missed, one run makes up for them
    assert is_due(hourly, None, utc(2026, 11, 28, 13, 30), LONDON, created)
    last_run = utc(2026, 11, 28, 13, 30, 4)
    assert not is_due(hourly, last_run, utc(2026, 11, 28, 13, 59, 59), LONDON, created)
    assert is_due(hourly, last_run, utc(2026, 11, 28, 14, 0), LONDON, created)
    # a year down is still one run, and is found without walking the year
    assert simulate(
        "0 * * * *",
        created=utc(2025, 1, 1, 0, 30),
        start=utc(2026, 1, 1, 0, 30),
        end=utc(2026, 1, 1, 1, 30),
    ) == ["2026-01-01 00:30 GMT", "2026-01-01 01:00 GMT"]


def test_seconds_round_down_to_the_slot() -> None:
    daily = parse_schedule("30 10 * * *")
    created = utc(2026, 1, 15, 9, 0)
    assert not is_due(daily, None, utc(2026, 1, 15, 10, 29, 59), LONDON, created)
    assert is_due(daily, None, utc(2026, 1, 15, 10, 30, 0), LONDON, created)
    ran_at = utc(2026, 1, 15, 10, 30, 20)  # the 10:30 slot's run
    assert not is_due(daily, ran_at, utc(2026, 1, 15, 10, 31), LONDON, created)
    assert not is_due(daily, ran_at, utc(2026, 1, 16, 10, 29, 59), LONDON, created)
    assert is_due(daily, ran_at, utc(2026, 1, 16, 10, 30), LONDON, created)
    # created within the slot's minute: that slot is not owed
    assert not is_due(daily, None, utc(2026, 1, 15, 10, 45), LONDON, utc(2026, 1, 15, 10, 30, 5))


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("*/15 * * * *", utc(2026, 1, 15, 10, 5, 30), utc(2026, 1, 15, 10, 15)),
        ("*/15 * * * *", utc(2026, 1, 15, 10, 14, 59), utc(2026, 1, 15, 10, 15)),
        ("*/15 * * * *", utc(2026, 1, 15, 10, 15), utc(2026, 1, 15, 10, 30)),
        ("0 9 * * *", utc(2026, 7, 1, 9, 0), utc(2026, 7, 2, 8, 0)),  # 09:00 BST
        # the repeated hour: 01:10 BST, 01:50 BST, 01:20 GMT (second pass)
        ("*/15 * * * *", utc(2026, 10, 25, 0, 10), utc(2026, 10, 25, 0, 15)),
        ("*/15 * * * *", utc(2026, 10, 25, 0, 50), utc(2026, 10, 25, 2, 0)),
        ("*/15 * * * *", utc(2026, 10, 25, 1, 20), utc(2026, 10, 25, 2, 0)),
        ("30 1 * * *", utc(2026, 10, 25, 1, 0), utc(2026, 10, 26, 1, 30)),
        # the gap: 01:30 does not exist on 29 March, 02:00 BST is 01:00 UTC
        ("30 1 * * *", utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0)),
        ("30 1 * * *", utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)),
        # names, any case
        ("0 9 * * mon-fri", utc(2026, 1, 16, 9, 0), utc(2026, 1, 19, 9, 0)),  # Fri -> Mon
        ("0 9 * * MON-FRI", utc(2026, 1, 17, 12, 0), utc(2026, 1, 19, 9, 0)),
        ("0 6 1 jan-mar *", utc(2026, 3, 2, 0, 0), utc(2027, 1, 1, 6, 0)),
        ("0 6 1 JAN-MAR *", utc(2026, 1, 1, 6, 0), utc(2026, 2, 1, 6, 0)),
        ("0 6 1 jan *", utc(2026, 1, 1, 6, 0), utc(2027, 1, 1, 6, 0)),
        # L: last day of the month (00:00 BST on 30 April is 23:00 UTC on the 29th)
        ("0 0 L * *", utc(2026, 2, 10, 0, 0), utc(2026, 2, 28, 0, 0)),
        ("0 0 L * *", utc(2028, 2, 10, 0, 0), utc(2028, 2, 29, 0, 0)),
        ("0 0 L * *", utc(2026, 4, 1, 0, 0), utc(2026, 4, 29, 23, 0)),
        # #: the nth weekday of the month; 5L: the last Friday
        ("0 12 * * mon#2", utc(2026, 1, 1, 0, 0), utc(2026, 1, 12, 12, 0)),
        ("0 12 * * mon#2", utc(2026, 1, 12, 12, 0), utc(2026, 2, 9, 12, 0)),
        ("0 18 * * 5L", utc(2026, 1, 1, 0, 0), utc(2026, 1, 30, 18, 0)),
        # both day fields restricted: either one (the 13th, or any Friday)
        ("0 0 13 * fri", utc(2026, 1, 1, 0, 0), utc(2026, 1, 2, 0, 0)),
        ("0 0 13 * fri", utc(2026, 1, 9, 0, 0), utc(2026, 1, 13, 0, 0)),
        # 0 and 7 are both Sunday
        ("0 8 * * 7", utc(2026, 1, 1, 0, 0), utc(2026, 1, 4, 8, 0)),
        ("0 8 * * 0", utc(2026, 1, 1, 0, 0), utc(2026, 1, 4, 8, 0)),
    ],
)
def test_next_after(expr: str, after: datetime, expected: datetime) -> None:
    got = parse_schedule(expr).next_after(after, LONDON)
    assert got.astimezone(UTC) == expected  # `==` across zones is False in a repeated hour
    assert got.tzinfo is LONDON
    assert got.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) == got.replace(tzinfo=None)


def test_next_after_in_the_gap_is_a_real_local_time() -> None:
    got = parse_schedule("30 1 * * *").next_after(utc(2026, 3, 29, 0, 0), LONDON)
    assert (f"{got:%Y-%m-%d %H:%M %Z}", got.utcoffset()) == (
        "2026-03-29 02:00 BST",
        timedelta(hours=1),
    )


def test_text_is_kept() -> None:
    assert parse_schedule("*/15 * * * *").text == "*/15 * * * *"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "every hour",
            "schedule 'every hour' must have five fields: minute hour day month weekday, e.g. '*/15 * * * *'",
        ),
        (
            "",
            "schedule '' must have five fields: minute hour day month weekday, e.g. '*/15 * * * *'",
        ),
        (
            "0 */15 * * * *",
            "schedule '0 */15 * * * *' must have five fields: minute hour day month weekday, e.g. '*/15 * * * *'",
        ),
        (
            "61 * * * *",
            "schedule '61 * * * *': minute '61' is not valid; use 0-59, lists (1,15), ranges (1-5) or steps (*/15)",
        ),
        (
            "* 24 * * *",
            "schedule '* 24 * * *': hour '24' is not valid; use 0-23, lists (1,15), ranges (1-5) or steps (*/15)",
        ),
        (
            "* * 0 * *",
            "schedule '* * 0 * *': day of month '0' is not valid; use 1-31 or L (also LW), lists (1,15), ranges (1-5) or steps (*/15)",
        ),
        (
            "* * * smarch *",
            "schedule '* * * smarch *': month 'smarch' is not valid; use 1-12 or jan-dec, lists (1,15), ranges (1-5) or steps (*/15)",
        ),
        (
            "* * * * fri-mon",
            "schedule '* * * * fri-mon': day of week 'fri-mon' is not valid; use 0-7 or sun-sat (also mon#2, 5L), lists (1,15), ranges (1-5) or steps (*/15)",
        ),
        (
            "* * * * mon#6",
            "schedule '* * * * mon#6': day of week 'mon#6' is not valid; use 0-7 or sun-sat (also mon#2, 5L), lists (1,15), ranges (1-5) or steps (*/15)",
        ),
        (
            "*/0 * * * *",
            "schedule '*/0 * * * *': minute '*/0' is not valid; use 0-59, lists (1,15), ranges (1-5) or steps (*/15)",
        ),
        (
            "١ * * * *",
            "schedule '١ * * * *': minute '١' is not valid; use 0-59, lists (1,15), ranges (1-5) or steps (*/15)",
        ),
        (
            "0 0 30 2 *",
            "schedule '0 0 30 2 *' never runs: day of month '30' does not occur in month '2'",
        ),
        (
            "0 0 */31 * mon#5",
            "schedule '0 0 */31 * mon#5' never runs: check its day of month, month and day of week",
        ),
    ],
)
def test_invalid_schedules_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_schedule(text)
    assert str(raised.value) == message


def test_absurd_numbers_are_refused_not_crashed() -> None:
    with pytest.raises(InvalidInput, match="minute '1111"):
        parse_schedule("1" * 5000 + " * * * *")


def test_next_after_refuses_a_schedule_that_never_runs() -> None:
    # built directly, past parse_schedule's check: next_after still ends, with InvalidInput
    never = Schedule("0 0 */31 * mon#5")  # the 1st of a month that is its fifth Monday
    with pytest.raises(InvalidInput, match="never runs"):
        never.next_after(utc(2026, 1, 1, 0, 0), LONDON)
    with pytest.raises(InvalidInput, match="never runs"):
        is_due(never, None, utc(2026, 1, 1, 0, 0), LONDON, utc(2025, 1, 1, 0, 0))
