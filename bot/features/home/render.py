"""The Home tab view (pure), within its 100-block limit: at most 11 fixed blocks, 2 of the
calendar's, 10 sessions, two "more" notes and 18 rows of each kind at two blocks a row (its line,
then Edit and Stop)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from bot.features.forms.buttons import change_buttons, form_button
from bot.features.forms.ids import FormAction, FormRef, Kind
from bot.features.notices.render import change_line
from bot.features.session_view import Block, session_text
from bot.features.subscriptions.render import digest_line, reminder_line
from bot.sessions.model import Session
from bot.slack.text import escape_clip, mrkdwn, plain
from bot.store.records import Digest, FoundChange, Reminder

MAX_SESSIONS = 10
MAX_ROWS = 18
MAX_CHANGES = 5


def home_view(
    upcoming: Sequence[tuple[str, Session]],
    reminders: Sequence[Reminder],
    digests: Sequence[Digest],
    zone: tzinfo,
    changes: Sequence[FoundChange] = (),
    setup: Sequence[Block] = (),
    calendar: Sequence[Block] = (),
) -> dict[str, Any]:
    """`upcoming` pairs a module name with a session the person will be reminded of; `changes` are
    the latest changes to their reminded sessions, newest first; `setup` is the Zoho connection's
    card, shown first; `calendar` offers the person's calendar feed, after their sessions."""
    blocks: list[Block] = [*setup, {"type": "header", "text": plain("Your training sessions")}]
    blocks.append(_title("Coming up, with a reminder"))
    if upcoming:
        for module_name, session in upcoming[:MAX_SESSIONS]:
            text = f"{escape_clip(module_name, 100)} · {session_text(session, zone, with_description=False)}"
            blocks.append({"type": "section", "text": mrkdwn(text)})
    else:
        blocks.append(_note("Nothing in the next 14 days."))
    if changes:
        blocks.append(_title("Recent changes"))
        lines = [
            f"• {change_line(found.change, zone)} ({escape_clip(found.module.title, 100)})"
            for found in changes[:MAX_CHANGES]
        ]
        blocks.append({"type": "section", "text": mrkdwn("\n".join(lines))})
    blocks += calendar
    blocks.append({"type": "divider"})
    blocks.append(_title("Your reminders"))
    if not reminders:
        blocks.append(
            _note("None yet: `/sessions remind &lt;module&gt; [15m|1h|1d]`, or Remind me on a session.")
        )
    for reminder in reminders[:MAX_ROWS]:
        blocks += _row(reminder_line(reminder), Kind.REMINDER, reminder.id)
    if len(reminders) > MAX_ROWS:
        blocks.append(_note(f"…and {len(reminders) - MAX_ROWS} more: `/sessions remind list`."))
    blocks.append({"type": "divider"})
    blocks.append(_title("Digests you set up"))
    if not digests:
        blocks.append(_note("None: `/sessions digest &lt;module&gt; [at HH:MM] [mon-fri]` in a channel."))
    for digest in digests[:MAX_ROWS]:
        line = (
            f"<#{digest.channel_id}> · {digest_line(digest)}"
            if digest.channel_id.isalnum()
            else digest_line(digest)
        )
        blocks += _row(line, Kind.DIGEST, digest.id)
    if len(digests) > MAX_ROWS:
        blocks.append(_note(f"…and {len(digests) - MAX_ROWS} more: `/sessions digest list` in each channel."))
    blocks.append({"type": "divider"})
    blocks.append(
        {
            "type": "actions",
            "block_id": "home:add",
            "elements": [
                form_button(
                    "Add a reminder", FormAction.OPEN_REMINDER, FormRef(Kind.REMINDER), style="primary"
                ),
                form_button("Add a channel digest", FormAction.OPEN_DIGEST, FormRef(Kind.DIGEST)),
            ],
        }
    )
    blocks.append(
        _note(
            "Type `/sessions help` anywhere for examples: `/sessions onboarding week`, digests and reminders."
        )
    )
    return {"type": "home", "blocks": blocks}


def _title(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(f"*{text}*")}


def _note(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def _row(text: str, kind: Kind, ident: int) -> list[Block]:
    """A subscription's line, then its Edit and Stop buttons (a section holds only one)."""
    return [{"type": "section", "text": mrkdwn(text)}, change_buttons(kind, ident)]
