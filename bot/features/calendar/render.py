"""What Slack shows of calendars (pure): App Home's card, `digest list`'s line, their buttons'
ids, and the sentences of the addresses' pages."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot.slack.text import mrkdwn, plain

Block = dict[str, Any]


class CalendarAction(StrEnum):
    SUBSCRIBE = "calendar.subscribe.v1"
    RESET = "calendar.reset.v1"
    RESET_CHANNEL = "calendar.reset_channel.v1"


HOW = (
    "In Outlook: *Add calendar › Subscribe from web*; in Apple Calendar: *File › New Calendar "
    "Subscription*; in Google Calendar: *Other calendars › From URL*."
)
SECRET = "Anyone with the address sees these sessions: keep it to yourself, or reset it."
NOT_FOUND = "There is no calendar at this address. Get the current one from the bot's Home tab in Slack."
SESSION_NOT_FOUND = (
    "This calendar link is not valid, or the session is no longer in the bot's data. "
    "Run /sessions in Slack again for a fresh link."
)
TOO_MANY = "This calendar address was asked for too often. Try again in a little while."
UNAVAILABLE = "The calendar could not be read just now. Your calendar app will try again later."


def home_card(address: str | None) -> list[Block]:
    """App Home's calendar card, two blocks: the offer, or the person's address with Reset link."""
    title = "*Your sessions in your calendar*\n"
    if address is None:
        offer = (
            "See the upcoming sessions of the modules you have reminders for in Outlook, Apple or "
            "Google Calendar; a moved session moves there too."
        )
        return [
            {"type": "section", "text": mrkdwn(title + offer)},
            _actions(
                "calendar:subscribe",
                _button("Subscribe in your calendar", CalendarAction.SUBSCRIBE, "primary"),
            ),
        ]
    text = f"{title}Subscribe to this address:\n`{address}`\n{HOW}\n_{SECRET}_"
    return [
        {"type": "section", "text": mrkdwn(text)},
        _actions("calendar:reset", _reset(CalendarAction.RESET, "your calendar")),
    ]


def channel_block(address: str) -> list[Block]:
    """`digest list`'s offer: the channel's feed of its digests' modules, with its Reset button."""
    text = f":calendar: This channel's digest modules in a calendar:\n`{address}`\n{HOW}"
    return [
        {"type": "section", "text": mrkdwn(text)},
        _actions("calendar:channel", _reset(CalendarAction.RESET_CHANNEL, "this channel's calendar")),
    ]


def _reset(action: CalendarAction, whose: str) -> Block:
    button = _button("Reset link", action)
    button["confirm"] = {
        "title": plain("Reset the link?"),
        "text": plain(
            f"The current address of {whose} stops working; calendars must subscribe to the new one."
        ),
        "confirm": plain("Reset"),
        "deny": plain("Cancel"),
    }
    return button


def _button(label: str, action: CalendarAction, style: str = "") -> Block:
    button: Block = {"type": "button", "action_id": action.value, "text": plain(label)}
    if style:
        button["style"] = style
    return button


def _actions(block_id: str, *elements: Block) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}
