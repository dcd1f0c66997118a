"""Build and sign inbound Slack requests (slash commands, interactivity, events).

Why: HTTP-mode tests must send the bot exactly what Slack sends, signed the way
Slack signs it (`v0=` + HMAC-SHA256(secret, `v0:{ts}:{raw body}`)), so that
Bolt's real verification runs. The `*_payload` builders return the same data
as dicts, ready for `FakeSlack.socket_send` in Socket Mode tests.

Modals: a payload that lets the bot open one needs a trigger the fake knows
(`trigger_id=fake.issue_trigger()`); the random default makes views.open fail
with invalid_trigger_id, as a made-up trigger would at Slack. `filled_state`
turns a view and a person's answers into the `state.values` Slack sends with
`view_submission_payload`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from tests.fakes.slack_teams import default_enterprise_name

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
    team_domain: str = TEAM_DOMAIN,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> dict[str, str]:
    """A slash command's fields, in Slack's order (also the Socket Mode payload); on Enterprise
    Grid Slack adds `enterprise_id` and `enterprise_name`."""
    grid = {"enterprise_id": enterprise_id, "enterprise_name": default_enterprise_name(enterprise_id)}
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        **(grid if enterprise_id else {}),
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "true" if is_enterprise_install else "false",
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
    trigger_id: str | None = None,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> JSON:
    """A `block_actions` payload for a button click.

    With `channel_id=None` (and usually `view=`) it is a Home tab click: no
    channel, message or response_url, container type "view", as Slack sends.
    """
    action_ts = f"{time.time():.6f}"
    payload: JSON = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": _container(channel_id, message, view),
        "trigger_id": trigger_id or _trigger_id(),
        **_tenancy(team_id, enterprise_id, is_enterprise_install),
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
    return interactivity_body(payload)


def interactivity_body(payload: JSON) -> str:
    """The form-encoded `payload=<json>` body Slack POSTs for any interactive payload."""
    return urlencode({"payload": json.dumps(payload)})


def view_block_actions_payload(
    view: JSON,
    action: JSON,
    user_id: str = "U1",
    trigger_id: str | None = None,
    *,
    team_id: str = TEAM_ID,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> JSON:
    """A `block_actions` from inside a modal: `action` as given (e.g. an external_select's
    `{"type", "action_id", "block_id", "selected_option", "action_ts"}`), the view with its
    current state, container type "view"; no channel, message or response_url, as Slack sends."""
    as_slack_has_it = _slack_view(view, team_id)
    return {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": as_slack_has_it["id"]},
        "trigger_id": trigger_id or _trigger_id(),
        **_tenancy(team_id, enterprise_id, is_enterprise_install),
        "view": as_slack_has_it,
        "actions": [action],
    }


def view_block_actions_body(view: JSON, action: JSON, user_id: str = "U1", **extra: Any) -> str:
    """The form-encoded body of `view_block_actions_payload`."""
    return interactivity_body(view_block_actions_payload(view, action, user_id, **extra))


def view_submission_payload(
    view: JSON,
    values: JSON,
    user_id: str = "U1",
    team_id: str = TEAM_ID,
    *,
    trigger_id: str | None = None,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> JSON:
    """A `view_submission`: `view` as Slack has it (pass `FakeSlack.modal(view_id)`, or any view:
    missing id, hash… are filled in) with `state.values` = `values` (see `filled_state`)."""
    return {
        "type": "view_submission",
        **_tenancy(team_id, enterprise_id, is_enterprise_install),
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _trigger_id(),
        "view": {**_slack_view(view, team_id), "state": {"values": copy.deepcopy(values)}},
        "response_urls": [],
    }


def view_submission_body(view: JSON, values: JSON, user_id: str = "U1", **extra: Any) -> str:
    """The form-encoded body of `view_submission_payload`."""
    return interactivity_body(view_submission_payload(view, values, user_id, **extra))


def block_suggestion_payload(
    action_id: str,
    value: str,
    view: JSON | None = None,
    block_id: str = "",
    user_id: str = "U1",
    team_id: str = TEAM_ID,
    *,
    channel_id: str = "C1",
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> JSON:
    """What Slack sends an external select's options URL as the person types `value`: from a modal
    when `view` is given, else from a message in `channel_id`. Check the bot's answer with
    `tests.fakes.blockkit.options_errors`."""
    payload: JSON = {
        "type": "block_suggestion",
        "user": _user(user_id, team_id),
        "container": _container(channel_id, None, None),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        **_tenancy(team_id, enterprise_id, is_enterprise_install),
    }
    if view is not None:
        payload["view"] = _slack_view(view, team_id)
        payload["container"] = {"type": "view", "view_id": payload["view"]["id"]}
    else:
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["message"] = _bot_message(channel_id)
    return payload


def block_suggestion_body(action_id: str, value: str, **extra: Any) -> str:
    """The form-encoded body of `block_suggestion_payload`."""
    return interactivity_body(block_suggestion_payload(action_id, value, **extra))


def shortcut_payload(
    callback_id: str,
    trigger_id: str,
    user_id: str = "U1",
    team_id: str = TEAM_ID,
    *,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> JSON:
    """A global shortcut: no channel, no response_url, only a trigger to open a modal with (so it
    is required: pass `FakeSlack.issue_trigger()`)."""
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        **_tenancy(team_id, enterprise_id, is_enterprise_install),
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
    }


def shortcut_body(callback_id: str, trigger_id: str, user_id: str = "U1", **extra: Any) -> str:
    """The form-encoded body of `shortcut_payload`."""
    return interactivity_body(shortcut_payload(callback_id, trigger_id, user_id, **extra))


# --------------------------------------------------------------------------- view state


def option(text: str, value: str) -> JSON:
    """An option object, with the `emoji` flag Slack adds to the ones it sends back."""
    return {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": value}


def filled_state(
    view: JSON,
    answers: Mapping[str, Any],
    *,
    current_conversation: str | None = None,
) -> JSON:
    """The `state.values` Slack sends for `view` once the person gave `answers` (by action_id).

    Every stateful element of the input and actions blocks is there, as
    `values[block_id][action_id]`; one not answered keeps its initial value
    (a conversations_select with default_to_current_conversation takes
    `current_conversation`). An answer is an option (`option(...)`), a list of
    options, a string (time "HH:MM", conversation/user/channel id, date, text)
    or None. A chosen static option comes back as the view defines it.

    Raises ValueError where Slack would invent ids (a stateful block or element
    without block_id/action_id: tests could not find the answer), for an answer
    to no element, or one of the wrong shape or not among a static menu's options.
    """
    values: JSON = {}
    unused = set(answers)
    for index, block in enumerate(view.get("blocks") or []):
        for element in _stateful_elements(block):
            block_id, action_id = block.get("block_id"), element.get("action_id")
            if not block_id or not action_id:
                raise ValueError(
                    f"blocks[{index}] ({block.get('type')}) needs a block_id and its {element['type']} "
                    "an action_id: Slack would make up random ones"
                )
            if action_id in answers:
                unused.discard(action_id)
                state = _answered(element, answers[action_id])
            else:
                state = _initial(element, current_conversation)
            values.setdefault(block_id, {})[action_id] = {"type": element["type"], **state}
    if unused:
        raise ValueError(f"answers for no element of the view: {sorted(unused)}")
    return values


_STATE_FIELDS: dict[str, tuple[str, str]] = {
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_external_select": ("selected_options", "initial_options"),
    "checkboxes": ("selected_options", "initial_options"),
    "timepicker": ("selected_time", "initial_time"),
    "datepicker": ("selected_date", "initial_date"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "plain_text_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
}
"""Per stateful element type: the field of its state, and the field of its initial value."""
_LISTED = frozenset({"static_select", "multi_static_select", "radio_buttons", "checkboxes"})


def _stateful_elements(block: Any) -> list[JSON]:
    if not isinstance(block, dict):
        return []
    if block.get("type") == "input":
        elements = [block.get("element")]
    elif block.get("type") == "actions":
        elements = block.get("elements") or []
    else:
        return []
    return [e for e in elements if isinstance(e, dict) and e.get("type") in _STATE_FIELDS]


def _answered(element: JSON, answer: Any) -> JSON:
    field, _ = _STATE_FIELDS[element["type"]]
    if _is_many(field):
        if not isinstance(answer, list):
            raise ValueError(f"{element['action_id']}: a {element['type']} takes a list, not {answer!r}")
        return {field: [_chosen(element, item) for item in answer]}
    return {field: None if answer is None else _chosen(element, answer)}


def _chosen(element: JSON, answer: Any) -> Any:
    """An answer as Slack reports it: options as the view lists them, strings as typed."""
    field, _ = _STATE_FIELDS[element["type"]]
    if "option" not in field:
        if not isinstance(answer, str):
            raise ValueError(f"{element['action_id']}: a {element['type']} takes a string, not {answer!r}")
        return answer
    if not (isinstance(answer, dict) and isinstance(answer.get("text"), dict) and "value" in answer):
        raise ValueError(f"{element['action_id']}: {answer!r} is not an option (use option(text, value))")
    if element["type"] not in _LISTED:
        return copy.deepcopy(answer)  # an external select's options come from the app
    listed = _listed_options(element)
    found = next((o for o in listed if _same_option(o, answer)), None)
    if found is None:
        raise ValueError(f"{element['action_id']}: {answer!r} is not among the options of the view")
    return copy.deepcopy(found)


def _initial(element: JSON, current_conversation: str | None) -> JSON:
    field, initial_field = _STATE_FIELDS[element["type"]]
    if element.get("default_to_current_conversation") and current_conversation is not None:
        current: Any = [current_conversation] if _is_many(field) else current_conversation
        return {field: current}
    empty: Any = [] if _is_many(field) else None
    return {field: copy.deepcopy(element.get(initial_field, empty))}


def _is_many(field: str) -> bool:
    """Multi-selects and checkboxes report lists ("selected_options", "selected_users")."""
    return field.startswith("selected_") and field.endswith("s")


def _listed_options(element: JSON) -> list[JSON]:
    if "option_groups" in element:
        return [o for group in element["option_groups"] for o in group.get("options", [])]
    return list(element.get("options", []))


def _same_option(a: JSON, b: JSON) -> bool:
    return (a.get("value"), a["text"].get("text")) == (b.get("value"), b["text"].get("text"))


def _container(channel_id: str | None, message: JSON | None, view: JSON | None) -> JSON:
    if channel_id is None:
        return {"type": "view", "view_id": (view or {}).get("id", "V00000001")}
    ts = (message or {}).get("ts", "1700000000.000100")
    return {"type": "message", "message_ts": ts, "channel_id": channel_id, "is_ephemeral": False}


def _user(user_id: str, team_id: str) -> JSON:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def _tenancy(team_id: str, enterprise_id: str | None, is_enterprise_install: bool) -> JSON:
    """Whose an interactive payload is: the team, and on Enterprise Grid its enterprise."""
    team: JSON = {"id": team_id, "domain": TEAM_DOMAIN}
    enterprise = None
    if enterprise_id:
        team |= {"enterprise_id": enterprise_id, "enterprise_name": default_enterprise_name(enterprise_id)}
        enterprise = {"id": enterprise_id, "name": default_enterprise_name(enterprise_id)}
    return {"team": team, "enterprise": enterprise, "is_enterprise_install": is_enterprise_install}


def _slack_view(view: JSON, team_id: str = TEAM_ID) -> JSON:
    """A view as Slack has it: what it was given plus the fields Slack adds (a copy)."""
    defaults: JSON = {
        "id": "V00000001",
        "team_id": team_id,
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "state": {"values": {}},
        "hash": "1700000000.000000.00000000",
        "clear_on_close": False,
        "notify_on_close": False,
        "external_id": "",
        "app_id": APP_ID,
        "bot_id": "BBOT",
        "root_view_id": view.get("id", "V00000001"),
        "previous_view_id": None,
    }
    return copy.deepcopy({**defaults, **view})


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


def event_payload(
    event: JSON,
    *,
    team_id: str = TEAM_ID,
    event_id: str | None = None,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
    bot_user_id: str = BOT_USER_ID,
) -> JSON:
    """The `event_callback` envelope of the Events API (also the Socket Mode payload), for the
    app's install in `team_id` (org-wide for `enterprise_id` with `is_enterprise_install`: the
    authorization then names no team), whose bot user is `bot_user_id` (`FakeSlack.team(...)`)."""
    payload: JSON = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": None if is_enterprise_install else team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": is_enterprise_install,
            }
        ],
        "is_ext_shared_channel": False,
    }
    if enterprise_id:
        payload["enterprise_id"] = enterprise_id
    return payload


def event_body(event: JSON, **extra: Any) -> str:
    """The JSON body Slack POSTs for an event."""
    return json.dumps(event_payload(event, **extra))


def app_uninstalled_payload(team_id: str = TEAM_ID, **install: Any) -> JSON:
    """The `app_uninstalled` event Slack sends when a workspace removes the app (pair it with
    `FakeSlack.uninstall`, which kills the install's tokens). `install`: event_payload's keywords."""
    return event_payload({"type": "app_uninstalled"}, team_id=team_id, **install)


def tokens_revoked_payload(
    team_id: str = TEAM_ID,
    *,
    bot: Sequence[str] = (),
    oauth: Sequence[str] = (),
    **install: Any,
) -> JSON:
    """The `tokens_revoked` event: `bot` lists the bot user ids whose tokens died, `oauth` the
    users whose user tokens did (Slack names people, not tokens)."""
    event = {"type": "tokens_revoked", "tokens": {"oauth": list(oauth), "bot": list(bot)}}
    return event_payload(event, team_id=team_id, **install)


def _trigger_id() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


__all__ = [
    "FORM_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "RESPONSE_URL_UNSET",
    "app_uninstalled_payload",
    "block_actions_body",
    "block_actions_payload",
    "block_suggestion_body",
    "block_suggestion_payload",
    "event_body",
    "event_payload",
    "filled_state",
    "interactivity_body",
    "option",
    "shortcut_body",
    "shortcut_payload",
    "sign",
    "signed_headers",
    "slash_command_body",
    "slash_command_payload",
    "tokens_revoked_payload",
    "view_block_actions_body",
    "view_block_actions_payload",
    "view_submission_body",
    "view_submission_payload",
]
