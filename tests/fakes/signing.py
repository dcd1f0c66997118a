"""Build and sign inbound Slack requests (slash commands, interactivity, events).

Why: HTTP-mode tests must send the bot exactly what Slack sends, signed the way
Slack signs it (`v0=` + HMAC-SHA256(secret, `v0:{ts}:{raw body}`)), so that
Bolt's real verification runs. The `*_payload` builders return the same data
as dicts, ready for `FakeSlack.socket_send` in Socket Mode tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

JSON = dict[str, Any]

TEAM_ID = "T0001"
TEAM_DOMAIN = "testteam"
APP_ID = "A0001"
BOT_USER_ID = "UBOT"
#: Slack still sends the deprecated verification token; Bolt ignores it.
VERIFICATION_TOKEN = "verification-token-fake"
#: Default response_url: a closed local port, so a forgotten one fails fast, offline.
RESPONSE_URL_UNSET = "http://127.0.0.1:9/response/unset"

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"


# --------------------------------------------------------------------------- signing


def sign(body: bytes | str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The X-Slack-Request-Timestamp and X-Slack-Signature headers for `body`.

    Pass an old `timestamp` (more than 5 minutes back) to test replay refusal.
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    base = f"v0:{ts}:".encode() + raw
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def signed_headers(
    body: bytes | str,
    secret: str,
    *,
    content_type: str = FORM_CONTENT_TYPE,
    timestamp: int | None = None,
) -> dict[str, str]:
    """`sign` plus the Content-Type Slack uses (form for commands/actions, JSON for events)."""
    return {"Content-Type": content_type, **sign(body, secret, timestamp)}


# --------------------------------------------------------------------------- slash commands


def slash_command_payload(
    command: str = "/sessions",
    text: str = "",
    user_id: str = "U1",
    channel_id: str = "C1",
    response_url: str = RESPONSE_URL_UNSET,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    *,
    user_name: str | None = None,
    channel_name: str = "general",
) -> dict[str, str]:
    """A slash command's fields, in Slack's order (also the Socket Mode payload)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }


def slash_command_body(
    command: str = "/sessions",
    text: str = "",
    user_id: str = "U1",
    channel_id: str = "C1",
    response_url: str = RESPONSE_URL_UNSET,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    **extra: Any,
) -> str:
    """The form-encoded body Slack POSTs for a slash command."""
    payload = slash_command_payload(
        command, text, user_id, channel_id, response_url, team_id, trigger_id, **extra
    )
    return urlencode(payload)


# --------------------------------------------------------------------------- interactivity


def block_actions_payload(
    action_id: str,
    value: str | None = None,
    user_id: str = "U1",
    channel_id: str | None = "C1",
    response_url: str | None = RESPONSE_URL_UNSET,
    message: JSON | None = None,
    *,
    block_id: str = "block-1",
    team_id: str = TEAM_ID,
    view: JSON | None = None,
) -> JSON:
    """A `block_actions` payload for a button click.

    With `channel_id=None` (and usually `view=`) it is a Home tab click: no
    channel, message or response_url, container type "view", as Slack sends.
    """
    action_ts = f"{time.time():.6f}"
    payload: JSON = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": _container(channel_id, message, view),
        "trigger_id": _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [_button_action(action_id, value, block_id, action_ts)],
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["message"] = message or _bot_message(channel_id)
        if response_url is not None:
            payload["response_url"] = response_url
    if view is not None:
        payload["view"] = view
    return payload


def block_actions_body(
    action_id: str,
    value: str | None = None,
    user_id: str = "U1",
    channel_id: str | None = "C1",
    response_url: str | None = RESPONSE_URL_UNSET,
    message: JSON | None = None,
    **extra: Any,
) -> str:
    """The form-encoded `payload=<json>` body Slack POSTs for interactivity."""
    payload = block_actions_payload(action_id, value, user_id, channel_id, response_url, message, **extra)
    return urlencode({"payload": json.dumps(payload)})


def _container(channel_id: str | None, message: JSON | None, view: JSON | None) -> JSON:
    if channel_id is None:
        return {"type": "view", "view_id": (view or {}).get("id", "V00000001")}
    ts = (message or {}).get("ts", "1700000000.000100")
    return {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False}


def _button_action(action_id: str, value: str | None, block_id: str, action_ts: str) -> JSON:
    action: JSON = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
        "type": "button",
        "action_ts": action_ts,
    }
    if value is not None:
        action["value"] = value
    return action


def _bot_message(channel_id: str) -> JSON:
    return {
        "type": "message",
        "user": BOT_USER_ID,
        "ts": "1700000000.000100",
        "text": "",
        "blocks": [],
        "channel": channel_id,
    }


# --------------------------------------------------------------------------- events


def event_payload(event: JSON, *, team_id: str = TEAM_ID, event_id: str | None = None) -> JSON:
    """The `event_callback` envelope of the Events API (also the Socket Mode payload)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def event_body(event: JSON, **extra: Any) -> str:
    """The JSON body Slack POSTs for an event."""
    return json.dumps(event_payload(event, **extra))


def _trigger_id() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


__all__ = [
    "FORM_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "RESPONSE_URL_UNSET",
    "block_actions_body",
    "block_actions_payload",
    "event_body",
    "event_payload",
    "sign",
    "signed_headers",
    "slash_command_body",
    "slash_command_payload",
]
