"""--since: a day or a span, in the business timezone, across clock changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from avasam_cli.core.days import parse_since
from avasam_cli.core.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
# Monday 30 March 2026, 12:00 BST; the clocks went forward at 01:00 GMT on Sunday 29 March.
NOW = datetime(2026, 3, 30, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        ("2026-03-28", datetime(2026, 3, 28, 0, 0, tzinfo=UTC)),  # midnight GMT
        ("2026-03-30", datetime(2026, 3, 29, 23, 0, tzinfo=UTC)),  # midnight BST
        ("today", datetime(2026, 3, 29, 23, 0, tzinfo=UTC)),
        ("yesterday", datetime(2026, 3, 29, 0, 0, tzinfo=UTC)),
        ("48h", datetime(2026, 3, 28, 11, 0, tzinfo=UTC)),  # elapsed hours
        ("2d", datetime(2026, 3, 28, 12, 0, tzinfo=UTC)),  # 12:00 GMT two calendar days back
        ("1w", datetime(2026, 3, 23, 12, 0, tzinfo=UTC)),
        ("1mo", datetime(2026, 2, 28, 12, 0, tzinfo=UTC)),
        (" 3MO ", datetime(2025, 12, 30, 12, 0, tzinfo=UTC)),
    ],
)
def test_since(text: str, expected_utc: datetime) -> None:
    assert parse_since(text, LONDON, NOW) == expected_utc


def test_a_month_back_from_the_31st_is_the_last_day_of_the_shorter_month() -> None:
    now = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
    assert parse_since("3mo", LONDON, now) == datetime(2026, 2, 28, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["week", "7", "-7d", "7 d", "7m", "1e3d", "２d", "", "99999mo", "11000d"]
)
def test_bad_since_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="--since"):
        parse_since(text, LONDON, NOW)


@pytest.mark.parametrize("text", ["9999-12-31", "1999-12-31", "0001-01-01"])
def test_days_outside_the_century_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="is outside 2000-01-01 to 2100-12-31"):
        parse_since(text, LONDON, NOW)
