"""The VTIMEZONE calendar apps read: each change of offset at the local time before it, read with
TZOFFSETFROM (RFC 5545 §3.6.5), so a client that follows the rules rather than the zone's name puts
every instant at zoneinfo's offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.features.calendar.ics import zone_definition

ZONES = ("Europe/Paris", "America/St_Johns", "Pacific/Chatham", "Australia/Lord_Howe", "Asia/Kolkata")


def observances(zone: ZoneInfo) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of each observance, as a client reads them."""
    read = []
    for part in zone_definition(zone, 2025, 2027).subcomponents:
        start = part.decoded("DTSTART")
        before, after = part.decoded("TZOFFSETFROM"), part.decoded("TZOFFSETTO")
        read.append(((start - before).replace(tzinfo=UTC), before, after))
    return sorted(read)


@pytest.mark.parametrize("name", ZONES)
def test_each_change_starts_at_the_instant_zoneinfo_knows(name: str) -> None:
    zone = ZoneInfo(name)
    for instant, before, after in observances(zone)[1:]:
        assert (instant - timedelta(seconds=1)).astimezone(zone).utcoffset() == before
        assert instant.astimezone(zone).utcoffset() == after


@pytest.mark.parametrize("name", ZONES)
def test_every_hour_of_the_span_has_zoneinfos_offset(name: str) -> None:
    """No change left out: the offset the rules give each hour of the three years is zoneinfo's."""
    zone = ZoneInfo(name)
    rules = observances(zone)
    hour = datetime(2025, 1, 1, tzinfo=UTC)
    current = 0
    while hour < datetime(2028, 1, 1, tzinfo=UTC):
        while current + 1 < len(rules) and rules[current + 1][0] <= hour:
            current += 1
        assert rules[current][2] == hour.astimezone(zone).utcoffset(), hour
        hour += timedelta(hours=1)


def test_a_zone_without_changes_is_one_observance() -> None:
    (only,) = observances(ZoneInfo("Asia/Kolkata"))
    assert only[1] == only[2] == timedelta(hours=5, minutes=30)
