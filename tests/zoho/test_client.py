"""The LMS client on the wire: paging, bounded retries, refusals, timeouts."""

from __future__ import annotations

import logging

import pytest

from bot.core import Core
from bot.zoho.budget import Priority
from bot.zoho.client import Call, RetryPolicy, ZohoClient
from bot.zoho.errors import ZohoRequestError, ZohoUnavailableError
from tests.clock import FakeClock
from tests.conftest import PAGED_MODULE, TODAY, MakeCore
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, module_with_sessions, zoho_id

M = PAGED_MODULE
SESSIONS_PATH = f"/api/v1/courses/{M.course_id}/batches/{M.batch_id}/modules/{M.module_id}/sessions"


@pytest.fixture
def org() -> Org:
    return module_with_sessions(60, TODAY)


async def module_sessions(core: Core, call: Call | None = None) -> list[dict]:
    pages = await core.zoho.module_sessions(M.course_id, M.batch_id, M.module_id, call or Call())
    assert pages.complete
    return pages.records


async def test_sixty_sessions_take_three_pages(core: Core, fz: FakeZoho) -> None:
    sessions = await module_sessions(core)
    assert [s["sessionName"] for s in sessions] == [f"Session {k}" for k in range(1, 61)]
    assert [r.path for r in fz.calls()] == [SESSIONS_PATH] * 3
    assert [r.query["startIndex"] for r in fz.calls()] == ["0", "25", "50"]


async def test_has_more_records_false_stops(core: Core, fz: FakeZoho) -> None:
    fz.set_org(module_with_sessions(25, TODAY))
    assert len(await module_sessions(core)) == 25
    assert [r.query["startIndex"] for r in fz.calls()] == ["0"]


async def test_empty_list_is_one_call(core: Core, fz: FakeZoho) -> None:
    fz.set_org(module_with_sessions(0, TODAY))
    assert await module_sessions(core) == []
    assert len(fz.calls()) == 1


