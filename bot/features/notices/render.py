"""Change notices as Slack shows them (pure): a channel's message grouped by module, a person's DM,
and the one-line form App Home lists.

Times are `<!date>` tokens, so each reader sees their own zone; every name from
Zoho is escaped, and top-level `text` is defanged, as everywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from bot.features.session_view import Block
from bot.sessions.changes import Change, ChangeKind, Known
from bot.slack.messages import Message
from bot.slack.text import clip, date_token, defang, escape_clip, mrkdwn, plain
from bot.store.records import FoundChange

MAX_LINES = 10
"""Changes listed per module; a section holds 3,000 characters and each line is under 300."""
MAX_MODULES = 20
"""Modules listed in one message (two blocks each, within Slack's 50)."""
NAME_CHARS = 100
DETAIL_CHARS = 60


def change_line(change: Change, zone: tzinfo) -> str:
    """One change in one line of mrkdwn: what happened to which session, old value struck through."""
    session = change.session
    name = f"*{escape_clip(session.name, NAME_CHARS)}*"
    if change.kind is ChangeKind.MOVED and change.before is not None:
        line = f"{name} moved: ~{_when(change.before, zone)}~ → {_when(session, zone)}"
        return line + (f", {escape_clip(session.room, DETAIL_CHARS)}" if session.room else "")
    on = _day(session.start, zone)
    if change.kind is ChangeKind.CANCELLED:
        return f"{name} on {on} is cancelled"
    if change.kind is ChangeKind.ADDED:
        details = [escape_clip(value, DETAIL_CHARS) for value in (session.trainer, session.room) if value]
        return f"New: {name} on {_when(session, zone)}" + "".join(f", {d}" for d in details)
    label, before, after = (
        ("trainer", change.before.trainer if change.before else "", session.trainer)
        if change.kind is ChangeKind.TRAINER
        else ("room", change.before.room if change.before else "", session.room)
    )
    now = escape_clip(after, DETAIL_CHARS) if after else "none"
    was = f" (was {escape_clip(before, DETAIL_CHARS)})" if before else ""
    return f"{name} on {on}: {label} now {now}{was}"


def channel_notice(changes: Sequence[FoundChange], zone: tzinfo) -> Message:
    """Every change a channel is told of at one moment, grouped by module."""
    by_module: dict[str, tuple[str, list[Change]]] = {}
    for found in changes:
        by_module.setdefault(found.module.key, (found.module.title, []))[1].append(found.change)
    blocks: list[Block] = [{"type": "header", "text": plain("Training sessions changed", 150)}]
    groups = list(by_module.values())
    for title, module_changes in groups[:MAX_MODULES]:
        blocks.append({"type": "context", "elements": [mrkdwn(f"*{escape_clip(title, NAME_CHARS)}*")]})
        blocks.append({"type": "section", "text": mrkdwn(_lines(module_changes, zone))})
    if len(groups) > MAX_MODULES:
        more = len(groups) - MAX_MODULES
        blocks.append({"type": "context", "elements": [mrkdwn(f"…and changes to {more} more module(s).")]})
    return {"text": defang(_summary(changes)), "blocks": blocks}


def person_notice(changes: Sequence[FoundChange], zone: tzinfo, for_trainer: bool) -> Message:
    """A DM: the changes to sessions the person is reminded of (or, as a trainer, trains)."""
    subject = "you train" if for_trainer else "you have a reminder for"
    intro = f"A session {subject} has changed" if len(changes) == 1 else f"Sessions {subject} have changed"
    lines = [
        f"{change_line(found.change, zone)} ({escape_clip(found.module.title, NAME_CHARS)})"
        for found in changes[:MAX_LINES]
    ]
    if len(changes) > MAX_LINES:
        lines.append(f"…and {len(changes) - MAX_LINES} more.")
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(f":arrows_counterclockwise: {intro}:")}]
    blocks.append({"type": "section", "text": mrkdwn("\n".join(f"• {line}" for line in lines))})
    if not for_trainer:
        follow_up = []
        if any(found.change.kind is ChangeKind.MOVED for found in changes):
            follow_up.append("Your reminder now follows the new time.")
        if any(found.change.kind is ChangeKind.CANCELLED for found in changes):
            follow_up.append("No reminder will come for a cancelled session.")
        if follow_up:
            blocks.append({"type": "context", "elements": [mrkdwn(" ".join(follow_up))]})
    return {"text": defang(_summary(changes)), "blocks": blocks}


def _lines(changes: Sequence[Change], zone: tzinfo) -> str:
    lines = [f"• {change_line(change, zone)}" for change in changes[:MAX_LINES]]
    if len(changes) > MAX_LINES:
        lines.append(f"…and {len(changes) - MAX_LINES} more.")
    return "\n".join(lines)


def _summary(changes: Sequence[FoundChange]) -> str:
    """The notification text: plain words, no tokens."""
    count = len(changes)
    names = ", ".join(dict.fromkeys(clip(found.module.title, 60) for found in changes))
    return f"{count} change{'s' if count != 1 else ''} to training sessions ({names})."


def _when(session: Known, zone: tzinfo) -> str:
    text = date_token(session.start, "{date_short_pretty} {time}", zone, "%a %d %b %H:%M")
    if session.end is not None:
        text += "–" + date_token(session.end, "{time}", zone, "%H:%M")
    return text


def _day(moment: datetime, zone: tzinfo) -> str:
    return date_token(moment, "{date_short_pretty}", zone, "%a %d %b")
