"""The shape every request must have before Bolt reads it.

Bolt reads a payload's fields unchecked (`payload["actions"][0]`, `event.get`…),
and so do the listeners (`body["trigger_id"]`, `view.get("state")`…), so a signed
but malformed request made it answer 500, log a traceback, post "Something went
wrong", miss its ack or tell the person nothing. Each kind of request the bot
handles is checked here, for both transports (`ObservedApp.async_dispatch`), for
the fields Bolt and the listeners rely on, in the types Slack sends them; anything
else is refused with a 400 before anything runs. Kinds the bot does not handle
pass through, for Bolt to acknowledge as unhandled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_ID_CHARS = 64
MAX_TRIGGER_CHARS = 255
MAX_DEPTH = 64
"""Slack's deepest payloads (rich text in the message behind a click, a modal's option groups)
nest about a dozen levels; far deeper nesting is no payload of Slack's, and code that walks
a payload recursively must never meet it."""
_URL_SCHEMES = ("https://", "http://")

Check = Callable[[dict[str, Any]], str | None]


def shape_problem(body: Any) -> str | None:
    """Why `body` (the parsed request) cannot be handled, or None when its shape is sound."""
    if not isinstance(body, dict):
        return "the payload is not a JSON object"
    if _deeper_than(body, MAX_DEPTH):
        return f"a payload nested more than {MAX_DEPTH} levels deep"
    if "command" in body:
        return _command(body)
    check = _BY_TYPE.get(str(body.get("type")))
    return check(body) if check is not None else None


def _command(body: dict[str, Any]) -> str | None:
    for field in ("command", "user_id", "channel_id"):
        if not _is_id_like(body.get(field), allow=("/", "-", "_")):
            return f"a slash command without a valid {field}"
    if not isinstance(body.get("text", ""), str):
        return "a slash command whose text is not text"
    if not _is_url(body.get("response_url")):
        return "a slash command without a response_url to answer at"
    return None


# --------------------------------------------------------------------------- interactivity


def _interaction(*checks: Check, trigger: bool = False) -> Check:
    """What every interactive payload needs (a user; a channel, view, message and container
    that are objects when given; response URLs that are URLs), then `checks`; `trigger`: a
    trigger_id too, which Slack sends with every click and shortcut, and opening a modal needs."""

    def check(body: dict[str, Any]) -> str | None:
        problem = _user(body) or _parts(body) or _response_urls(body)
        if problem is None and trigger and not _is_trigger(body.get("trigger_id")):
            problem = "an interaction without a trigger_id"
        for more in checks:
            problem = problem or more(body)
        return problem

    return check


def _user(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    return None if isinstance(user, dict) and _is_id_like(user.get("id")) else "no valid user"


def _parts(body: dict[str, Any]) -> str | None:
    for field in ("channel", "view", "message", "container"):
        if body.get(field) is not None and not isinstance(body[field], dict):
            return f"a {field} that is not an object"
    channel = body.get("channel")
    if channel is not None and not _is_id_like(channel.get("id")):
        return "a channel without a valid id"
    view = body.get("view")
    return _view_fields(view) if view is not None else None


def _response_urls(body: dict[str, Any]) -> str | None:
    if body.get("response_url") is not None and not _is_url(body["response_url"]):
        return "a response_url that is not a URL"
    urls = body.get("response_urls")
    if urls is not None and not (
        isinstance(urls, list) and all(isinstance(u, dict) and _is_url(u.get("response_url")) for u in urls)
    ):
        return "response_urls that are not URLs"
    return None


def _view_fields(view: dict[str, Any]) -> str | None:
    for field in ("id", "callback_id", "private_metadata", "hash"):
        if field in view and not isinstance(view[field], str):
            return f"a view whose {field} is not text"
    state = view.get("state")
    if state is None:
        return None
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(
        isinstance(block, dict) and all(isinstance(element, dict) for element in block.values())
        for block in values.values()
    ):
        return "a view whose state is not an object of blocks of elements"
    return None


def _actions(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "block_actions without actions"
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            return "an action without an action_id"
        if not isinstance(action.get("value", ""), str) or not isinstance(action.get("block_id", ""), str):
            return "an action whose value or block_id is not text"
        chosen = action.get("selected_option")
        if chosen is not None and not _is_option(chosen):
            return "an action whose selected_option is not an option"
        many = action.get("selected_options")
        if many is not None and not (isinstance(many, list) and all(_is_option(o) for o in many)):
            return "an action whose selected_options are not options"
    return None


def _suggestion(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("action_id"), str) or not isinstance(body.get("value", ""), str):
        return "an options request without an action_id or a text value"
    return None


def _view(body: dict[str, Any]) -> str | None:
    view = body.get("view")
    if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
        return "a view payload without a view and its callback_id"
    return None


def _shortcut(body: dict[str, Any]) -> str | None:
    return None if isinstance(body.get("callback_id"), str) else "a shortcut without a callback_id"


# --------------------------------------------------------------------------- events

_EVENT_NEEDS: dict[str, tuple[str, ...]] = {"app_home_opened": ("user",)}
"""The fields each event the bot subscribes to (manifest.yml) must carry."""


def _event_callback(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "an event callback without an event"
    if "user" in event and not _is_id_like(event["user"]):
        return "an event whose user is not a user id"
    missing = [field for field in _EVENT_NEEDS.get(event["type"], ()) if field not in event]
    if missing:
        return f"an {event['type'][:MAX_ID_CHARS]} event without its {missing[0]}"
    return None


_BY_TYPE: dict[str, Check] = {
    "block_actions": _interaction(_actions, trigger=True),
    "block_suggestion": _interaction(_suggestion),
    "view_submission": _interaction(_view),
    "view_closed": _interaction(_view),
    "shortcut": _interaction(_shortcut, trigger=True),
    "message_action": _interaction(_shortcut, trigger=True),
    "event_callback": _event_callback,
}


# --------------------------------------------------------------------------- values


def _is_id_like(value: Any, allow: tuple[str, ...] = ()) -> bool:
    """A Slack id (or a command name): short, letters and digits (and `allow`)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS:
        return False
    return all(c.isascii() and (c.isalnum() or c in allow) for c in value)


def _is_trigger(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TRIGGER_CHARS and value.isprintable()


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_URL_SCHEMES)


def _is_option(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("value"), str)


def _deeper_than(body: dict[str, Any], limit: int) -> bool:
    """Whether any value in `body` is nested more than `limit` levels (without recursing)."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False
