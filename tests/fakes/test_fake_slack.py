"""Tests of the fake Slack itself: if these fail, bot tests built on it mean nothing."""

from __future__ import annotations

import asyncio
import json
import re
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

from tests.fakes.blockkit import block_errors, options_errors, view_errors
from tests.fakes.signing import (
    block_actions_body,
    block_actions_payload,
    block_suggestion_payload,
    event_body,
    filled_state,
    option,
    shortcut_payload,
    sign,
    slash_command_body,
    slash_command_payload,
    view_block_actions_payload,
    view_submission_body,
    view_submission_payload,
)
from tests.fakes.slack import BOT_USER_ID, FakeSlack

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hi*", "verbatim": True}}]


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


MODULES = [option("Python basics", "m1"), option("SQL", "m2")]
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "book",
    "private_metadata": "C1",
    "title": plain("Book a session"),
    "submit": plain("Book"),
    "blocks": [
        {
            "type": "input",
            "block_id": "module",
            "label": plain("Module"),
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": MODULES,
                "initial_option": MODULES[1],
            },
        },
        {
            "type": "input",
            "block_id": "trainer",
            "label": plain("Trainer"),
            "element": {"type": "external_select", "action_id": "who", "min_query_length": 2},
        },
        {
            "type": "input",
            "block_id": "days",
            "label": plain("Days"),
            "element": {
                "type": "checkboxes",
                "action_id": "days",
                "options": [option("Mon", "mon"), option("Tue", "tue")],
            },
        },
        {
            "type": "input",
            "block_id": "at",
            "label": plain("At"),
            "element": {"type": "timepicker", "action_id": "at", "initial_time": "09:30"},
        },
        {
            "type": "input",
            "block_id": "where",
            "label": plain("Post in"),
            "element": {
                "type": "conversations_select",
                "action_id": "where",
                "default_to_current_conversation": True,
                "response_url_enabled": True,
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": plain("Note"),
            "element": {"type": "plain_text_input", "action_id": "note"},
        },
        {
            "type": "actions",
            "block_id": "more",
            "elements": [
                {"type": "button", "action_id": "help", "text": plain("Help")},
                {"type": "multi_external_select", "action_id": "tags"},
            ],
        },
    ],
}


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


