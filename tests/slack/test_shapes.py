"""Signed, but not the shape Slack sends: refused at `/slack/events` before any listener runs.

Each request below reached a listener (or Bolt's parser) and ended in a 500, a traceback, a
"Something went wrong", a missing ack or silence. Each now gets a 400 and one log line
(`outcome=refused:malformed`, or the server's line for a body that cannot be parsed at all),
with no traceback, and nothing reaches Slack or the store. The same check guards Socket Mode,
where a refused envelope is left unacknowledged, as Bolt leaves any request it does not handle.

The bot runs on the FakeClock of tests/conftest.py with the sample org; signatures are checked
against the real clock, as Slack's are.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.features.listing.ids import Action
from bot.slack.server import CheckedSocketModeHandler, run_socket_mode
from tests.conftest import MakeBot
from tests.fakes.signing import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    block_actions_payload,
    event_payload,
    interactivity_body,
    shortcut_payload,
    signed_headers,
    slash_command_payload,
    view_block_actions_payload,
    view_submission_payload,
)
from tests.fakes.slack import Call
from tests.slack.harness import USER, SlackBot, buttons

JSON = dict[str, Any]
SLACK_WAIT = 3.0
DEEP = 50_000
BARRIER_USER = "U2"
LEAKS = ("Something went wrong", "Traceback", "Internal Server Error")
SHORTCUT = "sessions.upcoming.v1"
"""The global shortcut's callback_id (manifest.yml)."""
BROWSE = "forms.browse.v1"
"""The shortcut modal's module menu."""


def home_opened(user: str | None = USER) -> JSON:
    event = {"type": "app_home_opened", "channel": "D1", "tab": "home", "event_ts": "1.2"}
    return event if user is None else {**event, "user": user}


async def listing(sb: SlackBot) -> JSON:
    sent = await sb.command("Tools & Systems")
    assert sent.status == 200
    return sent.body


async def form_button(sb: SlackBot) -> JSON:
    """The listing's "Remind me of every session…" button."""
    found = buttons(await listing(sb), "forms.open_reminder")
    assert found
    return found[0]


def click(sb: SlackBot, button: JSON, **changes: Any) -> JSON:
    payload = block_actions_payload(
        button["action_id"],
        button.get("value"),
        response_url=sb.slack.response_url("bad"),
        trigger_id=sb.slack.issue_trigger(),
    )
    return {**payload, **changes}


# --------------------------------------------------------------------------- the requests

Built = tuple[str, str]
Builder = Callable[[SlackBot], Awaitable[Built]]


async def payload_nested_deep(sb: SlackBot) -> Built:
    return "payload=" + "%5B" * DEEP + "%5D" * DEEP, FORM_CONTENT_TYPE


async def event_nested_deep(sb: SlackBot) -> Built:
    body = json.dumps(event_payload({**home_opened(), "x": "@@"})).replace('"@@"', "[" * DEEP + "]" * DEEP)
    return body, JSON_CONTENT_TYPE


async def view_state_a_string(sb: SlackBot) -> Built:
    modal = await sb.click_to_open(await form_button(sb))
    payload = view_submission_payload(modal, {})
    payload["view"]["state"] = "junk"
    return interactivity_body(payload), FORM_CONTENT_TYPE


async def view_state_a_list(sb: SlackBot) -> Built:
    modal = await sb.click_to_open(await form_button(sb))
    payload = view_submission_payload(modal, {})
    payload["view"]["state"] = ["junk"]
    return interactivity_body(payload), FORM_CONTENT_TYPE


async def selected_option_a_string(sb: SlackBot) -> Built:
    help_message = await sb.command("help")
    (picker,) = [e for b in help_message.body["blocks"] if (e := b.get("accessory"))]
    action = {"type": "static_select", "action_id": picker["action_id"], "block_id": "b", "action_ts": "1.2"}
    payload = click(sb, {"action_id": picker["action_id"]}, actions=[{**action, "selected_option": "junk"}])
    return interactivity_body(payload), FORM_CONTENT_TYPE


async def channel_a_string(sb: SlackBot) -> Built:
    return interactivity_body(click(sb, await form_button(sb), channel="C1")), FORM_CONTENT_TYPE


