"""How one session looks in any message (listing, digest, reminder, Home): pure Block Kit."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from bot.features.calendar.links import SessionFileLinks
from bot.features.listing.ids import Action, SessionRef, encode_session
from bot.sessions.model import Session
from bot.sessions.modules import ModuleRef
from bot.slack.text import calendar_link, escape_clip, mrkdwn, plain, time_range

Block = dict[str, Any]
DESCRIPTION_CHARS = 200
NAME_CHARS = 150
DETAIL_CHARS = 80


def when(session: Session, zone: tzinfo) -> str:
    """The time range as date tokens, or Zoho's raw words when they would not parse."""
    if session.start is None:
        return f"{escape_clip(session.when_text, DETAIL_CHARS)} (date as Zoho gave it)"
    return time_range(session.start, session.end, zone)


def session_text(session: Session, zone: tzinfo, with_description: bool = True) -> str:
    """Name, flags, time, then trainer, room, type and learners on one line."""
    flags = [
        label
        for label, on in (
            (":white_check_mark: completed", session.completed),
            (":lock: locked", session.locked),
        )
        if on
    ]
    title = f"*{escape_clip(session.name, NAME_CHARS)}*"
    if flags:
        title += "  " + "  ".join(flags)
    details = [
        f"{label}: {escape_clip(value, DETAIL_CHARS)}"
        for label, value in (
            ("Trainer", session.trainer),
            ("Room", session.room),
            ("Type", session.session_type),
        )
        if value
    ]
    details.append(f"Learners: {session.total_learners}")
    lines = [title, when(session, zone), " · ".join(details)]
    if with_description and session.description:
        lines.append(f"_{escape_clip(session.description, DESCRIPTION_CHARS)}_")
    return "\n".join(lines)


def session_section(session: Session, zone: tzinfo, with_description: bool = True) -> Block:
    return {"type": "section", "text": mrkdwn(session_text(session, zone, with_description))}


def calendar_button(session: Session, module: ModuleRef) -> Block | None:
    if session.start is None:
        return None
    details = f"{module.path}\n{session.description}".strip()
    location = " · ".join(part for part in (session.room, session.session_type) if part)
    return {
        "type": "button",
        "action_id": f"{Action.CALENDAR}:{session.session_id}"[:255],
        "text": plain("Add to Google Calendar"),
        "url": calendar_link(session.name, session.start, session.end, details, location),
    }


def file_button(session: Session, module: ModuleRef, links: SessionFileLinks) -> Block | None:
    """The session's iCalendar file (Outlook, Apple Calendar), at a signed address."""
    if session.start is None:
        return None
    return {
        "type": "button",
        "action_id": f"{Action.CALENDAR}:ics:{session.session_id}"[:255],
        "text": plain("Add to Outlook / Apple calendar"),
        "url": links.url(module.id, session.session_id),
    }


def remind_button(session: Session, module: ModuleRef) -> Block:
    return {
        "type": "button",
        "action_id": f"{Action.REMIND_SESSION}:{session.session_id}"[:255],
        "text": plain("Remind me"),
        "value": encode_session(SessionRef(module.id, session.session_id)),
    }


def session_actions(
    session: Session,
    module: ModuleRef,
    remindable: bool,
    position: int,
    links: SessionFileLinks | None = None,
) -> Block | None:
    """The per-session buttons; None when there is nothing to offer. `links`: the calendar file's
    button too (when the bot has a public address).

    `position` keeps block ids unique even when Zoho repeats or omits session ids.
    """
    files = file_button(session, module, links) if links is not None else None
    elements = [button for button in (calendar_button(session, module), files) if button is not None]
    if remindable and session.start is not None:
        elements.append(remind_button(session, module))
    if not elements:
        return None
    return {
        "type": "actions",
        "block_id": f"session:{position}:{session.session_id}"[:255],
        "elements": elements,
    }
