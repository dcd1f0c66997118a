"""Action ids, callback ids, block ids and the `FormRef` record of the modals.

A `FormRef` travels in the buttons that open a modal, in the Stop and Edit buttons
and in a modal's `private_metadata`; it is decoded here only, and anything this
version would not have written raises ValueError (see `bot.features.wire`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.features import wire
from bot.sessions.modules import ModuleId

MAX_SUBSCRIPTION_ID = 2**31 - 1
MAX_CHANNEL_CHARS = 32


class FormAction(StrEnum):
    """Buttons and elements of the forms (a `:suffix` keeps several buttons of one kind unique)."""

    OPEN_REMINDER = "forms.open_reminder.v1"
    OPEN_DIGEST = "forms.open_digest.v1"
    STOP_REMINDER = "forms.stop_reminder.v1"
    STOP_DIGEST = "forms.stop_digest.v1"
    MODULE = "forms.module.v1"
    MODULES = "forms.modules.v1"
    LEAD = "forms.lead.v1"
    CHANNEL = "forms.channel.v1"
    TIME = "forms.time.v1"
    DAYS = "forms.days.v1"
    BROWSE = "forms.browse.v1"


class FormCallback(StrEnum):
    """The modals' `callback_id`s, and the global shortcut's."""

    REMINDER = "forms.reminder.v1"
    DIGEST = "forms.digest.v1"
    BROWSE = "forms.browse.v1"
    SHORTCUT = "sessions.upcoming.v1"


class Field(StrEnum):
    """The input blocks' `block_id`s: where `response_action: errors` puts each sentence."""

    MODULE = "forms.module"
    LEAD = "forms.lead"
    CHANNEL = "forms.channel"
    TIME = "forms.time"
    DAYS = "forms.days"
    BROWSE = "forms.browse"


class Kind(StrEnum):
    REMINDER = "r"
    DIGEST = "d"


@dataclass(frozen=True)
class FormRef:
    """What a form is about: a reminder or a digest; the subscription it edits or stops
    (0: a new one); the module chosen before it opened; the conversation it was opened in
    ("" from App Home or the shortcut), where its confirmation goes."""

    kind: Kind
    subscription: int = 0
    module: ModuleId | None = None
    channel: str = ""


def encode_form(ref: FormRef) -> str:
    module = ref.module.key if ref.module else ""
    return wire.dump({"k": ref.kind.value, "s": ref.subscription, "m": module, "c": ref.channel})


def decode_form(value: object) -> FormRef:
    data = wire.load(value)
    kind = data.get("k")
    if kind not in tuple(Kind):
        raise ValueError(f"not a form kind: {wire.shown(kind)}")
    module_key, channel = data.get("m", ""), data.get("c", "")
    module = ModuleId.parse(module_key) if isinstance(module_key, str) and module_key else None
    if module_key and module is None:
        raise ValueError(f"not a module: {wire.shown(module_key)}")
    if not isinstance(channel, str) or not _channel_like(channel):
        raise ValueError(f"not a conversation id: {wire.shown(channel)}")
    return FormRef(Kind(kind), wire.small_int(data, "s", MAX_SUBSCRIPTION_ID), module, channel)


def _channel_like(text: str) -> bool:
    return len(text) <= MAX_CHANNEL_CHARS and all(c.isascii() and c.isalnum() for c in text)