async def test_take_records_hands_over_each_record_once(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_channel("C1", "general")
    await client.chat_postMessage(channel="C1", text="first")
    async with aiohttp.ClientSession() as session:
        await session.post(fake.response_url("cmd"), json={"text": "answer"})

    calls, responses = fake.take_records()
    assert [c.method for c in calls] == ["chat.postMessage"]
    assert [r.body["text"] for r in responses] == ["answer"]
    assert fake.take_records() == ([], [])

    await client.chat_postMessage(channel="C1", text="second")
    calls, _ = fake.take_records()
    assert [c.args["text"] for c in calls] == ["second"]
    assert [m["text"] for m in fake.messages] == ["first", "second"], "messages are kept"
    fake.forget_messages()
    assert fake.messages == []
    assert fake.calls == [], "taken records are not recorded twice"


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


# --------------------------------------------------------------------------- modals and triggers


class Monotonic:
    """A monotonic clock the test moves, so trigger expiry is tested without waiting 3 s."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_views_open_records_the_modal_as_slack_returns_it(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    opened = (await client.views_open(trigger_id=fake.issue_trigger(), view=MODAL))["view"]

    assert opened["id"].startswith("V")
    assert opened["type"] == "modal"
    assert opened["root_view_id"] == opened["id"]
    assert opened["state"] == {"values": {}}
    assert (opened["callback_id"], opened["private_metadata"]) == ("book", "C1")
    assert (opened["close"], opened["previous_view_id"]) == (None, None)
    assert opened["hash"]
    assert fake.modal(opened["id"]) == opened
    assert fake.modals == [opened]
    assert fake.modal("V404") is None
    assert fake.calls_to("views.open", ok=True)[0].args["view"] == MODAL


async def test_views_open_ignores_the_fields_slack_owns(fake: FakeSlack, client: AsyncWebClient) -> None:
    view = {**MODAL, "id": "VMINE", "hash": "mine", "state": {"values": {"x": {}}}}

    opened = (await client.views_open(trigger_id=fake.issue_trigger(), view=view))["view"]

    assert opened["id"] != "VMINE"
    assert opened["hash"] != "mine"
    assert opened["state"] == {"values": {}}


async def test_form_encoded_views_open_decodes_the_view(fake: FakeSlack) -> None:
    form = {"token": "xoxb-test", "trigger_id": fake.issue_trigger(), "view": json.dumps(MODAL)}

    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.api_url + "views.open", data=form) as resp,
    ):
        body = await resp.json()

    assert body["ok"] is True
    assert fake.modals[0]["blocks"] == MODAL["blocks"]


async def test_a_trigger_opens_one_view_within_three_seconds() -> None:
    clock = Monotonic()
    with FakeSlack(monotonic=clock) as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        fresh, late = fake.issue_trigger(), fake.issue_trigger()
        assert re.fullmatch(r"\d+\.\d+\.[0-9a-f]+", fresh)

        clock.now += 2.9
        assert (await client.views_open(trigger_id=fresh, view=MODAL))["ok"]
        clock.now += 0.2
        errors = []
        for trigger_id in (fresh, late, "1700000000.123.abc", ""):
            with pytest.raises(SlackApiError) as caught:
                await client.views_open(trigger_id=trigger_id, view=MODAL)
            errors.append(caught.value.response["error"])

    assert errors == [
        "exchanged_trigger_id",
        "expired_trigger_id",
        "invalid_trigger_id",
        "invalid_trigger_id",
    ]
    assert len(fake.modals) == 1


async def test_trigger_expiry_runs_on_real_time() -> None:
    with FakeSlack(trigger_seconds=0.05) as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        trigger_id = fake.issue_trigger()
        passed = time.monotonic() + 0.05
        await fake.wait_for_async(lambda: time.monotonic() > passed, timeout=2, what="the window to pass")

        with pytest.raises(SlackApiError, match="expired_trigger_id"):
            await client.views_open(trigger_id=trigger_id, view=MODAL)


async def test_payload_builders_take_the_fakes_trigger(fake: FakeSlack, client: AsyncWebClient) -> None:
    trigger_id = fake.issue_trigger()
    payloads = [
        block_actions_payload("open", trigger_id=trigger_id),
        slash_command_payload(trigger_id=trigger_id),
        shortcut_payload("book", trigger_id),
        view_block_actions_payload(MODAL, {"type": "button", "action_id": "help"}, trigger_id=trigger_id),
        view_submission_payload(MODAL, {}, trigger_id=trigger_id),
    ]

    assert {p["trigger_id"] for p in payloads} == {trigger_id}
    assert (await client.views_open(trigger_id=payloads[0]["trigger_id"], view=MODAL))["ok"]
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        await client.views_open(trigger_id=block_actions_payload("open")["trigger_id"], view=MODAL)


async def test_views_update_replaces_the_modal_with_a_new_hash(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    view = {**MODAL, "external_id": "booking-U1"}
    opened = (await client.views_open(trigger_id=fake.issue_trigger(), view=view))["view"]
    changed = {**MODAL, "title": plain("Booked"), "blocks": BLOCKS}

    by_id = (await client.views_update(view_id=opened["id"], view=changed, hash=opened["hash"]))["view"]
    by_external = (await client.views_update(external_id="booking-U1", view=MODAL))["view"]

    assert by_id["id"] == by_external["id"] == by_id["root_view_id"] == opened["id"]
    assert by_id["title"]["text"] == "Booked"
    assert by_id["external_id"] == "booking-U1"
    assert len({opened["hash"], by_id["hash"], by_external["hash"]}) == 3
    assert fake.modal(opened["id"]) == by_external
    assert len(fake.modals) == 1
    assert [c.ok for c in fake.calls if c.method.startswith("views.")] == [True, True, True]


async def test_views_update_refuses_a_stale_hash_and_unknown_views(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    opened = (await client.views_open(trigger_id=fake.issue_trigger(), view=MODAL))["view"]
    await client.views_update(view_id=opened["id"], view=MODAL)

    with pytest.raises(SlackApiError, match="hash_conflict"):
        await client.views_update(view_id=opened["id"], view=MODAL, hash=opened["hash"])
    with pytest.raises(SlackApiError, match="not_found"):
        await client.views_update(view_id="V404", view=MODAL)
    with pytest.raises(SlackApiError, match="not_found"):
        await client.views_update(external_id="nobody", view=MODAL)


async def test_a_duplicate_external_id_is_refused(fake: FakeSlack, client: AsyncWebClient) -> None:
    view = {**MODAL, "external_id": "booking-U1"}
    await client.views_open(trigger_id=fake.issue_trigger(), view=view)

    with pytest.raises(SlackApiError, match="duplicate_external_id"):
        await client.views_open(trigger_id=fake.issue_trigger(), view=view)


async def test_views_update_can_change_a_home_tab(fake: FakeSlack, client: AsyncWebClient) -> None:
    published = (await client.views_publish(user_id="U1", view={"type": "home", "blocks": []}))["view"]

    updated = await client.views_update(view_id=published["id"], view={"type": "home", "blocks": BLOCKS})

    assert fake.home_view("U1") == updated["view"]
    assert fake.modals == []
    with pytest.raises(SlackApiError, match="hash_conflict"):
        await client.views_publish(user_id="U1", view={"type": "home", "blocks": []}, hash=published["hash"])


async def test_a_view_breaking_block_kit_is_invalid_arguments(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    trigger_id = fake.issue_trigger()
    long_title = {**MODAL, "title": plain("A title far too long for Slack")}

    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger_id, view=long_title)

    answer = caught.value.response
    assert answer["error"] == "invalid_arguments"
    assert answer["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    assert (await client.views_open(trigger_id=trigger_id, view=MODAL))["ok"], (
        "a refused view keeps the trigger"
    )
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        await client.views_update(view_id=fake.modals[0]["id"], view={**MODAL, "blocks": BLOCKS * 101})
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        await client.views_publish(user_id="U1", view=MODAL)


# --------------------------------------------------------------------------- Block Kit rules


def _input(element: dict[str, Any], block_id: str = "b") -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": plain("L"), "element": element}


def _modal(*blocks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("T"), "submit": plain("OK"), "blocks": list(blocks), **fields}


def _select(options: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "a", "options": options, **fields}


@pytest.mark.parametrize(
    ("view", "message"),
    [
        ({"type": "dialog", "blocks": []}, "must be one of: modal, home [json-pointer:/view/type]"),
        ({"type": "modal", "blocks": []}, "missing required field: title [json-pointer:/view]"),
        (
            _modal(submit={"type": "mrkdwn", "text": "OK"}),
            "must be one of: plain_text [json-pointer:/view/submit/type]",
        ),
        (_modal(close=plain("C" * 25)), "must be less than 25 characters [json-pointer:/view/close/text]"),
        (
            {"type": "modal", "title": plain("T"), "blocks": [_input({"type": "plain_text_input"})]},
            "missing required field: submit [json-pointer:/view]",
        ),
        (_modal(callback_id="c" * 256), "must be less than 256 characters [json-pointer:/view/callback_id]"),
        (
            _modal(private_metadata="m" * 3001),
            "must be less than 3001 characters [json-pointer:/view/private_metadata]",
        ),
        (_modal(external_id="e" * 256), "must be less than 256 characters [json-pointer:/view/external_id]"),
        (_modal(*[{"type": "divider"}] * 101), "must be less than 101 items [json-pointer:/view/blocks]"),
        (
            _modal({"type": "divider", "block_id": "x"}, {"type": "divider", "block_id": "x"}),
            "duplicate block_id [json-pointer:/view/blocks/1/block_id]",
        ),
        (
            _modal({**_input({"type": "plain_text_input"}), "label": plain("L" * 2001)}),
            "must be less than 2001 characters [json-pointer:/view/blocks/0/label/text]",
        ),
        (
            _modal({"type": "input", "label": plain("L")}),
            "missing required field: element [json-pointer:/view/blocks/0]",
        ),
        (
            _modal({**_input({"type": "plain_text_input"}), "optional": "yes"}),
            "must be a boolean [json-pointer:/view/blocks/0/optional]",
        ),
        (
            _modal(_input(_select([option("A", "a")], placeholder=plain("P" * 151)))),
            "must be less than 151 characters [json-pointer:/view/blocks/0/element/placeholder/text]",
        ),
        (
            _modal(_input(_select([option(str(i), str(i)) for i in range(101)]))),
            "must be less than 101 items [json-pointer:/view/blocks/0/element/options]",
        ),
        (
            _modal(_input(_select([option("A" * 76, "a")]))),
            "must be less than 76 characters [json-pointer:/view/blocks/0/element/options/0/text/text]",
        ),
        (
            _modal(_input(_select([option("A", "a" * 151)]))),
            "must be less than 151 characters [json-pointer:/view/blocks/0/element/options/0/value]",
        ),
        (
            _modal(_input(_select([option("A", "a")], initial_option=option("A", "b")))),
            "must match one of the options [json-pointer:/view/blocks/0/element/initial_option]",
        ),
        (
            _modal(_input({**_select([option(str(i), str(i)) for i in range(11)]), "type": "checkboxes"})),
            "must be less than 11 items [json-pointer:/view/blocks/0/element/options]",
        ),
        (
            _modal(
                {
                    "type": "section",
                    "text": plain("S"),
                    "accessory": {**_select([option("A", "a")]), "type": "overflow"},
                }
            ),
            "must be more than 1 items [json-pointer:/view/blocks/0/accessory/options]",
        ),
        (
            _modal(_input({"type": "external_select", "action_id": "a", "min_query_length": -1})),
            "must be a non-negative integer [json-pointer:/view/blocks/0/element/min_query_length]",
        ),
        (
            _modal(_input({"type": "timepicker", "action_id": "a", "initial_time": "24:00"})),
            "must match the format HH:mm [json-pointer:/view/blocks/0/element/initial_time]",
        ),
        (
            _modal(
                {
                    "type": "actions",
                    "elements": [
                        {"type": "conversations_select", "action_id": "a", "response_url_enabled": True}
                    ],
                }
            ),
            "response_url_enabled is only allowed in input blocks of modals "
            "[json-pointer:/view/blocks/0/elements/0/response_url_enabled]",
        ),
        (
            _modal(
                {
                    "type": "actions",
                    "elements": [{"type": "button", "action_id": "a", "text": plain("x")}] * 2,
                }
            ),
            "duplicate action_id [json-pointer:/view/blocks/0/elements/1/action_id]",
        ),
    ],
)
def test_view_errors(view: dict[str, Any], message: str) -> None:
    assert view_errors(view) == [message]


def test_views_that_follow_the_rules_pass() -> None:
    external_initial = _input(
        {"type": "external_select", "action_id": "a", "initial_option": option("Z", "z")}
    )
    home = {"type": "home", "blocks": BLOCKS}

    assert view_errors(MODAL) == []
    assert view_errors(_modal(external_initial)) == []
    assert view_errors(home) == []
    assert view_errors(home, types=("modal",)) == ["must be one of: modal [json-pointer:/view/type]"]


def test_message_blocks_get_the_element_rules_too() -> None:
    picker = {"type": "section", "text": plain("Pick"), "accessory": _select([option("A", "a" * 151)])}

    assert block_errors([picker], 50) == [
        "must be less than 151 characters [json-pointer:/blocks/0/accessory/options/0/value]"
    ]
    assert block_errors(BLOCKS, 50) == []


@pytest.mark.parametrize(
    ("answer", "messages"),
    [
        ({"options": [option("A", "a")]}, []),
        ({"option_groups": [{"label": plain("G"), "options": [option("A", "a")]}]}, []),
        ({"options": [option("A", "a")] * 101}, ["must be less than 101 items [json-pointer:/options]"]),
        (
            {"options": [option("A" * 76, "a")]},
            ["must be less than 76 characters [json-pointer:/options/0/text/text]"],
        ),
        (
            {"options": [option("A", "a" * 151)]},
            ["must be less than 151 characters [json-pointer:/options/0/value]"],
        ),
        (
            {"options": [{"text": {"type": "mrkdwn", "text": "*A*"}, "value": "a"}]},
            ["must be one of: plain_text [json-pointer:/options/0/text/type]"],
        ),
        (
            {"option_groups": [{"label": plain("G"), "options": []}] * 101},
            ["must be less than 101 items [json-pointer:/option_groups]"],
        ),
        (
            {"option_groups": [{"label": plain("G" * 76), "options": [option("A", "a")] * 101}]},
            [
                "must be less than 76 characters [json-pointer:/option_groups/0/label/text]",
                "must be less than 101 items [json-pointer:/option_groups/0/options]",
            ],
        ),
        ({}, ["must provide exactly one of options, option_groups [json-pointer:/]"]),
    ],
)
def test_options_errors(answer: dict[str, Any], messages: list[str]) -> None:
    assert options_errors(answer) == messages


# --------------------------------------------------------------------------- conversations.members


async def test_conversations_members_pages_with_a_cursor(fake: FakeSlack, client: AsyncWebClient) -> None:
    people = [f"U{i:03d}" for i in range(250)]
    fake.add_channel("C1", "general", members=people)

    pages, cursor = [], None
    while cursor != "":
        page = await client.conversations_members(channel="C1", cursor=cursor, limit=100)
        pages.append(page["members"])
        cursor = page["response_metadata"]["next_cursor"]

    assert [len(p) for p in pages] == [100, 100, 50]
    assert [member for page in pages for member in page] == people
    assert len((await client.conversations_members(channel="C1"))["members"]) == 100
    assert len((await client.conversations_members(channel="C1", limit=5000))["members"]) == 250
    with pytest.raises(SlackApiError, match="invalid_cursor"):
        await client.conversations_members(channel="C1", cursor="not-ours")


async def test_conversations_members_hides_what_the_bot_cannot_see(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.add_channel("GSECRET", "secret", is_private=True, is_member=False, members=["U1"])
    fake.add_channel("CPUB", "public", is_member=False, members=["U1"])

    for channel in ("GSECRET", "C404"):
        with pytest.raises(SlackApiError, match="channel_not_found"):
            await client.conversations_members(channel=channel)
    fake.join("GSECRET", BOT_USER_ID)
    fake.join("GSECRET", "U2")
    fake.leave("GSECRET", "U1")

    assert (await client.conversations_members(channel="GSECRET"))["members"] == [BOT_USER_ID, "U2"]
    assert (await client.conversations_members(channel="CPUB"))["members"] == ["U1"]
    fake.leave("GSECRET", BOT_USER_ID)
    with pytest.raises(SlackApiError, match="channel_not_found"):
        await client.conversations_members(channel="GSECRET")
    with pytest.raises(KeyError, match="add_channel"):
        fake.join("C404", "U1")


# --------------------------------------------------------------------------- view payloads


def test_filled_state_has_slacks_shapes() -> None:
    answers = {
        "who": option("Ada", "U7"),
        "days": [option("Tue", "tue")],
        "note": "bring a laptop",
        "tags": [option("beginner", "t1")],
    }

    values = filled_state(MODAL, answers, current_conversation="C9")

    assert values == {
        "module": {"pick": {"type": "static_select", "selected_option": MODULES[1]}},
        "trainer": {"who": {"type": "external_select", "selected_option": option("Ada", "U7")}},
        "days": {"days": {"type": "checkboxes", "selected_options": [option("Tue", "tue")]}},
        "at": {"at": {"type": "timepicker", "selected_time": "09:30"}},
        "where": {"where": {"type": "conversations_select", "selected_conversation": "C9"}},
        "note": {"note": {"type": "plain_text_input", "value": "bring a laptop"}},
        "more": {"tags": {"type": "multi_external_select", "selected_options": [option("beginner", "t1")]}},
    }


def test_filled_state_without_answers_is_the_initial_state() -> None:
    values = filled_state(MODAL, {"pick": MODULES[0], "at": "17:05"})

    assert values["module"]["pick"]["selected_option"] == MODULES[0]
    assert values["at"]["at"]["selected_time"] == "17:05"
    assert values["trainer"]["who"]["selected_option"] is None
    assert values["days"]["days"]["selected_options"] == []
    assert values["where"]["where"]["selected_conversation"] is None
    assert values["note"]["note"]["value"] is None


def test_filled_state_takes_the_views_own_option() -> None:
    bare = {"text": {"type": "plain_text", "text": "A"}, "value": "a"}
    view = _modal(_input(_select([bare])))

    assert filled_state(view, {"a": option("A", "a")})["b"]["a"]["selected_option"] == bare


@pytest.mark.parametrize(
    ("view", "answers", "match"),
    [
        (
            _modal({**_input({"type": "plain_text_input", "action_id": "a"}), "block_id": None}),
            {},
            "block_id",
        ),
        (_modal(_input({"type": "plain_text_input"})), {}, "action_id"),
        (MODAL, {"typo": "x"}, "typo"),
        (MODAL, {"pick": option("Rust", "m9")}, "not among the options"),
        (MODAL, {"days": option("Mon", "mon")}, "list"),
        (MODAL, {"at": 930}, "string"),
    ],
)
def test_filled_state_refuses_what_slack_would_not_send(
    view: dict[str, Any], answers: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        filled_state(view, answers)


async def test_view_submission_carries_the_view_as_slack_has_it(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    opened = (await client.views_open(trigger_id=fake.issue_trigger(), view=MODAL))["view"]
    values = filled_state(opened, {"note": "hi"})

    payload = view_submission_payload(opened, values, "U9")
    body = json.loads(parse_qs(view_submission_body(opened, values, "U9"))["payload"][0])

    assert payload["type"] == "view_submission"
    assert (payload["view"]["id"], payload["view"]["hash"]) == (opened["id"], opened["hash"])
    assert payload["view"]["state"] == {"values": values}
    assert payload["view"]["callback_id"] == "book"
    assert payload["response_urls"] == []
    assert (payload["user"]["id"], payload["team"]["id"]) == ("U9", "T0001")
    assert body["view"]["state"] == payload["view"]["state"]
    assert fake.modal(opened["id"])["state"] == {"values": {}}, "the payload is a copy"


def test_block_suggestion_shortcut_and_view_actions_payloads() -> None:
    view = {**MODAL, "id": "V42"}
    action = {
        "type": "external_select",
        "action_id": "who",
        "block_id": "trainer",
        "selected_option": option("Ada", "U7"),
        "action_ts": "1700000000.000001",
    }

    in_modal = block_suggestion_payload("who", "Ad", view, "trainer")
    in_message = block_suggestion_payload("tags", "py")
    shortcut = shortcut_payload("book", "1.2.abc", "U9")
    clicked = view_block_actions_payload(view, action)

    assert (in_modal["type"], in_modal["action_id"], in_modal["value"]) == ("block_suggestion", "who", "Ad")
    assert in_modal["container"] == {"type": "view", "view_id": "V42"}
    assert in_modal["view"]["id"] == "V42"
    assert (in_message["container"]["type"], in_message["channel"]["id"]) == ("message", "C1")
    assert "view" not in in_message
    assert (shortcut["type"], shortcut["callback_id"], shortcut["trigger_id"]) == (
        "shortcut",
        "book",
        "1.2.abc",
    )
    assert shortcut["user"] == {"id": "U9", "username": "u9", "team_id": "T0001"}
    assert (shortcut["is_enterprise_install"], shortcut["enterprise"]) == (False, None)
    assert clicked["container"] == {"type": "view", "view_id": "V42"}
    assert clicked["actions"] == [action]
    assert clicked["view"]["state"] == {"values": {}}
    assert not {"channel", "message", "response_url", "response_urls"} & clicked.keys()
