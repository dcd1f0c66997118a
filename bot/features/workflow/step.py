"""The Workflow Builder step "Upcoming training sessions": its inputs read and its outputs
built, as pure functions.

The `summary` output is text a following "Send a message" step posts as it is, so every piece of
Zoho's data in it is escaped for mrkdwn and cannot ping (`@channel`) or link. Times are in the
organisation's zone, named: a workflow's message has no one reader whose zone could be used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from bot.sessions.listing import Listing
from bot.sessions.model import Session
from bot.slack.text import clip, escape_clip, neutralise

CALLBACK_ID = "upcoming_sessions"
"""The step's `callback_id` in manifest.yml's `functions:`."""
MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 60, 7
MAX_LISTED = 25
"""Sessions written out in the summary; more are counted in its last line."""
_DAY = "%a %d %b %Y"


@dataclass(frozen=True)
class StepAsk:
    """What a run of the step asks for: a module as `/sessions` takes it, and how many days ahead."""

    module: str
    days: int


def read_inputs(inputs: Mapping[str, Any]) -> StepAsk | str:
    """The run's question, or the sentence that fails the step when an input cannot mean anything."""
    module = inputs.get("module")
    if not isinstance(module, str) or not module.strip():
        return (
            "The step needs a module: its name, an alias or its course/batch/module ids, "
            "as `/sessions` takes them."
        )
    days = _days(inputs.get("days"))
    if days is None:
        shown = escape_clip(str(inputs.get("days")), 40)
        return f"“{shown}” is not a number of days: give a whole number from {MIN_DAYS} to {MAX_DAYS}."
    return StepAsk(" ".join(module.split()), days)


def _days(value: Any) -> int | None:
    """Days ahead from the input as Workflow Builder sends it (a number, or text from a variable);
    empty means the default."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_DAYS
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value) or value != int(value):
        return None
    days = int(value)
    return days if MIN_DAYS <= days <= MAX_DAYS else None


def step_outputs(listing: Listing, days: int, zone: tzinfo) -> dict[str, Any]:
    """`summary`, `count` and `next_start` (Unix seconds; left out when no session has a known
    start, as an empty timestamp is not a timestamp)."""
    outputs: dict[str, Any] = {"summary": summary(listing, days, zone), "count": len(listing.sessions)}
    starts = [s.start for s in listing.sessions if s.start is not None]
    if starts:
        outputs["next_start"] = int(min(starts).timestamp())
    return outputs


def summary(listing: Listing, days: int, zone: tzinfo) -> str:
    module = listing.module
    title = escape_clip(module.title, 150)
    span = "the next day" if days == 1 else f"the next {days} days"
    if not listing.sessions:
        lines = [f"No upcoming sessions of *{title}* in {span}."]
    else:
        count = len(listing.sessions)
        noun = "session" if count == 1 else "sessions"
        lines = [f"*{title}*: {count} upcoming {noun} in {span}"]
        lines += [f"• {_session_line(session, zone)}" for session in listing.sessions[:MAX_LISTED]]
        if count > MAX_LISTED:
            lines.append(f"…and {count - MAX_LISTED} more.")
    if listing.stale:
        lines.append(_as_of(listing, zone))
    return neutralise("\n".join(lines))


def _session_line(session: Session, zone: tzinfo) -> str:
    parts = [_when(session, zone), escape_clip(session.name, 150)]
    if session.trainer:
        parts.append(f"Trainer: {escape_clip(session.trainer, 100)}")
    if session.room:
        parts.append(f"Room: {escape_clip(session.room, 100)}")
    return " · ".join(parts)


def _when(session: Session, zone: tzinfo) -> str:
    if session.start is None:
        return escape_clip(session.when_text, 60)
    start = session.start.astimezone(zone)
    text = f"{start.strftime(_DAY)} {start.strftime('%H:%M')}"
    if session.end is not None:
        end = session.end.astimezone(zone)
        text += f"–{end.strftime('%H:%M')}" if end.date() == start.date() else f" – {_stamp(end)}"
    return f"{text} {start.tzname()}"


def _stamp(moment: datetime) -> str:
    return f"{moment.strftime(_DAY)} {moment.strftime('%H:%M')}"


def _as_of(listing: Listing, zone: tzinfo) -> str:
    since = listing.fetched_at.astimezone(zone)
    reason = f"{escape_clip(clip(listing.problem, 200), 250)} " if listing.problem else ""
    return f"_{reason}Sessions as of {_stamp(since)} {since.tzname()}._"
