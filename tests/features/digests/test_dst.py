"""The real bot posts a digest at 08:00 in Paris every day across the daylight-saving changes.

Summer time starts on Sunday 29 March 2026 and ends on Sunday 25 October 2026:
08:00 in Paris is 07:00 UTC in winter, 06:00 UTC in summer. The scheduler ticks
on a FakeClock over five days around each change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.clock import FakeClock
from tests.conftest import PAGED_MODULE, MakeBot
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho_data import Org, module_with_sessions
from tests.planned_day import Ticks

PARIS = ZoneInfo("Europe/Paris")
SEASONS = {
    "spring": (date(2026, 3, 27), [7, 7, 6, 6, 6]),
    "autumn": (date(2026, 10, 23), [6, 6, 7, 7, 7]),
}


@pytest.fixture(params=sorted(SEASONS))
def season(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock(season: str) -> FakeClock:
    first_day, _ = SEASONS[season]
    return FakeClock(datetime.combine(first_day, time(1), tzinfo=UTC))


@pytest.fixture
def org(season: str) -> Org:
    """One module with a session every day at 09:00 (Paris) for three weeks."""
    first_day, _ = SEASONS[season]
    return module_with_sessions(21, first_day)


async def test_a_daily_digest_goes_out_at_eight_local_time_every_day_across_the_change(
    make_bot: MakeBot, slack: FakeSlack, clock: FakeClock, season: str
) -> None:
    first_day, utc_hours = SEASONS[season]
    harness = await make_bot()
    slack.add_channel("CDST", "dst")
    await harness.bot.store.save_digest(
        "CDST",
        PAGED_MODULE,
        time(8),
        frozenset(range(7)),
        "Europe/Paris",
        "U1",
        clock.now(),
    )
    days = [first_day + timedelta(days=n) for n in range(5)]
    eights = [datetime.combine(day, time(8), tzinfo=PARIS) for day in days]
    ticks = Ticks(clock)

    await ticks.through(harness.bot, until=eights[-1] + timedelta(hours=2), busy=eights, sparse=3600)

    sent = dict(ticks.sent)
    assert sorted(sent) == [f"digest:CDST:{day.isoformat()}" for day in days]
    assert list(sent.values()) == [[e.astimezone(UTC)] for e in eights], "once each"
    assert [times[0].astimezone(UTC).hour for times in sent.values()] == utc_hours
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CDST"]
    assert len(posts) == 5
    assert all(c.ok for c in posts)
