"""Named time windows ("today", "week"…) as aware datetimes: pure functions of `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

DEFAULT_DAYS = 14
WINDOW_NAMES = ("today", "tomorrow", "week", "month")


@dataclass(frozen=True)
class Window:
    """Sessions starting in [start, end) are in the window; `label` is how a person says it."""

    label: str
    start: datetime
    end: datetime


def next_days(now: datetime, days: int = DEFAULT_DAYS) -> Window:
    label = "the next day" if days == 1 else f"the next {days} days"
    return Window(label, now, now + timedelta(days=days))


def named_window(name: str, now: datetime, zone: tzinfo) -> Window:
    """`today` and `tomorrow` are the reader's calendar days; `week` is 7 days, `month` 30."""
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date(), time(), tzinfo=zone)
    if name == "today":
        return Window("today", now, _next_midnight(midnight, zone))
    if name == "tomorrow":
        start = _next_midnight(midnight, zone)
        return Window("tomorrow", start, _next_midnight(start, zone))
    if name == "week":
        return Window("the next 7 days", now, now + timedelta(days=7))
    if name == "month":
        return Window("the next 30 days", now, now + timedelta(days=30))
    raise ValueError(f"unknown window {name!r}; use one of {', '.join(WINDOW_NAMES)}")


def _next_midnight(midnight: datetime, zone: tzinfo) -> datetime:
    """The following local midnight, right across daylight-saving changes."""
    return datetime.combine(midnight.date() + timedelta(days=1), time(), tzinfo=zone)
