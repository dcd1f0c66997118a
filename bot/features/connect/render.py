"""The setup card at the top of App Home, and the organisation-settings modal (pure Block Kit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.features.connect.pages import centre_label
from bot.slack.text import date_token, escape, mrkdwn, plain

Block = dict[str, Any]

DATE_FORMATS = (
    ("dd-MM-yyyy", "%d-%m-%Y"),
    ("MM-dd-yyyy", "%m-%d-%Y"),
    ("yyyy-MM-dd", "%Y-%m-%d"),
    ("dd/MM/yyyy", "%d/%m/%Y"),
    ("MM/dd/yyyy", "%m/%d/%Y"),
    ("yyyy/MM/dd", "%Y/%m/%d"),
    ("dd.MM.yyyy", "%d.%m.%Y"),
    ("dd-MMM-yyyy", "%d-%b-%Y"),
    ("dd MMM yyyy", "%d %b %Y"),
)
"""The date formats offered when Zoho won't say which the organisation uses: Zoho People's
own names for them, and how the bot reads each."""


@dataclass(frozen=True)
class Status:
    """The connection as App Home shows it."""

    connected: bool
    data_centre: str = ""
    connected_by: str = ""
    connected_at: datetime | None = None
    zone: str = ""
    zone_source: str = ""
    date_format: str = ""
    date_format_source: str = ""
    settings_missing: bool = False
    settings_problem: str = ""


class ConnectAction(StrEnum):
    """Action and callback ids of the setup card: a wire format, kept for months in posted views."""

    CONNECT = "connect.open.v1"
    DISCONNECT = "connect.disconnect.v1"
    SETTINGS = "connect.settings.v1"
    ZONE = "connect.zone.v1"
    DATE_FORMAT = "connect.date_format.v1"


class ConnectField(StrEnum):
    ZONE = "connect.zone"
    DATE_FORMAT = "connect.date_format"


def setup_card(status: Status, may_set_up: bool, connect_url: str) -> list[Block]:
    """What App Home shows of the Zoho connection: buttons only to those who may set the bot up."""
    if not status.connected:
        if not may_set_up:
            return [_note("Zoho People isn't connected yet: a Slack workspace admin can connect it here.")]
        return [
            _section(
                "*Connect Zoho People* so the bot can show your organisation's training sessions. "
                "You'll sign in to Zoho and allow read access to training, employees (trainers' e-mails) "
                "and the organisation's time zone and date format."
            ),
            {
                "type": "actions",
                "block_id": "connect",
                "elements": [_connect_button(connect_url, "Connect Zoho People")],
            },
            {"type": "divider"},
        ]
    when = (
        date_token(status.connected_at, "{date_short_pretty}", UTC, "%d %b %Y")
        if status.connected_at
        else "earlier"
    )
    centre = escape(centre_label(status.data_centre))
    lines = [f"Connected to Zoho People ({centre}) by <@{status.connected_by}> {when}."]
    if not may_set_up:
        return [_note(lines[0]), {"type": "divider"}]
    # The sources are the bot's own words, with at most a mention of a checked user id.
    lines.append(f"Time zone: *{escape(status.zone)}* ({status.zone_source}).")
    lines.append(f"Dates read as: *{escape(readable(status.date_format))}* ({status.date_format_source}).")
    blocks = [_section("\n".join(lines))]
    if status.settings_missing:
        blocks.append(_section(f":warning: {escape(status.settings_problem)}"))
    elements = [
        {
            "type": "button",
            "action_id": ConnectAction.SETTINGS.value,
            "text": plain("Set time zone and date format"),
        },
        _connect_button(connect_url, "Reconnect"),
        {
            "type": "button",
            "action_id": ConnectAction.DISCONNECT.value,
            "text": plain("Disconnect"),
            "style": "danger",
            "confirm": {
                "title": plain("Disconnect Zoho People?"),
                "text": mrkdwn(
                    "The bot's access is revoked at Zoho. Listings stop, and digests and reminders wait "
                    "(nothing is deleted) until someone connects Zoho People again."
                ),
                "confirm": plain("Disconnect"),
                "deny": plain("Cancel"),
                "style": "danger",
            },
        },
    ]
    blocks += [{"type": "actions", "block_id": "connect", "elements": elements}, {"type": "divider"}]
    return blocks


def settings_modal(zone: str, date_format: str, zones: list[str]) -> dict[str, Any]:
    """Zone and date format, for an organisation whose Zoho won't say; the person's own zone is
    chosen to start with. Zones come in groups by region (Slack allows 100 options a group)."""
    chosen = next((pair for pair in DATE_FORMATS if pair[1] == date_format), DATE_FORMATS[0])
    return {
        "type": "modal",
        "callback_id": ConnectAction.SETTINGS.value,
        "title": plain("Organisation settings"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            _section(
                "Zoho People tells only its administrators these settings, so please give them as your "
                "Zoho People admin set them (Settings › Locale and Display)."
            ),
            {
                "type": "input",
                "block_id": ConnectField.ZONE.value,
                "label": plain("Time zone"),
                "element": {
                    "type": "static_select",
                    "action_id": ConnectAction.ZONE.value,
                    "option_groups": _zone_groups(zones),
                    **({"initial_option": _option(zone, zone)} if zone in zones else {}),
                },
            },
            {
                "type": "input",
                "block_id": ConnectField.DATE_FORMAT.value,
                "label": plain("Date format"),
                "element": {
                    "type": "static_select",
                    "action_id": ConnectAction.DATE_FORMAT.value,
                    "options": [_option(name, fmt) for name, fmt in DATE_FORMATS],
                    "initial_option": _option(*chosen),
                },
            },
        ],
    }


def _zone_groups(zones: list[str]) -> list[Block]:
    """By region (the part before the first slash), at most 100 a group."""
    regions: dict[str, list[str]] = {}
    for zone in sorted(zones):
        regions.setdefault(zone.split("/", 1)[0], []).append(zone)
    groups = []
    for region, members in regions.items():
        chunks = [members[at : at + 100] for at in range(0, len(members), 100)]
        for number, chunk in enumerate(chunks, start=1):
            label = region if len(chunks) == 1 else f"{region} ({number})"
            groups.append({"label": plain(label, 75), "options": [_option(z, z) for z in chunk]})
    return groups


_READABLE = {
    "%d": "dd",
    "%m": "MM",
    "%Y": "yyyy",
    "%y": "yy",
    "%b": "MMM",
    "%B": "MMMM",
    "%a": "EEE",
    "%A": "EEEE",
}


def readable(date_format: str) -> str:
    """A strptime format as Zoho People's settings write it (`%d.%m.%Y` is `dd.MM.yyyy`)."""
    for directive, letters in _READABLE.items():
        date_format = date_format.replace(directive, letters)
    return date_format.replace("%%", "%")


def _connect_button(url: str, label: str) -> Block:
    return {
        "type": "button",
        "action_id": ConnectAction.CONNECT.value,
        "text": plain(label),
        "url": url,
        "style": "primary",
    }


def _option(text: str, value: str) -> Block:
    return {"text": plain(text, 75), "value": value}


def _section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def _note(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}
