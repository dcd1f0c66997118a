"""The fake Slack's OAuth v2 install, as Slack runs it: the consent page redirects back with a
code (or access_denied), `oauth.v2.access` trades the code once for a team's bot token, rotation
renews tokens on the fake's clock; and the events an uninstall sends. Plain HTTP and slack_sdk's
own client and URL generator (what Bolt uses), no bot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import AuthorizeUrlGenerator
from slack_sdk.web.async_client import AsyncWebClient

from tests.clock import FakeClock
from tests.fakes.signing import (
    app_uninstalled_payload,
    slash_command_payload,
    tokens_revoked_payload,
    view_submission_payload,
)
from tests.fakes.slack import FakeSlack

JSON = dict[str, Any]
#: slack_sdk's AsyncWebClient sends the client's id and secret with aiohttp's BasicAuth, which
#: aiohttp 3.12 deprecates; Bolt's OAuth flow makes the same call.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
REDIRECT = "https://bot.example.com/slack/oauth_redirect"
SCOPES = ["chat:write", "commands"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 10, 10, 0, tzinfo=UTC))


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.token_clock = clock.time
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    """The app's client, without a token: oauth.v2.access authenticates with id and secret."""
    return AsyncWebClient(base_url=fake.api_url)


def consent(fake: FakeSlack, state: str = "s1", redirect_uri: str | None = REDIRECT) -> httpx.Response:
    """The browser at the URL Bolt's "Add to Slack" link points to."""
    urls = AuthorizeUrlGenerator(
        client_id=fake.client_id,
        scopes=SCOPES,
        redirect_uri=redirect_uri,
        authorization_url=fake.authorize_url,
    )
    return httpx.get(urls.generate(state), follow_redirects=False)


def returned(response: httpx.Response) -> dict[str, str]:
    """The query Slack's redirect brings back to the app."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def exchange(client: AsyncWebClient, fake: FakeSlack, code: str, **extra: Any) -> JSON:
    """What Bolt's callback does with the code (HTTP Basic with the app's id and secret)."""
    args = {"client_id": fake.client_id, "client_secret": fake.client_secret, "redirect_uri": REDIRECT}
    response = await client.oauth_v2_access(code=code, **{**args, **extra})
    return response.data  # type: ignore[return-value]


async def refresh(client: AsyncWebClient, fake: FakeSlack, refresh_token: str) -> JSON:
    """What slack_sdk's token rotator asks for a new access token."""
    response = await client.oauth_v2_access(
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        grant_type="refresh_token",
        refresh_token=refresh_token,
    )
    return response.data  # type: ignore[return-value]


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value.response["error"]


