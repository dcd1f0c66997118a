"""Which digests are due at `now`: a pure function, so a late or doubled tick is easy to reason about.

A channel gets one digest a day, covering every module it follows that day: it
is due from the earliest of its subscriptions' local wall-clock times (each in
its subscriber's zone, right across daylight-saving changes) until `catch_up`
later; past that it is missed. Its key names the channel and the day, so a
second subscription or a changed time never sends a second digest that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.sessions.windows import Window
from bot.store.records import Digest, Slot

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
        return f"digest:{self.channel_id}:{self.local_date.isoformat()}"

    @property
    def slot(self) -> Slot:
        return Slot(self.key, "digest", self.channel_id, self.scheduled)

    def days(self) -> list[date]:
        return [self.local_date + timedelta(days=offset) for offset in range(DIGEST_DAYS)]

    def window(self, now: datetime) -> Window:
        """From `now` to the end of the last of its days, in the digest's zone."""
        end = datetime.combine(self.local_date + timedelta(days=DIGEST_DAYS), datetime.min.time(), self.zone)
        return Window("this week", now, end)


def scheduled_at(digest: Digest, local_date: date, zone: ZoneInfo) -> datetime:
    """The digest's moment on `local_date`; a time skipped by a DST jump maps just past it."""
    return datetime.combine(local_date, digest.at, tzinfo=zone)


def due_digests(
    digests: Iterable[Digest], now: datetime, catch_up: timedelta
) -> tuple[list[DueDigest], list[DueDigest]]:
    """(due now, missed beyond the catch-up window): at most one per channel and day."""
    by_channel: dict[str, list[Digest]] = {}
    for digest in digests:
        if not digest.paused_reason:
            by_channel.setdefault(digest.channel_id, []).append(digest)
    due, missed = [], []
    for channel, members in by_channel.items():
        for entry in _channel_days(channel, members, now):
            (due if now - entry.scheduled <= catch_up else missed).append(entry)
    return sorted(due, key=_order), sorted(missed, key=_order)


def _order(entry: DueDigest) -> tuple[datetime, str]:
    return entry.scheduled, entry.channel_id


def digest_at(channel: str, digests: list[Digest], now: datetime) -> DueDigest:
    """The channel's digest as it would go out at `now`, whatever the schedule says (an operator's
    preview): in the zone of its earliest subscription, the rule `due_digests` follows."""

    def today_first(digest: Digest) -> tuple[datetime, str]:
        zone = ZoneInfo(digest.zone)
        return scheduled_at(digest, now.astimezone(zone).date(), zone), digest.module.title

    members = sorted(digests, key=today_first)
    zone = ZoneInfo(members[0].zone)
    return DueDigest(channel, now.astimezone(zone).date(), now, zone, tuple(members))


def _channel_days(channel: str, digests: list[Digest], now: datetime) -> list[DueDigest]:
    """The channel's digest of yesterday and today, where its first time has come."""
    days: dict[date, list[tuple[datetime, ZoneInfo, Digest]]] = {}
    for digest in digests:
        zone = ZoneInfo(digest.zone)
        today = now.astimezone(zone).date()
        for local_date in (today - timedelta(days=1), today):
            moment = scheduled_at(digest, local_date, zone)
            subscribed_after = digest.created_at is not None and moment < digest.created_at
            if local_date.weekday() in digest.weekdays and not subscribed_after:
                days.setdefault(local_date, []).append((moment, zone, digest))
    entries = []
    for local_date, members in days.items():
        members.sort(key=lambda member: (member[0], member[2].module.title))
        first, zone, _ = members[0]
        if first <= now:
            entries.append(DueDigest(channel, local_date, first, zone, tuple(d for _, _, d in members)))
    return entries
