"""iCalendar (RFC 5545) text from plain data (pure): one event per session, times in the
organisation's zone with its VTIMEZONE, escaped by the `icalendar` package.

Nothing shown here comes from Slack's world: the text is Zoho's, as Zoho wrote it,
with control characters dropped and lengths bounded; no mrkdwn, no mentions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vDuration

PRODUCT = "-//sessions-bot//Zoho People training sessions//EN"
REFRESH = timedelta(hours=1)
"""How often a subscribed calendar is asked to look again (clients may take longer)."""
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
    if events:
        first = min(event.start for event in events)
        last = max(event.start for event in events)
        calendar.add_component(zone_definition(zone, first.year - 1, last.year + 1))
    for event in events:
        calendar.add_component(_event(event, zone, stamp))
    return calendar.to_ical()


@lru_cache(maxsize=64)
def zone_definition(zone: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE from the start of `first_year` to the end of `last_year`: its offset
    then, and each change of offset since, as zoneinfo knows them.

    Each change's DTSTART is the local time just before it (read with TZOFFSETFROM), as RFC 5545
    §3.6.5 and its examples write it; the icalendar package writes a daylight-saving start in the
    local time after it, an hour late for clients that read the rule rather than the zone's name.
    """
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    definition = Timezone()
    definition.add("tzid", zone.key)
    offset = _offset(zone, start)
    definition.add_component(_observance(zone, start, offset, offset))
    for moment in _changes(zone, start, datetime(last_year + 1, 1, 1, tzinfo=UTC)):
        before, after = _offset(zone, moment - _SECOND), _offset(zone, moment)
        definition.add_component(_observance(zone, moment, before, after))
    return definition


_SECOND = timedelta(seconds=1)


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    return moment.astimezone(zone).utcoffset() or timedelta()


def _changes(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in [start, end) from which the zone's offset differs from the second before:
    found a day at a time, then to the second by halving."""
    found = []
    day = timedelta(days=1)
    moment = start
    while moment < end:
        later = min(moment + day, end)
        if _offset(zone, later) != _offset(zone, moment):
            low, high = moment, later
            while high - low > _SECOND:
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                low, high = (middle, high) if _offset(zone, middle) == _offset(zone, low) else (low, middle)
            found.append(high)
        moment = later
    return found


def _observance(
    zone: ZoneInfo, moment: datetime, before: timedelta, after: timedelta
) -> TimezoneStandard | TimezoneDaylight:
    local = moment.astimezone(zone)
    observance = TimezoneDaylight() if local.dst() else TimezoneStandard()
    observance.add("dtstart", (moment + before).replace(tzinfo=None))
    observance.add("tzoffsetfrom", before)
    observance.add("tzoffsetto", after)
    observance.add("tzname", local.tzname() or zone.key)
    return observance


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
