"""Tests of the fake Slack itself: if these fail, bot tests built on it mean nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.signing import (
    block_actions_body,
    event_body,
    sign,
    slash_command_body,
    slash_command_payload,
)
from tests.fakes.slack import FakeSlack

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hi*", "verbatim": True}}]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url)


# --------------------------------------------------------------------------- Web API


async def test_post_message_with_blocks_is_recorded_decoded(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_channel("C1", "general")

    first = await client.chat_postMessage(channel="C1", text="Hi", blocks=BLOCKS)
    second = await client.chat_postMessage(channel="C1", text="again")

    (call, _) = fake.calls_to("chat.postMessage")
    assert call.args["blocks"] == BLOCKS
    assert call.token == "xoxb-test"
    assert call.ok
    assert first["channel"] == "C1"
    assert first["message"]["blocks"] == BLOCKS
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])


async def test_form_encoded_calls_decode_json_string_fields(fake: FakeSlack) -> None:
    fake.add_channel("C1", "general")
    form = {"token": "xoxb-test", "channel": "C1", "text": "t", "blocks": json.dumps(BLOCKS)}

    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.api_url + "chat.postMessage", data=form) as resp,
    ):
        body = await resp.json()

    assert body["ok"] is True
    (call,) = fake.calls_to("chat.postMessage")
    assert call.args == {"channel": "C1", "text": "t", "blocks": BLOCKS}
    assert call.token == "xoxb-test"


async def test_auth_test_and_invalid_token(fake: FakeSlack, client: AsyncWebClient) -> None:
    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T0001")

    with pytest.raises(SlackApiError) as caught:
        await AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url).auth_test()

    assert caught.value.response["error"] == "invalid_auth"
    assert [c.error for c in fake.calls] == [None, "invalid_auth"]


async def test_rate_limit_surfaces_as_429_then_recovers(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_channel("C1", "general")
    fake.rate_limit_next("chat.postMessage", 1, retry_after=7)

    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C1", text="x")

    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"
    assert (await client.chat_postMessage(channel="C1", text="x"))["ok"]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]


async def test_error_next_injects_errors(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.error_next("views.publish", "internal_error", n=2)
    view = {"type": "home", "blocks": BLOCKS}

    for _ in range(2):
        with pytest.raises(SlackApiError, match="internal_error"):
            await client.views_publish(user_id="U1", view=view)
    published = await client.views_publish(user_id="U1", view=view)

    assert published["view"]["id"].startswith("V")
    assert fake.home_view("U1")["blocks"] == BLOCKS


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("CPRIV", "not_in_channel"),
        ("CARCH", "is_archived"),
        ("CNEVER", "channel_not_found"),
        ("UOFF", "messages_tab_disabled"),
        ("DUGONE", "account_inactive"),
        ("UNOBODY", "channel_not_found"),
    ],
)
async def test_posting_rules(fake: FakeSlack, client: AsyncWebClient, channel: str, error: str) -> None:
    fake.add_channel("CPRIV", "secret", is_private=True, is_member=False)
    fake.add_channel("CARCH", "old", is_archived=True)
    fake.add_user("UOFF")
    fake.add_user("UGONE")
    fake.disable_messages_tab("UOFF")
    fake.deactivate_user("UGONE")

    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=channel, text="x")

    assert caught.value.response["error"] == error


async def test_public_channel_and_dm_posts_succeed(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_channel("CPUB", "announcements", is_member=False)
    fake.add_user("U1")

    public = await client.chat_postMessage(channel="CPUB", text="x")
    dm = await client.chat_postMessage(channel="U1", text="x")
    opened = await client.conversations_open(users="U1")

    assert public["ok"]
    assert dm["channel"] == opened["channel"]["id"] == "DU1"


async def test_too_many_blocks_is_invalid_blocks(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_channel("C1", "general")

    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C1", text="x", blocks=BLOCKS * 51)

    assert caught.value.response["error"] == "invalid_blocks"


async def test_users_info_and_lookup(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_user("U1", name="ada", tz="Asia/Tokyo", email="Ada@Example.com")

    info = (await client.users_info(user="U1"))["user"]
    found = (await client.users_lookupByEmail(email="ada@example.com"))["user"]

    assert (info["tz"], info["tz_offset"], info["tz_label"]) == (
        "Asia/Tokyo",
        9 * 3600,
        "Japan Standard Time",
    )
    assert info["profile"]["email"] == "Ada@Example.com"
    assert found["id"] == "U1"
    with pytest.raises(SlackApiError, match="user_not_found"):
        await client.users_info(user="U404")
    with pytest.raises(SlackApiError, match="users_not_found"):
        await client.users_lookupByEmail(email="nobody@example.com")


async def test_conversations_info(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_channel("G1", "team", is_private=True)

    info = (await client.conversations_info(channel="G1"))["channel"]

    assert (info["name"], info["is_private"], info["is_member"]) == ("team", True, True)
    with pytest.raises(SlackApiError, match="channel_not_found"):
        await client.conversations_info(channel="C404")


async def test_unknown_methods_are_recorded(fake: FakeSlack, client: AsyncWebClient) -> None:
    answer = await client.api_call("reactions.add", json={"name": "tada"})

    assert answer["ok"]
    assert fake.calls_to("reactions.add")[0].args == {"name": "tada"}


def test_wait_for_calls_times_out_with_a_useful_message(fake: FakeSlack) -> None:
    started = time.monotonic()

    with pytest.raises(TimeoutError, match=r"chat\.postMessage"):
        fake.wait_for_calls("chat.postMessage", 1, timeout=0.05)

    assert time.monotonic() - started < 1


async def test_blocking_wait_refuses_to_freeze_the_event_loop(fake: FakeSlack) -> None:
    with pytest.raises(RuntimeError, match="_async"):
        fake.wait_for_calls("chat.postMessage", 1, timeout=1)


# --------------------------------------------------------------------------- response_url


async def test_response_url_accepts_five_posts(fake: FakeSlack) -> None:
    url = fake.response_url("cmd")
    statuses = []

    async with aiohttp.ClientSession() as session:
        for index in range(6):
            async with session.post(url, json={"text": f"#{index}"}) as resp:
                statuses.append((resp.status, (await resp.json())["ok"]))

    assert statuses == [(200, True)] * 5 + [(404, False)]
    assert [r.body["text"] for r in fake.responses_to("cmd")] == [f"#{i}" for i in range(5)]
    assert fake.rejected_responses[0].status == 404
    assert len(await fake.wait_for_responses_async(5)) == 5


# --------------------------------------------------------------------------- signing


def test_signature_matches_slack_sdk_verifier() -> None:
    body = slash_command_body(text="today & <tomorrow>", response_url="http://x/response/r1")
    headers = sign(body, "s3cret")

    verifier = SignatureVerifier("s3cret")

    assert verifier.is_valid_request(body, headers)
    assert verifier.is_valid_request(body.encode(), headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = sign(body, "s3cret", timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)


def test_bodies_are_shaped_like_slack() -> None:
    command = parse_qs(slash_command_body(text="tomorrow", user_id="U9"))
    action = json.loads(parse_qs(block_actions_body("rsvp", "42", "U9", "C1", "http://r"))["payload"][0])
    event = json.loads(event_body({"type": "app_home_opened", "user": "U9"}))

    assert (command["command"], command["text"], command["user_id"]) == (["/sessions"], ["tomorrow"], ["U9"])
    assert action["actions"][0] | {"type": "button"} == action["actions"][0]
    assert (action["actions"][0]["value"], action["user"]["id"], action["response_url"]) == (
        "42",
        "U9",
        "http://r",
    )
    assert (event["type"], event["event"]["user"]) == ("event_callback", "U9")


# --------------------------------------------------------------------------- Socket Mode


async def test_socket_mode_round_trip(fake: FakeSlack) -> None:
    web_client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    socket_client = SocketModeClient(app_token="xapp-test", web_client=web_client)
    seen: list[dict[str, Any]] = []

    async def remember(_: SocketModeClient, message: dict[str, Any], raw: str | None) -> None:
        seen.append(message)

    async def ack(client: SocketModeClient, request: SocketModeRequest) -> None:
        response = SocketModeResponse(request.envelope_id, payload={"text": "on it"})
        await client.send_socket_mode_response(response)

    socket_client.message_listeners.append(remember)
    socket_client.socket_mode_request_listeners.append(ack)
    try:
        await socket_client.connect()
        await fake.wait_socket_connected_async()
        envelope_id = fake.socket_send(slash_command_payload(text="today"))
        acked = await fake.wait_for_ack_async(envelope_id)
    finally:
        await socket_client.close()

    assert acked.payload == {"text": "on it"}
    assert [a.envelope_id for a in fake.socket_acks] == [envelope_id]
    assert seen[0]["type"] == "hello"
    assert seen[1]["payload"]["text"] == "today"
    assert fake.calls_to("apps.connections.open")[0].token == "xapp-test"
    await fake.wait_for_async(lambda: not fake.socket_connected, what="the client to leave")


async def test_socket_send_without_client_fails_fast(fake: FakeSlack) -> None:
    with pytest.raises(RuntimeError, match="no Socket Mode client"):
        await asyncio.to_thread(fake.socket_send, {"x": 1})


async def test_connections_open_needs_an_app_token(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        await client.apps_connections_open(app_token="xoxb-test")

    opened = await client.apps_connections_open(app_token="xapp-test")

    assert opened["url"] == fake.socket_url
