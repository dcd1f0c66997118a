"""Which digests are due at `now`: a pure function, so a late or doubled tick is easy to reason about.

A digest is due from its local wall-clock time (in the subscriber's zone, right
across daylight-saving changes) until `catch_up` later; past that it is missed.
A channel's digests due at the same moment go out as one message, under one key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.store.store import Digest

DIGEST_DAYS = 7
"""Today and the next six days."""


@dataclass(frozen=True)
class DueDigest:
    channel_id: str
    local_date: date
    scheduled: datetime
    zone: ZoneInfo
    digests: tuple[Digest, ...]

    @property
    def key(self) -> str:
        local = self.scheduled.astimezone(self.zone)
        return f"digest:{self.channel_id}:{self.local_date.isoformat()}:{local:%H%M}"

    def days(self) -> list[date]:
        return [self.local_date + timedelta(days=offset) for offset in range(DIGEST_DAYS)]


def scheduled_at(digest: Digest, local_date: date, zone: ZoneInfo) -> datetime:
    """The digest's moment on `local_date`; a time skipped by a DST jump maps just past it."""
    return datetime.combine(local_date, digest.at, tzinfo=zone)


def due_digests(
    digests: Iterable[Digest], now: datetime, catch_up: timedelta
) -> tuple[list[DueDigest], list[DueDigest]]:
    """(due now, missed beyond the catch-up window) among the active digests."""
    groups: dict[tuple[str, date, datetime], list[Digest]] = {}
    zones: dict[tuple[str, date, datetime], ZoneInfo] = {}
    for digest in digests:
        if digest.paused_reason:
            continue
        zone = ZoneInfo(digest.zone)
        today = now.astimezone(zone).date()
        for local_date in (today - timedelta(days=1), today):
            if local_date.weekday() not in digest.weekdays:
                continue
            moment = scheduled_at(digest, local_date, zone)
            subscribed_after = digest.created_at is not None and moment < digest.created_at
            if moment <= now and not subscribed_after:
                group = (digest.channel_id, local_date, moment)
                groups.setdefault(group, []).append(digest)
                zones[group] = zone
    due, missed = [], []
    for (channel, local_date, moment), members in sorted(groups.items(), key=lambda item: item[0][2]):
        entry = DueDigest(channel, local_date, moment, zones[(channel, local_date, moment)], tuple(members))
        (due if now - moment <= catch_up else missed).append(entry)
    return due, missed
