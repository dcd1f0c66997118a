"""Drive the real bot over the wire: signed HTTP requests in, FakeSlack records out.

`SlackBot` wraps one running bot (Bolt behind the aiohttp server, on a real
port) with the fakes around it. The helpers below read Block Kit messages the
way a test wants to assert on them: session names, buttons, text objects.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from aiohttp import web

from bot.app import Bot
from tests.clock import FakeClock
from tests.fakes.blockkit import options_errors
from tests.fakes.signing import (
    block_actions_payload,
    block_suggestion_payload,
    filled_state,
    interactivity_body,
    shortcut_payload,
    signed_headers,
    slash_command_body,
    view_block_actions_payload,
    view_submission_payload,
)
from tests.fakes.slack import FakeSlack, Response
from tests.fakes.zoho import FakeZoho

JSON = dict[str, Any]
SECRET = "signing-secret-for-tests"
USER = "U1"
CHANNEL = "C1"
ZONE = "Europe/Paris"
RESPONSE_WAIT = 15.0
"""Generous: a response_url post normally lands in milliseconds."""

_names = itertools.count(1)


@dataclass
class Sent:
    """One signed request and what came back in the HTTP response (the ack)."""

    http: httpx.Response
    seconds: float
    response_url_name: str

    @property
    def status(self) -> int:
        return self.http.status_code

    @property
    def body(self) -> JSON:
        """The ack's JSON body; {} for an empty ack."""
        return self.http.json() if self.http.content else {}


@dataclass
class SlackBot:
    """A running bot, the fakes it talks to, and an HTTP client to reach it as Slack does."""

    bot: Bot
    runner: web.AppRunner
    http: httpx.AsyncClient
    slack: FakeSlack
    zoho: FakeZoho
    clock: FakeClock
    secret: str = SECRET
    sent: list[Sent] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.runner.addresses[0][1])

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def walk(self) -> None:
        """Fill the module catalog from the fake, then forget those requests."""
        await self.bot.core.catalog.walk()
        self.zoho.clear()

    async def post(self, body: str, headers: dict[str, str], name: str = "") -> Sent:
        started = time.perf_counter()
        response = await self.http.post(self.events_url, content=body.encode(), headers=headers)
        sent = Sent(response, time.perf_counter() - started, name)
        self.sent.append(sent)
        return sent

    async def command(
        self,
        text: str,
        *,
        user: str = USER,
        channel: str = CHANNEL,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> Sent:
        """`/sessions <text>`, signed; each command gets its own response_url."""
        name = f"cmd{next(_names)}"
        body = slash_command_body(
            text=text, user_id=user, channel_id=channel, response_url=self.slack.response_url(name)
        )
        headers = signed_headers(body, secret or self.secret, timestamp=timestamp)
        return await self.post(body, headers, name)

    async def click(
        self,
        action_id: str,
        value: str | None,
        *,
        user: str = USER,
        channel: str | None = CHANNEL,
        action: JSON | None = None,
        view: JSON | None = None,
    ) -> Sent:
        """A block_actions click, signed, with a trigger the fake Slack will honour; `action`
        replaces the default button action. `channel=None` (with the Home `view`) is a click in
        App Home: no channel and no response_url."""
        name = f"click{next(_names)}"
        payload = block_actions_payload(
            action_id,
            value,
            user_id=user,
            channel_id=channel,
            response_url=self.slack.response_url(name) if channel else None,
            view=view,
            trigger_id=self.slack.issue_trigger(),
        )
        if action is not None:
            payload["actions"] = [action]
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, signed_headers(body, self.secret), name)

    async def _interact(self, payload: JSON) -> Sent:
        body = interactivity_body(payload)
        return await self.post(body, signed_headers(body, self.secret))

    async def click_to_open(self, button: JSON, **kwargs: Any) -> JSON:
        """Click `button` and return the modal views.open then showed (as Slack holds it)."""
        before = len(self.slack.calls_to("views.open"))
        sent = await self.click_button(button, **kwargs)
        assert sent.status == 200
        call = (await self.slack.wait_for_calls_async("views.open", before + 1))[-1]
        assert call.ok, call.response
        modal = self.slack.modal(call.response["view"]["id"])
        assert modal is not None
        return modal

    async def submit(
        self, view: JSON, answers: dict[str, Any], *, user: str = USER, current: str | None = None
    ) -> Sent:
        """Submit `view` as Slack does, the person having answered `answers` (by action id; the
        rest keep their initial values; `current` is the conversation it was opened from)."""
        values = filled_state(view, answers, current_conversation=current)
        return await self._interact(view_submission_payload(view, values, user))

    async def suggest(self, action_id: str, typed: str, view: JSON | None = None, user: str = USER) -> JSON:
        """An options request as the person types; returns the bot's answer, checked against
        Block Kit's limits."""
        sent = await self._interact(block_suggestion_payload(action_id, typed, view, user_id=user))
        assert sent.status == 200, sent.http.text
        assert options_errors(sent.body) == []
        return sent.body

    async def shortcut(self, callback_id: str, user: str = USER) -> Sent:
        return await self._interact(shortcut_payload(callback_id, self.slack.issue_trigger(), user))

    async def act_in_modal(self, view: JSON, action: JSON, user: str = USER) -> Sent:
        """A block_actions from inside a modal (a menu choice, a button)."""
        payload = view_block_actions_payload(view, action, user, trigger_id=self.slack.issue_trigger())
        return await self._interact(payload)

    async def click_button(self, button: JSON, **kwargs: Any) -> Sent:
        return await self.click(button["action_id"], button.get("value"), **kwargs)

    async def responses(self, sent: Sent, count: int = 1, wait: float = RESPONSE_WAIT) -> list[Response]:
        """The posts to this request's response_url, once there are `count` of them (within `wait` s)."""
        return await self.slack.wait_for_responses_async(count, wait, name=sent.response_url_name)

    async def followup(self, sent: Sent, wait: float = RESPONSE_WAIT) -> JSON:
        """The one message posted to this request's response_url."""
        (response,) = await self.responses(sent, 1, wait)
        return response.body


