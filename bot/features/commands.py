"""What the text after `/sessions` asks for: a pure parser, so bad input changes nothing.

Its `Invalid` messages are mrkdwn: anything typed that they show back is escaped.

/sessions [help]
/sessions <module> [today|tomorrow|week|month]
/sessions digest <module> [at HH:MM] [weekdays] | digest list | digest off <module>
/sessions digest notices off|on                 (change notices for the channel's digests)
/sessions remind <module> [15m|1h|1d]           | remind list | remind off [module]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta

from bot.sessions.windows import WINDOW_NAMES
from bot.slack.text import escape_clip

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_DAY = frozenset(range(7))
DEFAULT_DIGEST_TIME = time(8, 0)
DEFAULT_LEAD = timedelta(minutes=15)
MAX_LEAD = timedelta(days=7)
_LEAD = re.compile(r"^(\d{1,4})\s*(m|min|mins|h|hr|hrs|d|day|days)$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class ShowSessions:
    query: str
    window: str = ""


@dataclass(frozen=True)
class DigestAdd:
    query: str
    at: time = DEFAULT_DIGEST_TIME
    weekdays: frozenset[int] = EVERY_DAY


@dataclass(frozen=True)
class DigestList:
    pass


@dataclass(frozen=True)
class DigestOff:
    query: str


@dataclass(frozen=True)
class DigestNotices:
    """Turn change notices for a channel's digests off or on."""

    on: bool


@dataclass(frozen=True)
class RemindAdd:
    query: str
    lead: timedelta = DEFAULT_LEAD


@dataclass(frozen=True)
class RemindList:
    pass


@dataclass(frozen=True)
class RemindOff:
    query: str = ""


@dataclass(frozen=True)
class Invalid:
    """Input that cannot mean anything: `message` tells the person how to say it."""

    message: str


Command = (
    Help
    | ShowSessions
    | DigestAdd
    | DigestList
    | DigestOff
    | DigestNotices
    | RemindAdd
    | RemindList
    | RemindOff
    | Invalid
)


def parse(text: str) -> Command:
    words = text.split()
    if not words or (len(words) == 1 and words[0].lower() == "help"):
        return Help()
    head = words[0].lower()
    if head == "digest":
        return _digest(words[1:])
    if head == "remind":
        return _remind(words[1:])
    if len(words) > 1 and words[-1].lower() in WINDOW_NAMES:
        return ShowSessions(" ".join(words[:-1]), words[-1].lower())
    return ShowSessions(" ".join(words))


def _digest(words: list[str]) -> Command:
    usage = (
        "Try `/sessions digest onboarding at 08:30 mon-fri`, `/sessions digest list` "
        "or `/sessions digest off onboarding`."
    )
    if not words or (words[0].lower() == "at" and (len(words) == 1 or words[1][:1].isdigit())):
        return Invalid(f"Which module should the digest follow? {usage}")
    head = words[0].lower()
    if head == "list" and len(words) == 1:
        return DigestList()
    if head == "notices" and len(words) == 2 and words[1].lower() in ("on", "off"):
        return DigestNotices(words[1].lower() == "on")
    if head == "off":
        return (
            DigestOff(" ".join(words[1:]))
            if len(words) > 1
            else Invalid(f"Which digest should stop? {usage}")
        )
    lowered = [w.lower() for w in words]
    at = DEFAULT_DIGEST_TIME
    weekdays = EVERY_DAY
    if "at" in lowered[1:] and _names_a_time(lowered):
        index = len(lowered) - 1 - lowered[::-1].index("at")
        tail = words[index + 1 :]
        if not tail:
            return Invalid(f"At what time? {usage}")
        parsed = parse_clock(tail[0])
        if parsed is None:
            return Invalid(f"“{_echo(tail[0])}” is not a time of day such as 08:30 or 9am. {usage}")
        at = parsed
        rest = tail[1:]
        words = words[:index]
        if rest:
            days = parse_weekdays(" ".join(rest))
            if days is None:
                return Invalid(
                    f"“{_echo(' '.join(rest))}” is not a set of weekdays such as mon-fri or mon,wed. {usage}"
                )
            weekdays = days
    elif len(words) > 1 and (days := parse_weekdays(words[-1])) is not None:
        weekdays = days
        words = words[:-1]
    return DigestAdd(" ".join(words), at, weekdays)


