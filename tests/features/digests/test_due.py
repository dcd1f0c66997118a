"""`due_digests`: a pure function of the subscriptions and `now`, right across daylight-saving changes.

Europe/Paris moves to summer time on Sunday 29 March 2026 (02:00 -> 03:00) and
back on Sunday 25 October 2026 (03:00 -> 02:00): a digest at 08:00 local is at
07:00 UTC in winter and 06:00 UTC in summer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.features.digests.due import DIGEST_DAYS, DueDigest, digest_at, due_digests
from bot.sessions.modules import ModuleId, ModuleRef
from bot.store.records import Digest

PARIS = ZoneInfo("Europe/Paris")
CATCH_UP = timedelta(hours=3)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)
EVERY_DAY = frozenset(range(7))
SECOND = timedelta(seconds=1)


def digest(
    channel: str = "C1",
    module: str = "c/b/m",
    at: time = time(8),
    weekdays: frozenset[int] = EVERY_DAY,
    zone: str = "Europe/Paris",
    created_at: datetime | None = LONG_AGO,
    paused: str | None = None,
    ident: int = 1,
) -> Digest:
    ids = ModuleId.parse(module)
    assert ids is not None
    return Digest(
        ident,
        channel,
        ModuleRef.named(ids, module.upper()),
        at,
        weekdays,
        zone,
        "U1",
        created_at,
        paused_reason=paused,
    )


def due_now(digests: list[Digest], now: datetime) -> list[DueDigest]:
    return due_digests(digests, now, CATCH_UP)[0]


def first_due(one: Digest, day: date) -> datetime:
    """The first second at which `one` is due for `day`, found by asking at every minute of the day."""
    moment = datetime.combine(day, time(), tzinfo=UTC) - timedelta(hours=3)
    while not any(entry.local_date == day for entry in due_now([one], moment)):
        moment += timedelta(minutes=1)
        assert moment.date() <= day + timedelta(days=1), f"never due on {day}"
    return moment


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2026, 3, 27), 7),
        (date(2026, 3, 28), 7),
        (date(2026, 3, 29), 6),  # summer time from 02:00 that morning
        (date(2026, 3, 30), 6),
        (date(2026, 10, 24), 6),
        (date(2026, 10, 25), 7),  # winter time from 03:00 that morning
        (date(2026, 10, 26), 7),
    ],
)
def test_eight_in_paris_is_due_at_eight_local_on_each_day_around_the_changes(
    day: date, utc_hour: int
) -> None:
    at = first_due(digest(), day)

    assert at == datetime.combine(day, time(utc_hour), tzinfo=UTC)
    assert at.astimezone(PARIS).time() == time(8)
    (entry,) = [e for e in due_now([digest()], at) if e.local_date == day]
    assert entry.key == f"digest:C1:{day.isoformat()}"
    assert entry.scheduled.astimezone(UTC) == at


def test_due_until_the_catch_up_window_ends_then_missed() -> None:
    eight = datetime(2026, 3, 10, 8, tzinfo=PARIS)
    one = digest()

    due, missed = due_digests([one], eight - SECOND, CATCH_UP)
    assert due == []
    assert [e.key for e in missed] == ["digest:C1:2026-03-09"], "yesterday's, long settled"
    assert [e.scheduled for e in due_now([one], eight)] == [eight]
    assert [e.scheduled for e in due_now([one], eight + CATCH_UP)] == [eight]
    due, missed = due_digests([one], eight + CATCH_UP + SECOND, CATCH_UP)
    assert due == []
    assert [e.key for e in missed] == ["digest:C1:2026-03-09", "digest:C1:2026-03-10"]


def test_yesterdays_late_digest_is_still_due_after_midnight() -> None:
    late = digest(at=time(23, 30))
    now = datetime(2026, 3, 11, 0, 15, tzinfo=PARIS)
    (entry,) = due_now([late], now)
    assert entry.key == "digest:C1:2026-03-10"
    assert entry.days()[0] == date(2026, 3, 10)
    assert len(entry.days()) == DIGEST_DAYS


def test_a_time_skipped_by_the_spring_change_goes_out_once_just_after_it() -> None:
    """02:30 does not exist in Paris on 29 March 2026: the digest goes at 03:30 summer time."""
    night = digest(at=time(2, 30))
    at = first_due(night, date(2026, 3, 29))
    assert at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert at.astimezone(PARIS).time() == time(3, 30)
    keys = {e.key for e in due_now([night], at + timedelta(hours=2)) if e.local_date == date(2026, 3, 29)}
    assert keys == {"digest:C1:2026-03-29"}, "one send that day"


def test_a_time_repeated_by_the_autumn_change_goes_out_once_at_its_first_occurrence() -> None:
    night = digest(at=time(2, 30))
    first = first_due(night, date(2026, 10, 25))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
    second_occurrence = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 winter time
    (entry,) = [e for e in due_now([night], second_occurrence) if e.local_date == date(2026, 10, 25)]
    # (an ambiguous local time never compares equal across zones, hence the conversion)
    assert entry.scheduled.astimezone(UTC) == first, "the same key and moment: one send"
    assert entry.key == "digest:C1:2026-10-25"


def test_weekdays_other_zones_and_paused_digests() -> None:
    saturday = datetime(2026, 3, 14, 9, tzinfo=UTC)  # 10:00 in Paris, 05:00 in New York
    weekdays = digest(channel="C1", weekdays=frozenset(range(5)))
    weekend = digest(channel="C2", weekdays=frozenset({5, 6}))
    new_york = digest(channel="C3", zone="America/New_York")
    paused = digest(channel="C4", paused="the bot is not in this channel")

    assert [e.key for e in due_now([weekdays, weekend, new_york, paused], saturday)] == [
        "digest:C2:2026-03-14"
    ]
    (entry,) = due_now([new_york], datetime(2026, 3, 14, 12, tzinfo=UTC))
    assert entry.key == "digest:C3:2026-03-14"
    assert entry.scheduled.astimezone(UTC) == datetime(2026, 3, 14, 12, tzinfo=UTC), "08:00 EDT"


def test_a_digest_subscribed_after_todays_time_starts_tomorrow() -> None:
    subscribed = datetime(2026, 3, 10, 9, tzinfo=PARIS)
    fresh = digest(created_at=subscribed)
    assert due_digests([fresh], subscribed + timedelta(minutes=5), CATCH_UP) == ([], [])
    tomorrow = datetime(2026, 3, 11, 8, tzinfo=PARIS)
    assert [e.key for e in due_now([fresh], tomorrow)] == ["digest:C1:2026-03-11"]


def test_a_channel_gets_one_digest_a_day_at_its_earliest_time_with_all_its_modules() -> None:
    now = datetime(2026, 3, 10, 8, 1, tzinfo=PARIS)
    subscriptions = [
        digest(channel="C1", module="c/b/m1", ident=1),
        digest(channel="C1", module="c/b/m2", ident=2),
        digest(channel="C1", module="c/b/m3", at=time(7), ident=3),
        digest(channel="C2", module="c/b/m1", ident=4),
    ]

    due = due_now(subscriptions, now)

    assert [(e.key, [d.module.key for d in e.digests]) for e in due] == [
        ("digest:C1:2026-03-10", ["c/b/m3", "c/b/m1", "c/b/m2"]),
        ("digest:C2:2026-03-10", ["c/b/m1"]),
    ]
    assert due[0].scheduled == datetime(2026, 3, 10, 7, tzinfo=PARIS)


def test_a_later_time_the_same_day_is_the_same_digest() -> None:
    """Changing a digest's time after today's went out must not send a second one today."""
    moved = digest(at=time(10), created_at=datetime(2026, 3, 1, tzinfo=UTC))
    (entry,) = [
        e
        for e in due_now([moved], datetime(2026, 3, 10, 10, 5, tzinfo=PARIS))
        if e.local_date == date(2026, 3, 10)
    ]
    assert entry.key == "digest:C1:2026-03-10"


def test_the_operators_preview_takes_the_zone_and_order_of_the_earliest_subscription() -> None:
    """`python -m bot digest` shows the channel's digest as `due_digests` would build it: in the
    zone of the subscription that comes first today, not of whichever the store lists first."""
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    paris_eight = digest(module="c/b/m1", at=time(8), zone="Europe/Paris", ident=1)  # 07:00 UTC
    tokyo_nine = digest(module="c/b/m2", at=time(9), zone="Asia/Tokyo", ident=2)  # 00:00 UTC
    entry = digest_at("C1", [paris_eight, tokyo_nine], now)  # the store lists by time of day
    assert entry.zone == ZoneInfo("Asia/Tokyo")
    assert entry.local_date == date(2026, 3, 10)
    assert [d.module.key for d in entry.digests] == ["c/b/m2", "c/b/m1"]
    assert entry.window(now).end == datetime(2026, 3, 17, tzinfo=ZoneInfo("Asia/Tokyo"))