async def view_a_string(sb: SlackBot) -> Built:
    action = {
        "type": "external_select",
        "action_id": BROWSE,
        "block_id": "forms.browse",
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": "a/b/c"},
        "action_ts": "1.2",
    }
    payload = view_block_actions_payload({"id": "V1"}, action, trigger_id=sb.slack.issue_trigger())
    return interactivity_body({**payload, "view": "junk"}), FORM_CONTENT_TYPE


async def form_button_without_trigger(sb: SlackBot) -> Built:
    payload = click(sb, await form_button(sb))
    del payload["trigger_id"]
    return interactivity_body(payload), FORM_CONTENT_TYPE


async def shortcut_without_trigger(sb: SlackBot) -> Built:
    payload = shortcut_payload(SHORTCUT, sb.slack.issue_trigger())
    del payload["trigger_id"]
    return interactivity_body(payload), FORM_CONTENT_TYPE


async def home_opened_without_user(sb: SlackBot) -> Built:
    return json.dumps(event_payload(home_opened(None))), JSON_CONTENT_TYPE


async def response_url_a_number(sb: SlackBot) -> Built:
    payload = click(sb, {"action_id": Action.SHOW_MORE.value, "value": "[]"}, response_url=5)
    return interactivity_body(payload), FORM_CONTENT_TYPE


async def command_response_url_not_a_url(sb: SlackBot) -> Built:
    return urlencode(slash_command_payload(text="Tools & Systems", response_url="junk")), FORM_CONTENT_TYPE


REFUSED: list[Any] = [
    pytest.param(payload_nested_deep, "unreadable", id="payload-nested-50000-deep"),
    pytest.param(event_nested_deep, "unreadable", id="event-nested-50000-deep"),
    pytest.param(view_state_a_string, "malformed", id="view_submission-state-a-string"),
    pytest.param(view_state_a_list, "malformed", id="view_submission-state-a-list"),
    pytest.param(selected_option_a_string, "malformed", id="block_actions-selected_option-a-string"),
    pytest.param(channel_a_string, "malformed", id="block_actions-channel-a-string"),
    pytest.param(view_a_string, "malformed", id="block_actions-view-a-string"),
    pytest.param(form_button_without_trigger, "malformed", id="form-button-without-trigger_id"),
    pytest.param(shortcut_without_trigger, "malformed", id="shortcut-without-trigger_id"),
    pytest.param(home_opened_without_user, "malformed", id="app_home_opened-without-user"),
    pytest.param(response_url_a_number, "malformed", id="response_url-a-number"),
    pytest.param(command_response_url_not_a_url, "malformed", id="command-response_url-not-a-url"),
]


def said(sb: SlackBot, since: int) -> list[Call]:
    """What the bot asked of Slack after `since` calls, but Bolt's auth.test and the barrier's."""
    return [
        call
        for call in sb.slack.calls[since:]
        if call.method != "auth.test"
        and BARRIER_USER not in (call.args.get("user"), call.args.get("user_id"))
    ]


async def barrier(sb: SlackBot) -> None:
    """Another person's click and Home, answered: whatever the request before them set off (Bolt
    runs listeners after the ack) has had its turn."""
    sent = await sb.click(Action.SHOW_MORE.value, "[]", user=BARRIER_USER)
    await sb.followup(sent)
    body = json.dumps(event_payload(home_opened(BARRIER_USER)))
    await sb.post(body, signed_headers(body, sb.secret, content_type=JSON_CONTENT_TYPE))
    await sb.slack.wait_for_async(lambda: sb.slack.home_view(BARRIER_USER), what="the barrier")