async def test_an_approved_install_returns_a_code_traded_once_for_the_team_s_bot_token(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.approve_next("T0002", "Second Team", user_id="U2ADMIN")

    back = returned(consent(fake, state="the-state"))
    body = await exchange(client, fake, back["code"])

    assert back["state"] == "the-state"
    team = fake.team("T0002")
    assert body["token_type"] == "bot"
    assert (body["team"], body["enterprise"], body["is_enterprise_install"]) == (
        {"id": "T0002", "name": "Second Team"},
        None,
        False,
    )
    assert (body["bot_user_id"], body["authed_user"], body["scope"]) == (
        team.bot_user_id,
        {"id": "U2ADMIN"},
        "chat:write,commands",
    )
    assert body["app_id"] == "A0001"
    assert "refresh_token" not in body
    auth = await AsyncWebClient(token=body["access_token"], base_url=fake.api_url).auth_test()
    assert (auth["team_id"], auth["bot_id"]) == ("T0002", team.bot_id)
    (install,) = fake.installs
    assert (install.team_id, install.access_token, install.user_id) == (
        "T0002",
        body["access_token"],
        "U2ADMIN",
    )
    assert await error_of(exchange(client, fake, back["code"])) == "invalid_code"
    assert [c.error for c in fake.calls_to("oauth.v2.access")] == [None, "invalid_code"]


async def test_a_code_needs_the_app_s_secret_its_redirect_and_ten_minutes_at_most(
    fake: FakeSlack, client: AsyncWebClient, clock: FakeClock
) -> None:
    fake.approve_next("T0002")
    fake.approve_next("T0002")
    wrong, good = (returned(consent(fake))["code"] for _ in range(2))

    clock.advance(599)
    assert await error_of(exchange(client, fake, wrong, client_secret="nope")) == "bad_client_secret"
    assert await error_of(exchange(client, fake, wrong, client_id="9.9")) == "invalid_client_id"
    assert await error_of(exchange(client, fake, wrong, redirect_uri=REDIRECT + "/x")) == "bad_redirect_uri"
    assert (await exchange(client, fake, wrong))["ok"] is True
    clock.advance(1)
    assert await error_of(exchange(client, fake, good)) == "invalid_code"
    assert await error_of(exchange(client, fake, "made-up")) == "invalid_code"
    assert len(fake.installs) == 1


def test_a_refusal_or_a_bad_request_gets_no_code(fake: FakeSlack) -> None:
    fake.deny_next()

    denied = returned(consent(fake, state="s9"))
    unplanned = consent(fake)
    fake.approve_next("T0002")
    fake.redirect_urls = {REDIRECT}
    unregistered = consent(fake, redirect_uri="https://elsewhere.example.com/cb")
    registered_by_default = returned(consent(fake, redirect_uri=None))

    assert denied == {"error": "access_denied", "state": "s9"}
    assert (unplanned.status_code, "no_plan" in unplanned.text) == (400, True)
    assert (unregistered.status_code, "bad_redirect_uri" in unregistered.text) == (400, True)
    assert "code" in registered_by_default
    assert [v.outcome for v in fake.consent_visits] == [
        "access_denied",
        "no_plan",
        "bad_redirect_uri",
        "code",
    ]


async def test_a_second_install_into_a_team_issues_a_new_token_and_the_old_one_keeps_working(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.approve_next("T0002")
    fake.approve_next("T0002")

    first = await exchange(client, fake, returned(consent(fake))["code"])
    second = await exchange(client, fake, returned(consent(fake))["code"])

    assert first["access_token"] != second["access_token"]
    for body in (first, second):
        auth = await AsyncWebClient(token=body["access_token"], base_url=fake.api_url).auth_test()
        assert auth["team_id"] == "T0002"
    assert [i.team_id for i in fake.installs] == ["T0002", "T0002"]


async def test_a_rotating_token_lasts_twelve_hours_and_its_refresh_token_renews_it(
    fake: FakeSlack, client: AsyncWebClient, clock: FakeClock
) -> None:
    fake.approve_next("T0002", rotation=True)
    body = await exchange(client, fake, returned(consent(fake))["code"])
    old = AsyncWebClient(token=body["access_token"], base_url=fake.api_url)

    clock.advance(43_000)
    renewed = await refresh(client, fake, body["refresh_token"])
    assert (await old.auth_test())["ok"] is True
    clock.advance(200)

    assert (body["expires_in"], renewed["expires_in"], renewed["token_type"]) == (43_200, 43_200, "bot")
    assert body["access_token"].startswith("xoxe.xoxb-")
    assert renewed["access_token"] != body["access_token"]
    assert renewed["refresh_token"] == body["refresh_token"]
    assert await error_of(old.auth_test()) == "token_expired"
    new = AsyncWebClient(token=renewed["access_token"], base_url=fake.api_url)
    assert (await new.auth_test())["team_id"] == "T0002"
    assert await error_of(refresh(client, fake, "xoxe-1-nothing")) == "invalid_refresh_token"


async def test_an_org_wide_install_names_the_enterprise_and_no_team(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.approve_next("T0010", enterprise_id="E1", enterprise_name="Grid Org", is_enterprise_install=True)

    body = await exchange(client, fake, returned(consent(fake))["code"])

    assert (body["team"], body["enterprise"], body["is_enterprise_install"]) == (
        None,
        {"id": "E1", "name": "Grid Org"},
        True,
    )
    assert fake.installs[0].enterprise_id == "E1"


async def test_after_an_uninstall_the_team_s_access_and_refresh_tokens_are_refused(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.approve_next("T0002", rotation=True)
    body = await exchange(client, fake, returned(consent(fake))["code"])

    assert fake.uninstall("T0002") == [body["access_token"]]

    assert await error_of(AsyncWebClient(token=body["access_token"], base_url=fake.api_url).auth_test()) == (
        "token_revoked"
    )
    assert await error_of(refresh(client, fake, body["refresh_token"])) == "invalid_refresh_token"


def test_uninstall_events_name_the_install_and_what_was_revoked() -> None:
    uninstalled = app_uninstalled_payload("T0002", bot_user_id="UBOT0002")
    revoked = tokens_revoked_payload(
        "T0010", bot=["UBOT0010"], enterprise_id="E1", is_enterprise_install=True, bot_user_id="UBOT0010"
    )

    assert (uninstalled["team_id"], uninstalled["event"]) == ("T0002", {"type": "app_uninstalled"})
    assert uninstalled["authorizations"][0]["user_id"] == "UBOT0002"
    assert revoked["event"] == {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT0010"]}}
    assert revoked["enterprise_id"] == "E1"
    assert revoked["authorizations"][0] | {"user_id": ""} == {
        "enterprise_id": "E1",
        "team_id": None,
        "user_id": "",
        "is_bot": True,
        "is_enterprise_install": True,
    }


def test_payloads_name_another_team_and_its_enterprise() -> None:
    command = slash_command_payload(team_id="T0010", enterprise_id="E1", is_enterprise_install=True)
    submission = view_submission_payload({"type": "modal"}, {}, team_id="T0010", enterprise_id="E1")

    assert (command["team_id"], command["enterprise_id"], command["is_enterprise_install"]) == (
        "T0010",
        "E1",
        "true",
    )
    assert (
        submission["team"]["id"] == submission["view"]["team_id"] == submission["user"]["team_id"] == "T0010"
    )
    assert submission["enterprise"] == {"id": "E1", "name": "Enterprise E1"}
    assert submission["is_enterprise_install"] is False
    assert "enterprise_id" not in slash_command_payload()
