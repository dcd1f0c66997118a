"""The client's own per-minute budget, shared by processes, with a reserve for people."""

from __future__ import annotations

import pytest

from bot.core import Core
from bot.zoho.budget import Priority
from bot.zoho.client import Call
from bot.zoho.errors import ZohoBusyError
from tests.clock import FakeClock
from tests.conftest import MakeCore
from tests.fakes.zoho import FakeZoho

COURSES = "/api/v1/courses"


async def one_call(core: Core, call: Call) -> dict:
    return await core.zoho.get_json(COURSES, {"startIndex": "0"}, call)


@pytest.fixture
def five_a_minute(make_core: MakeCore) -> Core:
    return make_core(ZOHO_CALLS_PER_MINUTE="5")


async def test_sixth_interactive_call_that_cannot_wait_is_refused_at_once(
    five_a_minute: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    for _ in range(5):
        await one_call(five_a_minute, Call(Priority.INTERACTIVE, deadline=clock.time() + 10))
    started = clock.time()
    with pytest.raises(ZohoBusyError, match="try again in 60 s") as error:
        await one_call(five_a_minute, Call(Priority.INTERACTIVE, deadline=clock.time() + 10))
    assert error.value.retry_after == pytest.approx(60)
    assert len(fz.calls()) == 5
    assert clock.time() == started
    assert clock.slept == []


async def test_without_deadline_the_call_waits_for_a_slot(
    five_a_minute: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    for _ in range(6):
        await one_call(five_a_minute, Call())
    assert clock.slept == [pytest.approx(60)]
    arrivals = [r.at for r in fz.calls()]
    assert arrivals[5] - arrivals[0] == pytest.approx(60)


async def test_the_window_slides(five_a_minute: Core, fz: FakeZoho, clock: FakeClock) -> None:
    for _ in range(5):
        await one_call(five_a_minute, Call())
        clock.advance(10)
    # 50 s after the first call, the first slot frees at 60 s: a 10 s wait fits a 15 s deadline.
    await one_call(five_a_minute, Call(deadline=clock.time() + 15))
    assert clock.slept == [pytest.approx(10)]
    assert len(fz.calls()) == 6


async def test_background_work_leaves_a_reserve_for_people(
    five_a_minute: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    background = Call(Priority.BACKGROUND, deadline=clock.time() + 10)
    for _ in range(4):
        await one_call(five_a_minute, background)
    with pytest.raises(ZohoBusyError):
        await one_call(five_a_minute, background)
    assert len(fz.calls()) == 4
    await one_call(five_a_minute, Call(Priority.INTERACTIVE, deadline=clock.time() + 10))
    assert len(fz.calls()) == 5
    with pytest.raises(ZohoBusyError):
        await one_call(five_a_minute, Call(Priority.INTERACTIVE, deadline=clock.time() + 10))
    assert len(fz.calls()) == 5


async def test_background_without_deadline_waits_for_its_share(
    five_a_minute: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    for _ in range(5):
        await one_call(five_a_minute, Call(Priority.BACKGROUND))
    assert clock.slept == [pytest.approx(60)]
    arrivals = [r.at for r in fz.calls()]
    assert arrivals[:4] == [arrivals[0]] * 4
    assert arrivals[4] == pytest.approx(arrivals[0] + 60)


async def test_two_processes_on_one_data_folder_share_the_budget(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    first = make_core(ZOHO_CALLS_PER_MINUTE="5")
    second = make_core(ZOHO_CALLS_PER_MINUTE="5")
    for _ in range(3):
        await one_call(first, Call())
    for _ in range(2):
        await one_call(second, Call())
    with pytest.raises(ZohoBusyError):
        await one_call(second, Call(deadline=clock.time() + 5))
    with pytest.raises(ZohoBusyError):
        await one_call(first, Call(deadline=clock.time() + 5))
    assert len(fz.calls()) == 5


async def test_default_budget_stays_under_zohos_threshold(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    for _ in range(60):
        await one_call(core, Call())
    assert not fz.is_locked()
    assert all(r.status == 200 for r in fz.calls())
    arrivals = [r.at for r in fz.calls()]
    assert max(sum(1 for t in arrivals if start <= t < start + 60) for start in arrivals) == 25