# --------------------------------------------------------------------------- reading messages

_TITLE = re.compile(r"^\*(.+?)\*(?:  .*)?$")
_DATE_TOKEN = re.compile(r"<!date\^(\d+)\^[^|>]*\|[^>]*>")


def session_names(message: JSON) -> list[str]:
    """The names of the sessions a listing shows, in order (mrkdwn unescaped)."""
    names = []
    for block in message.get("blocks", []):
        text = block.get("text") or {}
        if block.get("type") != "section" or text.get("type") != "mrkdwn" or "accessory" in block:
            continue
        match = _TITLE.match(text["text"].split("\n", 1)[0])
        if match:
            names.append(html.unescape(match.group(1)))
    return names


def elements(message: JSON) -> Iterator[JSON]:
    """Every interactive element (buttons, selects) of a message."""
    for block in message.get("blocks", []):
        if block.get("type") == "actions":
            yield from block.get("elements", [])
        if isinstance(block.get("accessory"), dict):
            yield block["accessory"]


def buttons(message: JSON, prefix: str = "") -> list[JSON]:
    return [e for e in elements(message) if e.get("type") == "button" and e["action_id"].startswith(prefix)]


def text_objects(node: Any) -> Iterator[JSON]:
    """Every text object (mrkdwn or plain_text) anywhere inside `node`."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from text_objects(item)


def block_text_chars(message: JSON) -> int:
    """Characters of text inside the blocks: what Slack's msg_blocks_too_long counts."""
    return sum(len(t["text"]) for t in text_objects(message.get("blocks", [])))


def all_text(message: JSON) -> str:
    return "\n".join(t["text"] for t in text_objects(message.get("blocks", [])))


def header(message: JSON) -> str:
    return next(b["text"]["text"] for b in message["blocks"] if b["type"] == "header")


def date_stamps(text: str) -> list[int]:
    """The unix times of the `<!date^…>` tokens in `text`."""
    return [int(m.group(1)) for m in _DATE_TOKEN.finditer(text)]


def assert_within_slack_limits(message: JSON) -> None:
    """What every message the bot sends must respect (docs/slack-platform.md)."""
    assert message.get("text"), "a message with blocks needs a top-level text"
    assert len(message["text"]) < 4000
    assert len(message.get("blocks", [])) <= 50
    assert block_text_chars(message) < 13_000
    for block in message.get("blocks", []):
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    for element in elements(message):
        assert len(element["action_id"]) <= 255
        if element["type"] == "button":
            assert len(element["text"]["text"]) <= 75
            assert len(element.get("value", "")) <= 2000
            assert len(element.get("url", "")) <= 3000


__all__ = [
    "CHANNEL",
    "SECRET",
    "USER",
    "ZONE",
    "SlackBot",
    "all_text",
    "assert_within_slack_limits",
    "block_text_chars",
    "buttons",
    "date_stamps",
    "elements",
    "header",
    "session_names",
    "text_objects",
]