async def test_never_ending_list_stops_at_the_page_cap(
    core: Core, fz: FakeZoho, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    fz.never_ending = True
    client = ZohoClient(core.http, core.connection, core.tokens, core.budget, core.state, clock, max_pages=4)
    with caplog.at_level(logging.WARNING, logger="bot.zoho.client"):
        pages = await client.module_sessions(M.course_id, M.batch_id, M.module_id, Call())
    assert (len(pages.records), pages.complete) == (100, False)
    assert [r.query["startIndex"] for r in fz.calls()] == ["0", "25", "50", "75"]
    assert "stopped after 4 pages" in caplog.text


async def test_a_list_cut_short_is_marked_incomplete(core: Core, fz: FakeZoho) -> None:
    """Zoho said more follow, then sent an empty page: what came is kept, but flagged."""
    fz.cut_at = 30
    pages = await core.zoho.module_sessions(M.course_id, M.batch_id, M.module_id, Call())
    assert (len(pages.records), pages.complete) == (30, False)
    assert [r.query["startIndex"] for r in fz.calls()] == ["0", "25", "30"]


async def test_default_page_cap_is_bounded(core: Core, fz: FakeZoho) -> None:
    """Even with the default cap, a list that never ends stops (within the budget, at 200 pages)."""
    fz.never_ending = True
    fz.threshold = 10_000
    pages = await core.zoho.module_sessions(
        M.course_id, M.batch_id, M.module_id, Call(Priority.INTERACTIVE, deadline=None)
    )
    assert len(fz.calls()) == 200
    assert (len(pages.records), pages.complete) == (200 * 25, False)


async def test_code_as_number_and_as_string(core: Core, fz: FakeZoho) -> None:
    sessions_page = await core.zoho.get_json(SESSIONS_PATH, {"startIndex": "0"}, Call())
    courses_page = await core.zoho.get_json("/api/v1/courses", {"startIndex": "0"}, Call())
    assert sessions_page["code"] == 200
    assert courses_page["code"] == "200"
    assert len(await module_sessions(core)) == 60
    assert [c["courseName"] for c in await core.zoho.courses(Call())] == ["Paging Course"]
    assert fz.calls()[-1].query == {"type": "2", "startIndex": "0"}


async def test_other_endpoints_page_and_carry_their_parameters(core: Core, fz: FakeZoho) -> None:
    batches = await core.zoho.batches(M.course_id, Call())
    modules = await core.zoho.modules(M.course_id, M.batch_id, Call())
    batch_sessions = await core.zoho.batch_sessions(M.course_id, M.batch_id, Call())
    employee = await core.zoho.employee(zoho_id(600001), Call())
    assert [b["batchId"] for b in batches] == [M.batch_id]
    assert [m["moduleId"] for m in modules] == [M.module_id]
    assert (len(batch_sessions.records), batch_sessions.complete) == (60, True)
    assert employee is not None
    assert employee["EmailID"] == "henry.martin@example.com"
    assert fz.calls("/api/forms")[0].query == {"recordId": zoho_id(600001)}


async def test_unknown_employee_is_a_404(core: Core) -> None:
    with pytest.raises(ZohoRequestError) as error:
        await core.zoho.employee("nobody", Call())
    assert error.value.status == 404


async def test_two_server_errors_then_success(core: Core, fz: FakeZoho) -> None:
    fz.fail_next(2, 500)
    body = await core.zoho.get_json(SESSIONS_PATH, {"startIndex": "0"}, Call())
    assert len(body["sessions"]) == 25
    assert [r.status for r in fz.calls()] == [500, 500, 200]


async def test_persistent_server_errors_give_up_after_the_bounded_attempts(
    core: Core, fz: FakeZoho, retry: RetryPolicy
) -> None:
    fz.fail_next(5, 503)
    with pytest.raises(ZohoUnavailableError, match="HTTP 503"):
        await module_sessions(core)
    assert [r.status for r in fz.calls()] == [503] * retry.attempts
    assert retry.attempts == 3


async def test_retries_back_off_on_the_clock(make_core: MakeCore, fz: FakeZoho, clock: FakeClock) -> None:
    core = make_core(retry_policy=RetryPolicy(base_delay=1.0, max_delay=2.0))
    fz.fail_next(2, 502)
    await core.zoho.get_json(SESSIONS_PATH, {"startIndex": "0"}, Call())
    assert len(clock.slept) == 2
    assert all(0 <= s <= 2.0 for s in clock.slept)
    assert [r.at for r in fz.calls()][-1] == pytest.approx(clock.time())


async def test_no_retry_past_the_deadline(make_core: MakeCore, fz: FakeZoho, clock: FakeClock) -> None:
    core = make_core(retry_policy=RetryPolicy(base_delay=100.0, max_delay=100.0, attempts=10))
    fz.fail_next(10, 500)
    with pytest.raises(ZohoUnavailableError):
        # Any backoff above one second would pass the deadline, so at most a few quick retries happen.
        await core.zoho.get_json(SESSIONS_PATH, {}, Call(deadline=clock.time() + 1))
    assert len(fz.calls()) < 10
    assert sum(clock.slept) <= 1


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_refusals_are_not_retried(core: Core, fz: FakeZoho, status: int) -> None:
    fz.fail_next(1, status)
    with pytest.raises(ZohoRequestError) as error:
        await module_sessions(core)
    assert error.value.status == status
    assert str(status) in str(error.value)
    assert len(fz.calls()) == 1


async def test_unknown_path_is_a_404_request_error(core: Core, fz: FakeZoho) -> None:
    with pytest.raises(ZohoRequestError, match="404") as error:
        await core.zoho.batches("no-such-course", Call())
    assert error.value.status == 404
    assert len(fz.calls()) == 1


async def test_slow_answer_is_retried_then_unavailable(make_core: MakeCore, fz: FakeZoho) -> None:
    core = make_core(retry_policy=RetryPolicy(base_delay=0, max_delay=0, request_timeout=0.2))
    await core.tokens.token()
    fz.delay = 0.6
    with pytest.raises(ZohoUnavailableError, match="timed out"):
        await core.zoho.get_json(SESSIONS_PATH, {"startIndex": "0"}, Call())
    assert len(fz.calls()) == 3, "three attempts, each abandoned at the request timeout"


async def test_half_a_character_from_zoho_becomes_a_replacement_character(
    core: Core, fz: FakeZoho, org: Org
) -> None:
    """Zoho's JSON may escape a lone surrogate, which no UTF-8 message or calendar file can carry;
    a whole character escaped as a pair stays itself."""
    (module,) = org.courses[0].batches[0].modules
    first, second = (s["sessionId"] for s in module.sessions[:2])
    fz.update_session(first, sessionName="Broken \ud83d name")
    fz.update_session(second, sessionName="Fire \ud83d\udd25 drill")

    names = [s["sessionName"] for s in await module_sessions(core)]

    assert names[:2] == ["Broken \ufffd name", "Fire \U0001f525 drill"]
    assert all(name.encode("utf-8") for name in names)
