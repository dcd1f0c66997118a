"""Named windows are the reader's calendar days, right across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.sessions.windows import WINDOW_NAMES, named_window, next_days

PARIS = ZoneInfo("Europe/Paris")


def test_next_days() -> None:
    now = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
    assert next_days(now) == next_days(now, 14)
    window = next_days(now, 3)
    assert (window.start, window.end, window.label) == (now, now + timedelta(days=3), "the next 3 days")
    assert next_days(now, 1).label == "the next day"


def test_today_and_tomorrow_are_local_days() -> None:
    now = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)  # 00:30 on 11 March in Paris
    today = named_window("today", now, PARIS)
    assert today.start == now
    assert today.end == datetime(2025, 3, 12, 0, 0, tzinfo=PARIS)
    tomorrow = named_window("tomorrow", now, PARIS)
    assert (tomorrow.start, tomorrow.end) == (today.end, datetime(2025, 3, 13, 0, 0, tzinfo=PARIS))


def test_tomorrow_across_the_clock_change_is_23_hours() -> None:
    now = datetime(2025, 3, 29, 12, 0, tzinfo=PARIS)
    tomorrow = named_window("tomorrow", now, PARIS)
    assert tomorrow.end.astimezone(UTC) - tomorrow.start.astimezone(UTC) == timedelta(hours=23)


def test_week_and_month() -> None:
    now = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
    assert named_window("week", now, PARIS).end == now + timedelta(days=7)
    assert named_window("month", now, PARIS).end == now + timedelta(days=30)
    assert set(WINDOW_NAMES) == {"today", "tomorrow", "week", "month"}


def test_unknown_window() -> None:
    with pytest.raises(ValueError, match="today, tomorrow, week, month"):
        named_window("fortnight", datetime(2025, 3, 10, tzinfo=UTC), PARIS)
