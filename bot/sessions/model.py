"""A training session as the bot understands it, parsed leniently from Zoho's JSON.

Zoho gives a date string in the org's configured format and 12-hour wall-clock
times with no zone. The org's zone and date format are settings; a date that
will not parse keeps its raw text, is logged once, and sorts last, so one bad
record never breaks a listing.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Session:
    """One session; `start` and `end` are aware datetimes, or None when Zoho's text would not parse."""

    session_id: str
    module_id: str
    name: str
    start: datetime | None
    end: datetime | None
    raw_date: str
    raw_start_time: str
    raw_end_time: str
    description: str = ""
    session_type: str = ""
    room: str = ""
    trainer: str = ""
    trainer_erecno: str = ""
    """The trainer's employee record in Zoho People: how a trainer is matched to a Slack user."""
    total_learners: int = 0
    completed: bool = False
    locked: bool = False

    @property
    def when_text(self) -> str:
        """Zoho's own words for the time, shown when the dates would not parse."""
        return f"{self.raw_date} {self.raw_start_time}–{self.raw_end_time}".strip()

    def sort_key(self) -> tuple[bool, float, str]:
        return (self.start is None, self.start.timestamp() if self.start else 0.0, self.name)

    def is_over(self, now: datetime) -> bool:
        """Ended before `now`; a session whose end is unknown ends when it starts."""
        finish = self.end or self.start
        return finish is not None and finish <= now


def parse_session(raw: dict[str, Any], zone: ZoneInfo, date_format: str) -> Session:
    """Build a Session from one record of Zoho's `sessions` list."""
    raw_date = _text(raw.get("sessionStartDate"))
    raw_start = _text(raw.get("sessionStartTime"))
    raw_end = _text(raw.get("sessionEndTime"))
    start, end = _moments(raw_date, raw_start, raw_end, zone, date_format)
    if start is None:
        _report_once(raw)
    return Session(
        session_id=_text(raw.get("sessionId") or raw.get("id")),
        module_id=_text(raw.get("moduleId")),
        name=_text(raw.get("sessionName") or raw.get("name")) or "Untitled session",
        start=start,
        end=end,
        raw_date=raw_date,
        raw_start_time=raw_start,
        raw_end_time=raw_end,
        description=_text(raw.get("description")),
        session_type=_text(raw.get("sessionType")),
        room=_text(raw.get("sessionRoom")),
        trainer=_text(raw.get("sessionTrainer")),
        trainer_erecno=_text(raw.get("trainerErecno")),
        total_learners=_int(raw.get("totalLearnersCount")),
        completed=_bool(raw.get("isSessionCompleted")),
        locked=_bool(raw.get("isLocked")),
    )


def _position(date_format: str, *directives: str) -> int:
    """Where the first of `directives` stands in the format (past its end when none does)."""
    found = [at for at in (date_format.find(d) for d in directives) if at >= 0]
    return min(found) if found else len(date_format)


def parse_date(text: str, date_format: str) -> date | None:
    """The configured format first, then dateutil (month names such as 22-Dec-2021)."""
    if not text:
        return None
    try:
        return datetime.strptime(text, date_format).date()
    except ValueError:
        pass
    day = _position(date_format, "%d")
    month = _position(date_format, "%m", "%b", "%B")
    year = _position(date_format, "%Y", "%y")
    try:
        return dateparser.parse(text, dayfirst=day < month, yearfirst=year < min(day, month)).date()
    except (ValueError, OverflowError):
        return None


def parse_time(text: str) -> time | None:
    """12-hour ("11:00 AM", "11:00AM", "11:00 a.m.") or 24-hour wall-clock text."""
    if not text:
        return None
    cleaned = re.sub(r"\s*([AP])\.?M\.?$", r" \1M", " ".join(text.upper().split()))
    for fmt in ("%I:%M %p", "%H:%M", "%I:%M:%S %p", "%H:%M:%S"):
        try:
            return datetime.strptime(cleaned, fmt).time()
        except ValueError:
            continue
    return None


def _moments(
    raw_date: str, raw_start: str, raw_end: str, zone: ZoneInfo, date_format: str
) -> tuple[datetime | None, datetime | None]:
    day = parse_date(raw_date, date_format)
    start_time = parse_time(raw_start)
    if day is None or start_time is None:
        return None, None
    start = datetime.combine(day, start_time, tzinfo=zone)
    end_time = parse_time(raw_end)
    if end_time is None:
        return start, None
    end = datetime.combine(day, end_time, tzinfo=zone)
    if end < start:
        end = datetime.combine(day + timedelta(days=1), end_time, tzinfo=zone)
    return start, end


def _report_once(raw: dict[str, Any]) -> None:
    _report(str(raw.get("sessionId")), str(raw.get("sessionStartDate")), str(raw.get("sessionStartTime")))


@functools.lru_cache(maxsize=4096)
def _report(session_id: str, raw_date: str, raw_time: str) -> None:
    """Logs once per session and text (the cache remembers, boundedly, what was logged)."""
    log.warning(
        "session %s: could not read its date %r / time %r; shown as Zoho wrote it",
        session_id,
        raw_date,
        raw_time,
    )


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