def _remind(words: list[str]) -> Command:
    usage = (
        "Try `/sessions remind onboarding 1h`, `/sessions remind list` or `/sessions remind off onboarding`."
    )
    if not words or (len(words) == 1 and _LEAD.match(words[0].lower())):
        return Invalid(f"Which module should I remind you of? {usage}")
    head = words[0].lower()
    if head == "list" and len(words) == 1:
        return RemindList()
    if head == "off":
        return RemindOff(" ".join(words[1:]))
    if len(words) > 1 and _LEAD.match(words[-1].lower()):
        lead = parse_lead(words[-1])
        if lead is None:
            return Invalid(
                f"A reminder can come 1 minute to 7 days before a session, not {_echo(words[-1])}. {usage}"
            )
        return RemindAdd(" ".join(words[:-1]), lead)
    return RemindAdd(" ".join(words))


def _echo(typed: str) -> str:
    """What a person typed, shown back as plain characters (never a live mention or link)."""
    return escape_clip(typed, 100)


def _names_a_time(lowered: list[str]) -> bool:
    """Whether the last "at" introduces a time (`at 9am`, `at 25:00`) rather than being part of
    the module's name ("Safety at work"), or ends the command (`at` alone asks for a time)."""
    index = len(lowered) - 1 - lowered[::-1].index("at")
    tail = lowered[index + 1 :]
    return not tail or tail[0][:1].isdigit()


def parse_lead(text: str) -> timedelta | None:
    """`15m`, `1h`, `1d`: how long before a session; None when out of range or unreadable."""
    match = _LEAD.match(text.strip().lower())
    if match is None:
        return None
    amount = int(match.group(1))
    unit = match.group(2)[0]
    lead = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    return lead if timedelta(minutes=1) <= lead <= MAX_LEAD else None


def parse_clock(text: str) -> time | None:
    """`08:30`, `8`, `9am`, `5:30pm`."""
    match = _TIME.match(text.strip().lower())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridiem = match.group(3)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_weekdays(text: str) -> frozenset[int] | None:
    """`daily`, `weekdays`, `mon-fri`, `mon,wed,fri`, `sat sun`: Monday is 0."""
    spec = text.strip().lower()
    if spec in ("daily", "everyday", "every-day"):
        return EVERY_DAY
    if spec in ("weekdays", "workdays"):
        return frozenset(range(5))
    if spec == "weekends":
        return frozenset({5, 6})
    days: set[int] = set()
    for part in re.split(r"[,\s]+", spec):
        if not part:
            continue
        bounds = part.split("-")
        if len(bounds) > 2 or not all(_is_day(b) for b in bounds):
            return None
        first, last = (DAY_NAMES.index(b[:3]) for b in (bounds[0], bounds[-1]))
        days.update(range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)])
    return frozenset(days) or None


def _is_day(word: str) -> bool:
    """`mon`, `tues`, `thurs`, `friday`: a day's name or its start, never `monitoring`."""
    return len(word) >= 3 and any(full.startswith(word) for full in _FULL_DAY_NAMES)


def describe_weekdays(days: frozenset[int]) -> str:
    if days == EVERY_DAY:
        return "every day"
    if days == frozenset(range(5)):
        return "Monday to Friday"
    return ", ".join(DAY_NAMES[d].capitalize() for d in sorted(days))


def describe_lead(lead: timedelta) -> str:
    minutes = int(lead.total_seconds() // 60)
    if minutes % 1440 == 0:
        count, unit = minutes // 1440, "day"
    elif minutes % 60 == 0:
        count, unit = minutes // 60, "hour"
    else:
        count, unit = minutes, "minute"
    return f"{count} {unit}{'' if count == 1 else 's'}"
