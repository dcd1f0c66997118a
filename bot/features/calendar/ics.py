"""iCalendar (RFC 5545) text from plain data (pure): one event per session, times in the
organisation's zone with its VTIMEZONE, escaped by the `icalendar` package.

Nothing shown here comes from Slack's world: the text is Zoho's, as Zoho wrote it,
with control characters dropped and lengths bounded; no mrkdwn, no mentions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration

PRODUCT = "-//sessions-bot//Zoho People training sessions//EN"
REFRESH = timedelta(hours=1)
"""How often a subscribed calendar is asked to look again (clients may take longer)."""
ZONE_MARGIN = timedelta(days=366)
"""The zone's rules are written for the events' span and a year either side, not since 1970."""
SUMMARY_CHARS = 250
TEXT_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class CalendarEvent:
    """One session as a calendar shows it."""

    uid: str
    summary: str
    start: datetime
    end: datetime | None
    module_path: str
    trainer: str = ""
    room: str = ""
    details: str = ""
    sequence: int = 0
    cancelled: bool = False


def session_uid(module_key: str, session_id: str, domain: str) -> str:
    """Stable per Zoho session, the same in a downloaded file and in every feed."""
    return f"{module_key.replace('/', '.')}.{session_id}@{domain}"


def calendar_text(
    events: Sequence[CalendarEvent], zone: ZoneInfo, stamp: datetime, name: str = "", feed: bool = False
) -> bytes:
    """A VCALENDAR of `events`; `stamp` is when this information was last revised (DTSTAMP).
    `feed`: a subscribed calendar, named `name` and told how often to look again."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if feed:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))
    else:
        calendar.add("method", "PUBLISH")
    for event in events:
        calendar.add_component(_event(event, zone, stamp))
    if events:
        first = min(event.start for event in events).date()
        last = max(event.start for event in events).date()
        calendar.add_missing_timezones(first - ZONE_MARGIN, last + ZONE_MARGIN)
    return calendar.to_ical()


def _event(event: CalendarEvent, zone: ZoneInfo, stamp: datetime) -> Event:
    component = Event()
    component.add("uid", event.uid)
    component.add("dtstamp", stamp)
    component.add("dtstart", event.start.astimezone(zone))
    if event.end is not None and event.end > event.start:
        component.add("dtend", event.end.astimezone(zone))
    component.add("summary", _clean(event.summary, SUMMARY_CHARS))
    component.add("sequence", event.sequence)
    component.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    component.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    if event.room:
        component.add("location", _clean(event.room, SUMMARY_CHARS))
    lines = [event.module_path]
    if event.trainer:
        lines.append(f"Trainer: {event.trainer}")
    if event.details:
        lines.append(event.details)
    component.add("description", _clean("\n".join(lines), TEXT_CHARS))
    return component


def _clean(text: str, limit: int) -> str:
    """Zoho's words without control characters (newlines kept), at most `limit` characters."""
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
