"""Wiring a feature's buttons: which clicks reach a listener, and the value a click carries."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.errors import ActionListener, after_ack_errors


def on_action(app: AsyncApp, action_id: str, listener: ActionListener) -> None:
    """Route clicks on the versioned `action_id`, bare or with a `:suffix` (ids must be unique
    within a message, so a message's many buttons of one kind carry one); a failure after
    the listener's ack still reaches the person."""
    app.action(re.compile(rf"^{re.escape(action_id)}(:.*)?$"))(after_ack_errors(listener))


def action_value(body: dict[str, Any]) -> str:
    """What the clicked button carries, or the option chosen in a select ("" when neither)."""
    action = (body.get("actions") or [{}])[0]
    return str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")
