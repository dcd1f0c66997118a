"""Zoho's failures reach the domain's callers as the domain's own errors, translated once."""

from __future__ import annotations

import pytest

from bot.core import Core
from bot.sessions.errors import (
    ApiPaused,
    CallLimitReached,
    ModuleGone,
    NeedsAdmin,
    RequestRefused,
    SessionsError,
    SourceDown,
)
from bot.zoho.errors import ZohoError
from tests.clock import FakeClock
from tests.conftest import PAGED_MODULE, TODAY, MakeCore
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, module_with_sessions
from tests.sessions.test_service import fortnight


@pytest.fixture
def org() -> Org:
    """One module with 60 sessions: three pages."""
    return module_with_sessions(60, TODAY)


async def upcoming(core: Core, clock: FakeClock, deadline: float | None = None) -> None:
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock), deadline)


@pytest.mark.parametrize(
    ("status", "error", "http"),
    [(404, ModuleGone, 404), (403, RequestRefused, 403), (400, RequestRefused, 400), (503, SourceDown, None)],
)
async def test_a_refusal_or_an_outage_is_the_domains_error(
    core: Core, fz: FakeZoho, clock: FakeClock, status: int, error: type[SessionsError], http: int | None
) -> None:
    fz.fail_next(3, status)
    with pytest.raises(error) as raised:
        await upcoming(core, clock)
    assert not isinstance(raised.value, ZohoError)
    assert isinstance(raised.value.__cause__, ZohoError), "raised from Zoho's error, for the log"
    if http is not None:
        assert isinstance(raised.value, RequestRefused)
        assert raised.value.status == http


async def test_zohos_lock_is_api_paused_until_it_ends(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    fz.answer_429_next(1)
    with pytest.raises(ApiPaused) as raised:
        await upcoming(core, clock)
    assert raised.value.until == clock.time() + 300


async def test_a_spent_minute_with_no_time_to_wait_is_the_call_limit(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    core = make_core(ZOHO_CALLS_PER_MINUTE="2")  # the module has three pages
    with pytest.raises(CallLimitReached) as raised:
        await upcoming(core, clock, deadline=clock.time() + 5)
    assert raised.value.retry_after == pytest.approx(60)
    assert len(fz.calls()) == 2


async def test_a_revoked_refresh_token_needs_an_admin(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    fz.revoke_refresh_token()
    with pytest.raises(NeedsAdmin):
        await upcoming(core, clock)
