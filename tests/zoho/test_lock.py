"""Zoho's 5-minute lock: detected once, then no request leaves any process until it ends."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.core import Core
from bot.zoho.client import LOCK_SECONDS, Call
from bot.zoho.errors import ZohoLockedError, ZohoRequestError
from tests.clock import FakeClock
from tests.conftest import MakeCore
from tests.fakes.zoho import FakeZoho

COURSES = "/api/v1/courses"


async def one_call(core: Core) -> dict:
    return await core.zoho.get_json(COURSES, {"startIndex": "0"}, Call())


async def test_429_locks_every_process_for_five_minutes(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    core = make_core()
    fz.answer_429_next(1)
    with pytest.raises(ZohoLockedError) as error:
        await one_call(core)
    locked_at = clock.time()
    assert error.value.until == locked_at + 300 == locked_at + LOCK_SECONDS
    assert "reopens at 10:05:00 UTC" in str(error.value)
    assert len(fz.calls()) == 1

    clock.advance(299)
    with pytest.raises(ZohoLockedError) as again:
        await one_call(core)
    assert again.value.until == locked_at + 300
    other_process = make_core()
    with pytest.raises(ZohoLockedError):
        await one_call(other_process)
    with pytest.raises(ZohoLockedError):
        await other_process.zoho.courses(Call())
    assert len(fz.calls()) == 1, "no request may leave while Zoho's lock lasts"

    clock.advance(1)
    assert (await one_call(core))["courses"]
    assert (await one_call(other_process))["courses"]
    assert [r.status for r in fz.calls()] == [429, 200, 200]


async def test_the_fakes_31st_call_locks(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock, tmp_path: Path
) -> None:
    """Another app (here: a bot on another data folder) spends part of the org's 30 calls."""
    elsewhere = make_core(BOT_DATA_DIR=str(tmp_path / "elsewhere"))
    for _ in range(25):
        await one_call(elsewhere)
    core = make_core()
    for _ in range(5):
        await one_call(core)
    with pytest.raises(ZohoLockedError) as error:
        await one_call(core)
    assert error.value.until == clock.time() + 300
    assert fz.calls()[-1].status == 400, "Zoho answers the lock with code 7209, not with a 429"
    assert len(fz.calls()) == 31

    with pytest.raises(ZohoLockedError):
        await one_call(make_core())
    assert len(fz.calls()) == 31

    clock.advance(300)
    assert (await one_call(core))["courses"]
    assert len(fz.calls()) == 32
    assert fz.calls()[-1].status == 200


async def test_lock_stops_paging_midway(core: Core, fz: FakeZoho) -> None:
    fz.never_ending = True
    fz.threshold = 2
    with pytest.raises(ZohoLockedError):
        await core.zoho.courses(Call())
    assert [r.query["startIndex"] for r in fz.calls()] == ["0", "25", "50"]
    assert [r.status for r in fz.calls()] == [200, 200, 400]
    with pytest.raises(ZohoLockedError):
        await core.zoho.courses(Call())
    assert len(fz.calls()) == 3


async def test_lock_is_read_from_the_body_code_whatever_the_status(core: Core, fz: FakeZoho) -> None:
    fz.lock_status = 200
    fz.threshold = 1
    await one_call(core)
    with pytest.raises(ZohoLockedError):
        await one_call(core)
    assert [r.status for r in fz.calls()] == [200, 200]
    with pytest.raises(ZohoLockedError):
        await one_call(core)
    assert len(fz.calls()) == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (422, {"response": {"message": "Maximum limit exceeded", "status": 1}}),
        (400, {"errors": {"code": 400, "title": "URL_ROLLING_THROTTLES_LIMIT_EXCEEDED"}}),
    ],
)
async def test_zohos_other_throttle_answers_are_the_lock_and_the_first_is_logged_whole_once(
    core: Core, fz: FakeZoho, clock: FakeClock, caplog: pytest.LogCaptureFixture, status: int, body: dict
) -> None:
    fz.answer_next(status, body)
    with caplog.at_level(logging.WARNING, logger="bot.zoho.client"), pytest.raises(ZohoLockedError) as error:
        await one_call(core)
    assert error.value.until == clock.time() + LOCK_SECONDS
    with pytest.raises(ZohoLockedError):
        await one_call(core)
    assert len(fz.calls()) == 1, "nothing more reaches Zoho during the lock"

    clock.advance(LOCK_SECONDS)
    fz.answer_next(status, body)
    with caplog.at_level(logging.WARNING, logger="bot.zoho.client"), pytest.raises(ZohoLockedError):
        await one_call(core)
    whole = [r.getMessage() for r in caplog.records if "logged once for reporting" in r.getMessage()]
    assert len(whole) == 1
    assert f"HTTP {status}" in whole[0]
    assert next(iter(body)) in whole[0], "the body, as Zoho sent it"


async def test_an_ordinary_422_is_a_refusal_not_the_lock(core: Core, fz: FakeZoho) -> None:
    fz.answer_next(422, {"response": {"message": "Invalid input", "status": 1}})
    with pytest.raises(ZohoRequestError):
        await one_call(core)
    fz.clear()
    await one_call(core)
    assert len(fz.calls()) == 1, "no lock: the next call goes"
