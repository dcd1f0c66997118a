"""The shape every request must have before Bolt reads it.

Bolt reads a payload's fields unchecked (`payload["actions"][0]`, `event.get`…),
so a signed but malformed request made it answer 500 or post "Something went
wrong" to the request's `response_url`. Each kind of request the bot handles is
checked here for the fields Bolt and the listeners rely on; anything else is
refused with a 400 before anything runs. Kinds the bot does not handle pass
through, for Bolt to acknowledge as unhandled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_ID_CHARS = 64


def shape_problem(body: Any) -> str | None:
    """Why `body` (the parsed request) cannot be handled, or None when its shape is sound."""
    if not isinstance(body, dict):
        return "the payload is not a JSON object"
    if "command" in body:
        return _command(body)
    check = _BY_TYPE.get(str(body.get("type")))
    return check(body) if check is not None else None


def _command(body: dict[str, Any]) -> str | None:
    for field in ("command", "user_id", "channel_id"):
        if not _is_id_like(body.get(field), allow=("/", "-", "_")):
            return f"a slash command without a valid {field}"
    text = body.get("text", "")
    return None if isinstance(text, str) else "a slash command whose text is not text"


def _user(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    return None if isinstance(user, dict) and _is_id_like(user.get("id")) else "no valid user"


def _block_actions(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "block_actions without actions"
    if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
        return "an action without an action_id"
    return _user(body)


def _block_suggestion(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("action_id"), str) or not isinstance(body.get("value", ""), str):
        return "an options request without an action_id or a text value"
    return _user(body)


def _view(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("view"), dict):
        return "a view payload without a view"
    return _user(body)


def _shortcut(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("callback_id"), str):
        return "a shortcut without a callback_id"
    return _user(body)


def _event_callback(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "an event callback without an event"
    if "user" in event and not _is_id_like(event["user"]):
        return "an event whose user is not a user id"
    return None


_BY_TYPE: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "block_actions": _block_actions,
    "block_suggestion": _block_suggestion,
    "view_submission": _view,
    "view_closed": _view,
    "shortcut": _shortcut,
    "message_action": _shortcut,
    "event_callback": _event_callback,
}


def _is_id_like(value: Any, allow: tuple[str, ...] = ()) -> bool:
    """A Slack id (or a command name): short, letters and digits (and `allow`)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS:
        return False
    return all(c.isascii() and (c.isalnum() or c in allow) for c in value)
