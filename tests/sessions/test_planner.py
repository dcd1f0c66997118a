"""The refresh planner, on the injected clock: what it fetches first, and what waits for budget."""

from __future__ import annotations

import logging

import pytest

from bot.core import Core
from bot.sessions.modules import ModuleRef
from bot.sessions.planner import HOT_LOOKUPS
from bot.sessions.service import FOLLOWED_AGE, GONE_SECONDS, WARM_SECONDS
from bot.sessions.urgency import Urgency
from bot.sessions.windows import next_days
from tests.clock import FakeClock
from tests.conftest import TODAY, MakeCore, module_refs
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, large_org

ORG = large_org(TODAY, courses=8, batches_per_course=1, modules_per_batch=1, sessions_per_batch=(5, 10))
"""Eight modules, each alone in its batch: every fetch is one module, one page."""
BUSY = large_org(TODAY, courses=1, batches_per_course=1, modules_per_batch=4, sessions_per_batch=(20, 30))
"""Four modules of one batch."""


@pytest.fixture
def org() -> Org:
    return Org(courses=ORG.courses + BUSY.courses, trainers=ORG.trainers)


def fetched(fz: FakeZoho) -> list[str]:
    return [call.path.split("/modules/")[1].split("/")[0] for call in fz.calls() if "/modules/" in call.path]


