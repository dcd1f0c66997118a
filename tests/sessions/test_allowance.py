"""The daily allowance (`ZOHO_CALLS_PER_DAY`): spent, nothing more reaches Zoho; held data still answers."""

from __future__ import annotations

import pytest

from bot.sessions.errors import DailyAllowanceSpent
from bot.sessions.service import KEPT_FOR_SENDS
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

    await core.sessions.upcoming(MODULES[0], clock.now(), window)  # alone: no refresh (WARM_LOOKUPS)
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


async def test_reads_nobody_waits_for_are_paced_over_what_is_left_of_the_day(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    """Of 70 calls a day, background may make 63. At 10:00 (UTC, the organisation's zone here),
    with 14 hours of the day left, a quarter of 63 over 14/24 of the day (9) is held for due
    sends; the rest may go at six times an even pace (6 x 54 / 14 hours, 23 calls an hour) but
    at most an eighth of the day in one hour (8), of which reads of followed data leave a fifth
    (2) to lookups. Twelve followed modules never read: six now; a due send's module is not held
    back. At 23:00 nothing is held for sends any more."""
    fz.set_org(SINGLES)
    core = make_core(ZOHO_CALLS_PER_DAY="70")
    modules = module_refs(SINGLES)

    plan = await core.planner.run(needed=[], followed=modules)
    assert (len(plan.chosen), len(plan.deferred)) == (6, 6)
    await core.planner.run(needed=modules[11:], followed=modules)
    assert len(fz.calls()) == 7, "the due send's module passes the pace"

    clock.advance(13 * 3600)
    room = await core.source.background_room()
    assert (room.day, room.reserved, room.hour) == (56, 0, 8)


async def test_refreshes_behind_lookups_leave_the_reserve_of_due_sends_alone(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    """Of 10 calls a day, background may make 9 and, at 10:00 with 14 hours of the day left,
    holds one (a quarter of 9 over 14/24 of the day) for data due sends need. Eight cold lookups
    spend 8; a lookup of old data then finds only that one left: the listing says why its data is
    old, and a due digest's module still gets its read."""
    fz.set_org(SINGLES)
    core = make_core(ZOHO_CALLS_PER_DAY="10")
    modules = module_refs(SINGLES)[:8]
    window = next_days(clock.now())
    for module in modules:
        await core.sessions.upcoming(module, clock.now(), window)
    assert len(fz.calls()) == 8

    clock.advance(core.sessions.ttl + 1)
    await core.sessions.upcoming(modules[0], clock.now(), window)
    await core.sessions.drain()
    assert len(fz.calls()) == 8, "the refresh behind would have eaten into the reserve"
    held = await core.sessions.upcoming(modules[0], clock.now(), window)
    assert held.problem == KEPT_FOR_SENDS, "the listing says why its data is old"

    await core.planner.run(needed=[modules[0]], followed=modules)
    assert len(fz.calls()) == 9
    assert core.sessions.is_fresh(modules[0]), "the reserve served the due send's data"
