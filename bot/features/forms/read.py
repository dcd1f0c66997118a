"""What a person filled in a modal, read from a submission's `view.state.values` (pure).

The state is untrusted like any payload: each field is taken only in the shape the
modal's element sends, and anything else reads as unanswered. A field that cannot
be used becomes a sentence keyed by its block id, for `response_action: errors`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from bot.features.commands import DAY_NAMES, MAX_LEAD
from bot.features.forms.ids import Field, FormAction
from bot.sessions.modules import ModuleId

FieldErrors = dict[str, str]
"""Block id → the sentence Slack shows under that field."""

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CONVERSATION = re.compile(r"^[CGD][A-Z0-9]{1,31}$")


@dataclass(frozen=True)
class ReminderForm:
    module: ModuleId | None
    """None when the form shows no module menu (a reminder of one session keeps its module)."""
    lead: timedelta


@dataclass(frozen=True)
class DigestForm:
    modules: tuple[ModuleId, ...]
    channel: str
    at: time
    weekdays: frozenset[int]


def read_reminder(values: Any, with_module: bool) -> ReminderForm | FieldErrors:
    errors: FieldErrors = {}
    module = None
    if with_module:
        module = _module(_selected(values, Field.MODULE, FormAction.MODULE))
        if module is None:
            errors[Field.MODULE] = "Choose a module: type a few letters of its name."
    lead = _lead(_selected(values, Field.LEAD, FormAction.LEAD))
    if lead is None:
        errors[Field.LEAD] = "Choose how long before each session to remind you."
    if errors or lead is None:
        return errors
    return ReminderForm(module, lead)


def read_digest(values: Any) -> DigestForm | FieldErrors:
    errors: FieldErrors = {}
    chosen = _element(values, Field.MODULE, FormAction.MODULES).get("selected_options")
    keys = [_option_value(option) for option in chosen] if isinstance(chosen, list) else []
    parsed = [_module(key) for key in keys]
    modules = tuple(dict.fromkeys(module for module in parsed if module is not None))
    if not modules or None in parsed:
        errors[Field.MODULE] = "Choose at least one module: type a few letters of its name."
    channel = _element(values, Field.CHANNEL, FormAction.CHANNEL).get("selected_conversation")
    if not isinstance(channel, str) or not _CONVERSATION.match(channel):
        errors[Field.CHANNEL] = "Choose the channel the digest goes to."
    at = _time(_element(values, Field.TIME, FormAction.TIME).get("selected_time"))
    if at is None:
        errors[Field.TIME] = "Choose the time of day the digest goes out."
    ticked = _element(values, Field.DAYS, FormAction.DAYS).get("selected_options")
    days = [_option_value(option) for option in ticked] if isinstance(ticked, list) else []
    weekdays = frozenset(DAY_NAMES.index(day) for day in days if day in DAY_NAMES)
    if not weekdays or len(weekdays) != len(set(days)):
        errors[Field.DAYS] = "Tick at least one day."
    if errors or at is None or not isinstance(channel, str):
        return errors
    return DigestForm(modules, channel, at, weekdays)


def _element(values: Any, block: Field, action: FormAction) -> dict[str, Any]:
    block_values = values.get(block.value) if isinstance(values, dict) else None
    element = block_values.get(action.value) if isinstance(block_values, dict) else None
    return element if isinstance(element, dict) else {}


def _selected(values: Any, block: Field, action: FormAction) -> str:
    return _option_value(_element(values, block, action).get("selected_option"))


def _option_value(option: Any) -> str:
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else ""


def _module(key: str) -> ModuleId | None:
    return ModuleId.parse(key) if key else None


def _lead(value: str) -> timedelta | None:
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        return None
    lead = timedelta(minutes=int(value))
    return lead if timedelta(0) < lead <= MAX_LEAD else None


def _time(value: Any) -> time | None:
    match = _TIME.match(value) if isinstance(value, str) else None
    return time(int(match.group(1)), int(match.group(2))) if match else None