async def test_needed_first_then_looked_at_then_followed_oldest_first_within_the_minute(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    core = make_core(ZOHO_CALLS_PER_MINUTE="10")  # background: 8 a minute
    m = module_refs(Org(courses=ORG.courses))
    for module in (m[5], m[4]):  # fetched long ago, 5 before 4
        await core.sessions.upcoming(module, clock.now(), next_days(clock.now()), urgency=Urgency.BACKGROUND)
        clock.advance(FOLLOWED_AGE)
    for _ in range(HOT_LOOKUPS):  # people keep looking at 6
        await core.sessions.upcoming(m[6], clock.now(), next_days(clock.now()))
    clock.advance(601)
    fz.clear()

    plan = await core.planner.run(needed=[m[7]], followed=[m[0], m[1], m[2], m[3], m[4], m[5], m[6]])

    order = fetched(fz)
    assert order[:2] == [m[7].module_id, m[6].module_id], "needed, then looked at"
    assert order[2:] == [
        m[0].module_id,
        m[1].module_id,
        m[2].module_id,
        m[3].module_id,
        m[5].module_id,
        m[4].module_id,
    ], "never read, then the oldest"
    assert plan.deferred == []


async def test_what_the_minute_cannot_hold_waits_and_is_said_once(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    core = make_core(ZOHO_CALLS_PER_MINUTE="5")  # background: 4 a minute
    m = module_refs(Org(courses=ORG.courses))
    with caplog.at_level(logging.INFO, logger="bot.sessions.planner"):
        first = await core.planner.run(needed=[], followed=m)
        second = await core.planner.run(needed=[], followed=m)
    assert len(fz.calls()) == 4
    assert [len(plan.chosen) for plan in (first, second)] == [4, 0]
    assert len(first.deferred) == 4
    behind = [r.getMessage() for r in caplog.records if "wait for budget" in r.getMessage()]
    assert behind == [
        "planner: 4 followed module(s) older than 10 min wait for budget: they need about 4 call(s); "
        "0 background call(s) are left this minute and 2246 today (of 2250 a day)"
    ]

    clock.advance(61)
    with caplog.at_level(logging.INFO, logger="bot.sessions.planner"):
        await core.planner.run(needed=[], followed=m)
    assert len(fz.calls()) == 8
    assert any("within 10 min again" in r.getMessage() for r in caplog.records)


async def test_several_wanted_modules_of_a_batch_are_one_batch_fetch(core: Core, fz: FakeZoho) -> None:
    busy = module_refs(BUSY)
    plan = await core.planner.run(needed=[], followed=busy)
    (call,) = fz.calls()
    assert call.path == f"/api/v1/courses/{busy[0].course_id}/batches/{busy[0].batch_id}/sessions"
    assert [len(unit.modules) for unit in plan.chosen] == [4]
    assert all(core.sessions.is_fresh(module) for module in busy)


async def test_needed_data_goes_first_in_every_minute_and_a_tick_never_waits(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    core = make_core(ZOHO_CALLS_PER_MINUTE="2")  # background: 1 a minute
    m = module_refs(Org(courses=ORG.courses))
    plan = await core.planner.run(needed=m[:3], followed=m[3:])
    assert (len(plan.chosen), len(plan.deferred)) == (1, 7)
    assert fetched(fz) == [m[0].module_id]
    assert clock.slept == [], "no waiting for the budget inside a tick"
    clock.advance(61)
    await core.planner.run(needed=m[:3], followed=m[3:])
    assert fetched(fz) == [m[0].module_id, m[1].module_id], "the next minute, the next needed module"


async def test_a_module_zoho_answered_404_for_costs_one_call_per_gone_seconds(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    """Needed or followed, a gone module is not fetched again until the mark lapses."""
    gone = ModuleRef("123", "456", "789")
    m = module_refs(Org(courses=ORG.courses))
    path = "/api/v1/courses/123/batches/456/modules/789/sessions"
    minutes = int(GONE_SECONDS // 60)

    for _ in range(minutes):
        await core.planner.run(needed=[gone, m[0]], followed=[gone, m[0]])
        clock.advance(60)

    assert [r.status for r in fz.calls() if r.path == path] == [404], "once in six hours"
    assert fetched(fz).count(m[0].module_id) >= minutes // 11, "the other went on being refreshed"
    await core.planner.run(needed=[], followed=[gone])
    assert [r.status for r in fz.calls() if r.path == path] == [404, 404]


WIDE = large_org(TODAY, courses=1, batches_per_course=1, modules_per_batch=50, sessions_per_batch=(50, 60))
"""Fifty modules of one batch, never read: a batch read estimated at 50 calls, more than a minute allows."""


@pytest.mark.parametrize("org", [WIDE], ids=["fifty-module-batch"])
async def test_a_batch_too_big_for_a_minute_by_estimate_is_still_read(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock, org: Org
) -> None:
    """Found from outside: a batch never read is estimated at a page per module, and fifty modules
    never fitted a minute's 20 background calls, so a digest due on it got no data, ever. Now the
    planner takes what fits, module by module; the service reads them with the batch endpoint."""
    core = make_core()  # background: 20 calls a minute
    modules = module_refs(org)

    first = await core.planner.run(needed=modules, followed=modules)

    assert len(first.chosen) == 20
    assert all(len(unit.modules) == 1 for unit in first.chosen)
    calls = fz.calls()
    assert 0 < len(calls) <= 20
    assert all("/sessions" in call.path for call in calls)
    assert all(core.sessions.age(module) == 0 for module in modules[:20])

    clock.advance(61)
    second = await core.planner.run(needed=modules, followed=modules)
    assert [len(unit.modules) for unit in second.chosen] == [50], (
        "read once, the batch's size is known: one batch read, the fresh modules along"
    )
    assert all(core.sessions.is_fresh(module) for module in modules)


@pytest.mark.parametrize(("looking", "reads"), [(False, 1), (True, 3)], ids=["quiet", "people-looking"])
async def test_followed_data_is_kept_as_fresh_as_a_share_of_the_day_allows_and_people_looking_need(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock, looking: bool, reads: int
) -> None:
    """Of 40 calls a day, background may make 36; half of what is left (less the sends' reserve)
    spread over a whole day is about 0.6 calls an hour: two followed modules nobody looks at are
    read again only after about three hours (change notices alone need them). While people look
    (a lookup within the hour), every `FOLLOWED_AGE`, so a lookup of a module nobody looked at
    lately is not answered from hours-old data. Two hours of ticks every 10 minutes."""
    core = make_core(ZOHO_CALLS_PER_DAY="40")
    m = module_refs(Org(courses=ORG.courses))
    elsewhere = module_refs(BUSY)[0]
    for tick in range(12):
        await core.planner.run(needed=[], followed=m[:2])
        if looking and tick * 600 % FOLLOWED_AGE == 0:
            await core.sessions.upcoming(elsewhere, clock.now(), next_days(clock.now()))
        clock.advance(600)
    assert [fetched(fz).count(module.module_id) for module in m[:2]] == [reads, reads]


async def test_a_module_looked_up_often_is_read_before_the_next_lookup_finds_it_old(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    """Looked up `HOT_LOOKUPS` times, a module is read as soon as its data is old; looked up once
    (its data still fresh then), it waits for the next lookup or for its batch's turn (of 40
    calls a day, not yet)."""
    core = make_core(ZOHO_CALLS_PER_DAY="40")
    m = module_refs(Org(courses=ORG.courses))
    for _ in range(HOT_LOOKUPS):
        await core.sessions.upcoming(m[0], clock.now(), next_days(clock.now()))
    await core.sessions.upcoming(m[1], clock.now(), next_days(clock.now()))
    clock.advance(core.sessions.ttl)
    fz.clear()

    await core.planner.run(needed=[], followed=[])

    assert fetched(fz) == [m[0].module_id]


async def test_a_lookup_whose_refresh_the_budget_put_off_is_read_by_the_next_tick_first(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    """The refresh behind an answer from old data never waits for the budget: with this minute
    spent it is not made, and the planner's next tick reads the module before anything followed."""
    core = make_core(ZOHO_CALLS_PER_MINUTE="2")  # background: 1 a minute
    m = module_refs(Org(courses=ORG.courses))
    await core.sessions.upcoming(m[0], clock.now(), next_days(clock.now()))
    clock.advance(core.sessions.ttl)
    await core.planner.run(needed=[m[1]], followed=[])  # the minute's background call
    fz.clear()

    old = await core.sessions.upcoming(m[0], clock.now(), next_days(clock.now()))
    await core.sessions.drain()
    assert old.old, "answered at once from old data"
    assert fz.calls() == [], "no call"
    assert clock.slept == []

    clock.advance(61)
    await core.planner.run(needed=[], followed=[m[2]])
    assert fetched(fz) == [m[0].module_id], "the queued lookup before a followed module never read"


async def test_a_lone_lookup_of_old_data_costs_no_call_and_a_second_within_half_an_hour_does(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    """A refresh only serves the lookups after it: the first lookup of old data in half an hour
    is answered at once and its module waits for its batch's turn (of 40 calls a day, not yet);
    a second within the half hour refreshes it behind the answer."""
    core = make_core(ZOHO_CALLS_PER_DAY="40")
    m = module_refs(Org(courses=ORG.courses))
    await core.sessions.upcoming(m[0], clock.now(), next_days(clock.now()))
    clock.advance(WARM_SECONDS + 1)
    fz.clear()

    lone = await core.sessions.upcoming(m[0], clock.now(), next_days(clock.now()))
    await core.sessions.drain()
    await core.planner.run(needed=[], followed=[])
    assert lone.old
    assert fz.calls() == [], "neither behind the answer nor queued for the planner"

    await core.sessions.upcoming(m[0], clock.now(), next_days(clock.now()))
    await core.sessions.drain()
    assert fetched(fz) == [m[0].module_id]
