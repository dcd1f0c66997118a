"""Access tokens: asked for rarely, shared by callers and processes, renewed on 401, errors typed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.core import Core
from bot.zoho.client import Call
from bot.zoho.errors import ZohoAuthError, ZohoTokenLimitError
from tests.clock import FakeClock
from tests.conftest import MakeCore
from tests.fakes.zoho import FakeZoho

COURSES = "/api/v1/courses"


def bearer(fz: FakeZoho) -> list[str]:
    """The token each LMS call carried, in order."""
    return [r.headers["authorization"].removeprefix("Zoho-oauthtoken ") for r in fz.calls()]


async def one_call(core: Core) -> dict:
    return await core.zoho.get_json(COURSES, {"startIndex": "0"}, Call())


async def test_first_call_asks_for_one_token_and_reuses_it(core: Core, fz: FakeZoho) -> None:
    await one_call(core)
    await one_call(core)
    await core.zoho.courses(Call())
    assert len(fz.token_requests()) == 1
    grant = fz.token_requests()[0].form
    assert grant["grant_type"] == "refresh_token"
    assert grant["refresh_token"] == fz.refresh_token
    assert grant["client_id"] == fz.client_id
    assert len(set(bearer(fz))) == 1
    assert len(fz.calls()) == 3


async def test_token_is_persisted_for_the_next_process(make_core: MakeCore, fz: FakeZoho) -> None:
    first = make_core()
    await one_call(first)
    await first.aclose()
    second = make_core()
    await one_call(second)
    assert len(fz.token_requests()) == 1
    assert bearer(fz)[0] == bearer(fz)[1]


async def test_token_is_renewed_five_minutes_before_expiry(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    await one_call(core)
    clock.advance(3600 - 300 - 1)
    await one_call(core)
    assert len(fz.token_requests()) == 1
    clock.advance(2)
    await one_call(core)
    assert len(fz.token_requests()) == 2
    first, same, renewed = bearer(fz)
    assert first == same != renewed
    assert [r.status for r in fz.calls()] == [200, 200, 200], "no request may go out with a spent token"


async def test_twenty_concurrent_callers_share_one_token_request(core: Core, fz: FakeZoho) -> None:
    await asyncio.gather(*(one_call(core) for _ in range(20)))
    assert len(fz.token_requests()) == 1
    assert len(fz.calls()) == 20
    assert len(set(bearer(fz))) == 1


async def test_two_processes_share_one_token(make_core: MakeCore, fz: FakeZoho) -> None:
    first, second = make_core(), make_core()
    await asyncio.gather(one_call(first), one_call(second), one_call(first), one_call(second))
    assert len(fz.token_requests()) == 1
    assert len(set(bearer(fz))) == 1


async def test_401_renews_once_and_retries_with_the_new_token(core: Core, fz: FakeZoho) -> None:
    await one_call(core)
    fz.expire_all_tokens()
    body = await one_call(core)
    assert body["courses"]
    assert len(fz.token_requests()) == 2
    assert [r.status for r in fz.calls()] == [200, 401, 200]
    old, rejected, retried = bearer(fz)
    assert rejected == old
    assert retried != old
    assert retried in fz.live_tokens()


async def test_concurrent_401s_renew_once(core: Core, fz: FakeZoho) -> None:
    await one_call(core)
    fz.expire_all_tokens()
    await asyncio.gather(*(one_call(core) for _ in range(10)))
    assert len(fz.token_requests()) == 2
    assert sum(r.status == 200 for r in fz.calls()) == 11


@pytest.fixture
def foreign_dc(clock: FakeClock) -> Iterator[FakeZoho]:
    """A People server that knows none of the accounts server's tokens, like a wrong data centre."""
    fake = FakeZoho()
    fake.clock = clock.time
    with fake:
        yield fake


async def test_second_401_after_a_renewal_is_an_auth_error(
    make_core: MakeCore, fz: FakeZoho, foreign_dc: FakeZoho
) -> None:
    core = make_core(ZOHO_PEOPLE_URL=foreign_dc.url)
    with pytest.raises(ZohoAuthError, match="ZOHO_DC"):
        await one_call(core)
    assert len(fz.token_requests()) == 2
    rejected = foreign_dc.calls()
    assert [r.status for r in rejected] == [401, 401]
    assert len({r.headers["authorization"] for r in rejected}) == 2, "the retry must carry the new token"


async def test_revoked_refresh_token_is_invalid_code(core: Core, fz: FakeZoho) -> None:
    fz.revoke_refresh_token()
    with pytest.raises(ZohoAuthError, match="invalid_code") as error:
        await one_call(core)
    assert "ZOHO_REFRESH_TOKEN" in str(error.value)
    assert fz.token_requests()[0].status == 200, "Zoho reports the error in an HTTP 200 body"
    assert fz.calls() == []


async def test_wrong_client_is_invalid_client(make_core: MakeCore, fz: FakeZoho) -> None:
    core = make_core(ZOHO_CLIENT_SECRET="not-the-secret")
    with pytest.raises(ZohoAuthError, match="invalid_client") as error:
        await one_call(core)
    message = str(error.value)
    assert "ZOHO_CLIENT_ID" in message
    assert "ZOHO_DC" in message
    assert fz.calls() == []


async def test_access_denied_is_a_token_limit_error(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    fz.token_limit = 0
    with pytest.raises(ZohoTokenLimitError, match="too many") as error:
        await one_call(core)
    assert error.value.retry_at == clock.time() + 600
    assert len(fz.token_requests()) == 1
    assert fz.calls() == []


async def test_never_more_than_ten_token_requests_in_ten_minutes(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    token = await core.tokens.token()
    for _ in range(9):
        clock.advance(10)
        token = await core.tokens.renew_rejected(token)
    assert len(fz.token_requests()) == 10
    with pytest.raises(ZohoTokenLimitError, match="10 access tokens in 10 minutes") as error:
        await core.tokens.renew_rejected(token)
    assert len(fz.token_requests()) == 10, "the 11th must not reach Zoho"
    first = fz.token_requests()[0].at
    assert error.value.retry_at == pytest.approx(first + 600)
    clock.advance(first + 600 - clock.time() + 0.001)
    await core.tokens.renew_rejected(token)
    assert len(fz.token_requests()) == 11


async def test_token_limit_holds_across_401s(core: Core, fz: FakeZoho) -> None:
    for _ in range(10):
        fz.expire_all_tokens()
        await one_call(core)
    assert len(fz.token_requests()) == 10
    fz.expire_all_tokens()
    with pytest.raises(ZohoTokenLimitError):
        await one_call(core)
    assert len(fz.token_requests()) == 10
    assert fz.calls()[-1].status == 401
