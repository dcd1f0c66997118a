"""The modals as pure functions from plain data to Block Kit views.

Slack's rules for views are kept here: titles and submit labels of at most 24
characters, options of at most 75 characters of text and 150 of value, at most
100 options a menu and 10 checkboxes, `private_metadata` of at most 3,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time, timedelta, tzinfo
from typing import Any

from bot.features.calendar.links import SessionFileLinks
from bot.features.commands import DAY_NAMES, DEFAULT_DIGEST_TIME, DEFAULT_LEAD, describe_lead
from bot.features.forms.ids import Field, FormAction, FormCallback, FormRef, encode_form
from bot.features.listing.render import PAGE_SIZE, listing_blocks
from bot.sessions.listing import Listing
from bot.sessions.modules import ModuleRef
from bot.slack.text import escape_clip, mrkdwn, plain

View = dict[str, Any]
Block = dict[str, Any]
Option = dict[str, Any]

MAX_OPTIONS = 100
OPTION_TEXT_CHARS = 75
OPTION_VALUE_CHARS = 150
MAX_MODULES_PER_DIGEST_FORM = 10
"""Modules one digest form may subscribe a channel to at once (each is checked with Zoho)."""
LEAD_CHOICES = tuple(timedelta(minutes=minutes) for minutes in (5, 10, 15, 30, 60, 120, 1440))
WEEKDAYS = frozenset(range(5))
_DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def module_option(module: ModuleRef) -> Option | None:
    """A module as a menu option (its path, its key); None when its key is longer than an
    option's value may be (ids of at most 64 characters each could make one so)."""
    if len(module.key) > OPTION_VALUE_CHARS:
        return None
    return {"text": plain(module.path, OPTION_TEXT_CHARS), "value": module.key}


def module_options(modules: Sequence[ModuleRef]) -> list[Option]:
    """What a module menu offers for a search: at most Slack's 100."""
    options = (module_option(module) for module in modules)
    return [option for option in options if option is not None][:MAX_OPTIONS]


def reminder_modal(
    ref: FormRef, module: ModuleRef | None, lead: timedelta = DEFAULT_LEAD, one_session: bool = False
) -> View:
    """New (`ref.subscription` 0) or edited reminder. A reminder of one session keeps its module."""
    blocks: list[Block] = []
    if one_session and module is not None:
        blocks.append(
            _context(
                f"A reminder of one session of *{escape_clip(module.title, 150)}*: change its lead time."
            )
        )
    else:
        blocks.append(_input(Field.MODULE, "Module", _module_select(FormAction.MODULE, module)))
    blocks.append(
        _input(
            Field.LEAD,
            "Remind me",
            _lead_select(lead),
            hint="A direct message this long before each session starts.",
        )
    )
    title = "Edit reminder" if ref.subscription else "Remind me"
    return _modal(FormCallback.REMINDER, title, "Save", ref, blocks)


def digest_modal(
    ref: FormRef,
    modules: Sequence[ModuleRef],
    zone: tzinfo,
    at: time = DEFAULT_DIGEST_TIME,
    weekdays: frozenset[int] = WEEKDAYS,
) -> View:
    """New or edited digest; the channel is `ref.channel` when known. The time is read in `zone`."""
    channel: Block = {
        "type": "conversations_select",
        "action_id": FormAction.CHANNEL.value,
        "placeholder": plain("Choose a channel"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if ref.channel:
        channel["initial_conversation"] = ref.channel
    days: Block = {
        "type": "checkboxes",
        "action_id": FormAction.DAYS.value,
        "options": [_day_option(day) for day in range(7)],
    }
    if weekdays:
        days["initial_options"] = [_day_option(day) for day in sorted(weekdays)]
    blocks = [
        _input(Field.MODULE, "Modules", _modules_select(modules)),
        _input(Field.CHANNEL, "Channel", channel),
        _input(
            Field.TIME,
            "Time",
            {"type": "timepicker", "action_id": FormAction.TIME.value, "initial_time": f"{at:%H:%M}"},
            hint=f"In your time zone, {zone}.",
        ),
        _input(Field.DAYS, "Days", days),
    ]
    title = "Edit digest" if ref.subscription else "Daily digest"
    return _modal(FormCallback.DIGEST, title, "Save", ref, blocks)


def browse_modal(
    module: ModuleRef | None = None,
    listing: Listing | None = None,
    window_label: str = "",
    zone: tzinfo | None = None,
    note: str = "",
    links: SessionFileLinks | None = None,
) -> View:
    """The shortcut's modal: a module menu, then the chosen module's upcoming sessions (one page,
    with their calendar and Remind me buttons; calendar files with `links`) or `note` while they
    are looked up."""
    select = _module_select(FormAction.BROWSE, module)
    blocks: list[Block] = [
        {
            "type": "section",
            "block_id": Field.BROWSE.value,
            "text": mrkdwn("Which module's sessions?"),
            "accessory": select,
        }
    ]
    if note:
        blocks.append(_context(note))
    if listing is not None and zone is not None:
        blocks += listing_blocks(listing, window_label, zone, links=links)
        if len(listing.sessions) > PAGE_SIZE:
            blocks.append(
                _context(
                    f"The first {PAGE_SIZE} of {len(listing.sessions)}: `/sessions "
                    f"{escape_clip(listing.module.title, 100)}` shows them all."
                )
            )
    return {
        "type": "modal",
        "callback_id": FormCallback.BROWSE.value,
        "title": plain("Upcoming sessions", 24),
        "close": plain("Close", 24),
        "blocks": blocks,
    }


def _modal(callback: FormCallback, title: str, submit: str, ref: FormRef, blocks: list[Block]) -> View:
    return {
        "type": "modal",
        "callback_id": callback.value,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": encode_form(ref),
        "blocks": blocks,
    }


def _input(field: Field, label: str, element: Block, hint: str = "") -> Block:
    block: Block = {"type": "input", "block_id": field.value, "label": plain(label, 2000), "element": element}
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def _module_select(action: FormAction, module: ModuleRef | None) -> Block:
    select: Block = {
        "type": "external_select",
        "action_id": action.value,
        "placeholder": plain("Type a module's name"),
        "min_query_length": 0,
    }
    option = module_option(module) if module is not None else None
    if option is not None:
        select["initial_option"] = option
    return select


def _modules_select(modules: Sequence[ModuleRef]) -> Block:
    select: Block = {
        "type": "multi_external_select",
        "action_id": FormAction.MODULES.value,
        "placeholder": plain("Type a module's name"),
        "min_query_length": 0,
        "max_selected_items": MAX_MODULES_PER_DIGEST_FORM,
    }
    options = module_options(modules)
    if options:
        select["initial_options"] = options
    return select


def _lead_select(lead: timedelta) -> Block:
    choices = sorted({*LEAD_CHOICES, lead})
    options = [_lead_option(choice) for choice in choices]
    return {
        "type": "static_select",
        "action_id": FormAction.LEAD.value,
        "options": options,
        "initial_option": _lead_option(lead),
    }


def _lead_option(lead: timedelta) -> Option:
    minutes = int(lead.total_seconds() // 60)
    return {"text": plain(f"{describe_lead(lead)} before"), "value": str(minutes)}


def _day_option(day: int) -> Option:
    return {"text": plain(_DAY_LABELS[day]), "value": DAY_NAMES[day]}
