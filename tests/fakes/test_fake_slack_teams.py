"""The fake Slack keeps workspaces apart as Slack does: a token reaches only its team's channels
and people (an org-wide install: its enterprise's), auth.test answers per token, and an
uninstalled team's tokens stop working. Plain HTTP, no bot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.slack import BOT_USER_ID, TEAM_ID, FakeSlack

JSON = dict[str, Any]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.add_team("T0002", "Second Team", domain="second")
        server.add_channel("C1", "general", members=["U1"])
        server.add_user("U1", "ada")
        server.add_channel("C2", "general", members=["U2"], team_id="T0002")
        server.add_user("U2", "bob", team_id="T0002")
        yield server


def call(fake: FakeSlack, method: str, token: str, **args: Any) -> JSON:
    """One Web API call as slack_sdk makes it (form body, bearer token)."""
    response = httpx.post(fake.api_url + method, data=args, headers={"Authorization": f"Bearer {token}"})
    return response.json()


def test_a_token_reaches_only_its_own_team(fake: FakeSlack) -> None:
    second = fake.issue_token("T0002")

    assert call(fake, "chat.postMessage", second, channel="C1", text="hi")["error"] == "channel_not_found"
    assert call(fake, "chat.postMessage", second, channel="U1", text="hi")["error"] == "channel_not_found"
    assert call(fake, "conversations.info", second, channel="C1")["error"] == "channel_not_found"
    assert call(fake, "conversations.members", second, channel="C1")["error"] == "channel_not_found"
    assert call(fake, "conversations.history", second, channel="C1")["error"] == "channel_not_found"
    assert call(fake, "users.info", second, user="U1")["error"] == "user_not_found"
    assert call(fake, "users.lookupByEmail", second, email="ada@example.com")["error"] == "users_not_found"
    assert call(fake, "conversations.open", second, users="U1")["error"] == "user_not_found"
    home = '{"type": "home", "blocks": []}'
    assert call(fake, "views.publish", second, user_id="U1", view=home)["error"] == "user_not_found"
    first = "xoxb-test"
    assert call(fake, "chat.postMessage", first, channel="C2", text="hi")["error"] == "channel_not_found"
    assert call(fake, "users.info", first, user="U2")["error"] == "user_not_found"


def test_a_team_sees_its_own_with_its_own_bot_user(fake: FakeSlack) -> None:
    second, team = fake.issue_token("T0002"), fake.team("T0002")

    posted = call(fake, "chat.postMessage", second, channel="C2", text="hi")
    user = call(fake, "users.info", second, user="U2")["user"]
    members = call(fake, "conversations.members", second, channel="DU2")["members"]
    opened = call(fake, "views.publish", second, user_id="U2", view='{"type": "home", "blocks": []}')

    assert (posted["message"]["user"], posted["message"]["team"]) == (team.bot_user_id, "T0002")
    assert team.bot_user_id != BOT_USER_ID
    assert (user["team_id"], user["profile"]["team"]) == ("T0002", "T0002")
    assert members == ["U2", team.bot_user_id]
    assert opened["view"]["team_id"] == "T0002"
    first_posted = call(fake, "chat.postMessage", "xoxb-test", channel="C1", text="hi")["message"]
    assert (first_posted["user"], first_posted["team"]) == (BOT_USER_ID, TEAM_ID)


def test_auth_test_answers_for_the_token(fake: FakeSlack) -> None:
    second = fake.issue_token("T0002")

    first = call(fake, "auth.test", "xoxb-test")
    other = call(fake, "auth.test", second)

    assert (first["team_id"], first["user_id"], first["bot_id"]) == (TEAM_ID, "UBOT", "BBOT")
    team = fake.team("T0002")
    assert other["team_id"] == "T0002"
    assert (other["team"], other["url"]) == ("Second Team", "https://second.slack.com/")
    assert (other["user_id"], other["bot_id"]) == (team.bot_user_id, team.bot_id)
    assert other["is_enterprise_install"] is False
    assert "enterprise_id" not in other


def test_an_org_wide_install_reaches_every_team_of_its_enterprise(fake: FakeSlack) -> None:
    fake.add_team("T0010", "Grid East", enterprise_id="E1", enterprise_name="Grid Org")
    fake.add_team("T0011", "Grid West", enterprise_id="E1")
    fake.add_channel("C10", "east", team_id="T0010")
    fake.add_channel("C11", "west", team_id="T0011")
    org_wide = fake.issue_token("T0010", is_enterprise_install=True)
    one_team = fake.issue_token("T0010")

    assert call(fake, "chat.postMessage", org_wide, channel="C11", text="hi")["ok"] is True
    assert call(fake, "chat.postMessage", org_wide, channel="C2", text="hi")["error"] == "channel_not_found"
    assert call(fake, "chat.postMessage", one_team, channel="C11", text="hi")["error"] == "channel_not_found"
    auth = call(fake, "auth.test", org_wide)
    assert (auth["is_enterprise_install"], auth["enterprise_id"]) == (True, "E1")
    assert (auth["team_id"], auth["team"]) == ("E1", "Grid Org")
    assert call(fake, "auth.test", one_team)["team_id"] == "T0010"


def test_a_trigger_opens_a_view_only_for_its_team(fake: FakeSlack) -> None:
    second = fake.issue_token("T0002")
    view = '{"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}'

    refused = call(fake, "views.open", second, trigger_id=fake.issue_trigger(), view=view)
    opened = call(fake, "views.open", second, trigger_id=fake.issue_trigger("T0002"), view=view)
    changed = call(fake, "views.update", "xoxb-test", view_id=opened["view"]["id"], view=view)

    assert refused["error"] == "invalid_trigger_id"
    assert opened["view"]["team_id"] == "T0002"
    assert changed["error"] == "not_found"


def test_an_uninstalled_team_s_tokens_are_revoked_and_the_others_keep_working(fake: FakeSlack) -> None:
    second, again = fake.issue_token("T0002"), fake.issue_token("T0002")

    killed = fake.uninstall("T0002")

    assert sorted(killed) == sorted([second, again])
    assert call(fake, "auth.test", second)["error"] == "token_revoked"
    assert call(fake, "chat.postMessage", again, channel="C2", text="hi")["error"] == "token_revoked"
    assert call(fake, "auth.test", "xoxb-test")["ok"] is True
    assert call(fake, "auth.test", "xoxb-made-up")["error"] == "invalid_auth"


def test_users_and_channels_need_a_known_team(fake: FakeSlack) -> None:
    with pytest.raises(KeyError, match="add_team"):
        fake.add_channel("C9", "nowhere", team_id="T0404")
    with pytest.raises(KeyError, match="add_team"):
        fake.add_user("U9", team_id="T0404")