def bot_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Every line but the test client's own and the barrier's."""
    return [r for r in caplog.records if r.name != "httpx" and f"user={BARRIER_USER}" not in r.getMessage()]


@pytest.mark.parametrize(("build", "why"), REFUSED)
async def test_a_signed_request_of_the_wrong_shape_gets_400_and_one_line_and_nothing_runs(
    walked: SlackBot, caplog: pytest.LogCaptureFixture, build: Builder, why: str
) -> None:
    walked.slack.add_user(BARRIER_USER, "bo")
    body, content_type = await build(walked)
    since = len(walked.slack.calls)
    caplog.clear()

    sent = await walked.post(body, signed_headers(body, walked.secret, content_type=content_type))
    await barrier(walked)

    assert sent.status == 400, f"HTTP {sent.status}: {sent.http.text[:200]!r}"
    assert sent.seconds < SLACK_WAIT
    lines = bot_lines(caplog)
    assert not [r for r in lines if r.exc_info or r.levelno >= logging.ERROR], [r.getMessage() for r in lines]
    refusals = [r.getMessage() for r in lines if "refused" in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in lines]
    if why == "malformed":
        assert "outcome=refused:malformed" in refusals[0]
    else:
        assert refusals[0] == "refused a signed request whose body could not be read as Slack's"
    assert said(walked, since) == []
    assert walked.slack.responses_to("bad") == []
    for leak in LEAKS:
        assert leak not in sent.http.text
    assert await walked.bot.store.reminders() == []


# --------------------------------------------------------------------------- Socket Mode


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


SOCKET_REFUSED: list[Any] = [
    pytest.param(
        lambda sb: (
            shortcut_payload(SHORTCUT, sb.slack.issue_trigger()) | {"trigger_id": None},
            "interactive",
        ),
        id="shortcut-without-trigger_id",
    ),
    pytest.param(
        lambda sb: (event_payload(home_opened(None)), "events_api"), id="app_home_opened-without-user"
    ),
    pytest.param(
        lambda sb: (event_payload({**home_opened(), "x": nested(200)}), "events_api"),
        id="event-nested-200-deep",
    ),
    pytest.param(
        lambda sb: (
            block_actions_payload(Action.SHOW_MORE.value, "[]", response_url=5) | {"authorizations": [5]},
            "interactive",
        ),
        id="block_actions-authorizations-junk",
    ),
]


@pytest.mark.parametrize("build", SOCKET_REFUSED)
async def test_socket_mode_refuses_the_same_shapes_with_one_line_and_no_ack(
    make_bot: MakeBot, caplog: pytest.LogCaptureFixture, build: Callable[[SlackBot], tuple[JSON, str]]
) -> None:
    sb = await make_bot(SLACK_APP_TOKEN="xapp-test", SLACK_SIGNING_SECRET="")
    await sb.walk()
    stop = asyncio.Event()
    task = asyncio.create_task(run_socket_mode(sb.bot.bolt, "xapp-test", stop))
    try:
        await sb.slack.wait_socket_connected_async(timeout=10)
        caplog.clear()
        payload, kind = build(sb)
        refused = sb.slack.socket_send(payload, kind)
        await sb.slack.wait_for_async(
            lambda: [r for r in caplog.records if "refused" in r.getMessage()], 10, "the refusal"
        )
        # a barrier: a command sent after it is answered
        command = slash_command_payload(text="help", response_url=sb.slack.response_url("sm"))
        await sb.slack.wait_for_ack_async(sb.slack.socket_send(command), timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    lines = [r for r in caplog.records if r.name != "httpx"]
    assert not [r for r in lines if r.exc_info or r.levelno >= logging.ERROR], [r.getMessage() for r in lines]
    assert len([r for r in lines if "refused" in r.getMessage()]) == 1, [r.getMessage() for r in lines]
    assert [a for a in sb.slack.socket_acks if a.envelope_id == refused] == []
    assert [c for c in sb.slack.calls if c.method not in ("auth.test", "apps.connections.open")] == []
    assert sb.slack.responses == []


async def test_a_socket_mode_frame_nested_past_the_parser_is_one_line(
    make_bot: MakeBot, caplog: pytest.LogCaptureFixture
) -> None:
    """slack_sdk parses each frame before any handler sees it; such a frame was a traceback."""
    sb = await make_bot(SLACK_APP_TOKEN="xapp-test", SLACK_SIGNING_SECRET="")
    handler = CheckedSocketModeHandler(sb.bot.bolt, "xapp-test")
    await handler.connect_async()
    try:
        await sb.slack.wait_socket_connected_async(timeout=10)
        caplog.clear()
        frame = '{"envelope_id": "e1", "type": "events_api", "payload": ' + "[" * DEEP + "]" * DEEP + "}"
        await handler.client.enqueue_message(frame)  # as the SDK's receive loop hands on each frame
        await sb.slack.wait_for_async(
            lambda: [r for r in caplog.records if r.levelno >= logging.WARNING], 10, "a line"
        )
        lines = [r for r in caplog.records if r.name != "httpx"]
    finally:
        await handler.close_async()

    assert [r.getMessage() for r in lines] == [
        "refused a Socket Mode message whose body could not be read as Slack's"
    ]
    assert not [r for r in lines if r.exc_info]
    assert sb.slack.socket_acks == []
