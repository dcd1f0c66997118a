"""The daily allowance (`ZOHO_CALLS_PER_DAY`): spent, nothing more reaches Zoho; held data still answers."""

from __future__ import annotations

import pytest

from bot.sessions.errors import DailyAllowanceSpent
from bot.sessions.service import KEPT_FOR_SENDS
from bot.sessions.urgency import Urgency
from bot.sessions.windows import next_days
from bot.slack.errors import sentence_for
from tests.clock import FakeClock
from tests.conftest import TODAY, MakeCore, module_refs
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import large_org, sample_org

MODULES = module_refs(sample_org(TODAY))
SINGLES = large_org(TODAY, courses=12, batches_per_course=1, modules_per_batch=1, sessions_per_batch=(3, 6))
"""Twelve modules, each alone in its batch: twelve fetches."""


async def test_a_spent_day_stops_every_call_and_held_data_answers_with_its_age(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    core = make_core(ZOHO_CALLS_PER_DAY="3")
    window = next_days(clock.now(), 30)
    for module in MODULES[:3]:
        await core.sessions.upcoming(module, clock.now(), window)
    assert len(fz.calls()) == 3
    spent_at = clock.time()

    clock.advance(3600)
    with pytest.raises(DailyAllowanceSpent) as raised:
        await core.sessions.upcoming(MODULES[3], clock.now(), window)
    assert raised.value.frees_at == pytest.approx(spent_at + 86_400)
    assert "daily Zoho allowance" in sentence_for(raised.value)
    assert f"<!date^{int(spent_at) + 86_400}^" in sentence_for(raised.value), (
        "when it frees, in each reader's zone"
    )

    held = await core.sessions.upcoming(MODULES[0], clock.now(), window)
    await core.sessions.drain()  # the refresh behind it meets the spent day
    again = await core.sessions.upcoming(MODULES[0], clock.now(), window)
    await core.sessions.drain()
    assert held.sessions == again.sessions
    assert again.stale
    assert "daily Zoho allowance" in (again.problem or "")
    assert len(fz.calls()) == 3, "nothing more reached Zoho"

    clock.advance(86_400 - 3600 + 1)
    await core.sessions.upcoming(MODULES[3], clock.now(), window)
    assert len(fz.calls()) == 4, "the day rolled on"


async def test_background_work_is_paced_and_leaves_people_their_share_of_the_day(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    """Of 10 calls a day, background may make 9, at most a 24th of them (one) in any hour;
    followed modules leave a quarter of those (2) to data due sends need. So over ten hours the
    planner's followed refreshes stop at 7, one an hour, and people keep 3."""
    fz.set_org(SINGLES)
    core = make_core(ZOHO_CALLS_PER_DAY="10")
    per_hour = []
    for _ in range(10):
        before = len(fz.calls())
        plan = await core.planner.run(needed=[], followed=module_refs(SINGLES))
        per_hour.append(len(fz.calls()) - before)
        clock.advance(3600)
    assert per_hour == [1] * 7 + [0] * 3
    assert plan.deferred, "more followed modules than the day allows"
    _, people_today = await core.source.room(Urgency.PERSON_WAITING)
    assert people_today == 3


async def test_refreshes_behind_lookups_leave_the_reserve_of_due_sends_alone(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    """Of 10 calls a day, background may make 9 and keeps 2 of them for data due sends need.
    Four cold lookups spend 4; stale lookups of the same modules then refresh behind until only
    the reserve is left (3 more), and a due digest's module still gets its read."""
    fz.set_org(SINGLES)
    core = make_core(ZOHO_CALLS_PER_DAY="10")
    modules = module_refs(SINGLES)[:4]
    window = next_days(clock.now())
    for module in modules:
        await core.sessions.upcoming(module, clock.now(), window)
    assert len(fz.calls()) == 4

    clock.advance(core.sessions.ttl + 1)
    for module in modules:
        await core.sessions.upcoming(module, clock.now(), window)
        await core.sessions.drain()
    assert len(fz.calls()) == 7, "the fourth refresh behind would have eaten into the reserve"
    held = await core.sessions.upcoming(modules[3], clock.now(), window)
    assert held.problem == KEPT_FOR_SENDS, "the listing says why its data is old"

    await core.planner.run(needed=[modules[3]], followed=modules)
    assert len(fz.calls()) == 8
    assert core.sessions.is_fresh(modules[3]), "the reserve served the due send's data"
