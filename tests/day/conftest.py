"""The planned working day (tests/planned_day.py) for the scheduler's tests: the clock starts at
06:00 in Paris on Tuesday 10 March 2026, the fake Zoho serves the day's org, and the fake Slack's
message timestamps follow the same clock (so history reads by time work as in Slack)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clock import FakeClock
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho_data import Org
from tests.planned_day import T0, day_org
from tests.slack.harness import CHANNEL, USER, ZONE


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def org() -> Org:
    return day_org()


@pytest.fixture
def slack(clock: FakeClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock.time) as fake:
        fake.add_user(USER, "ada", tz=ZONE)
        fake.add_channel(CHANNEL, "general")
        yield fake
