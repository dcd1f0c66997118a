"""Reminder DMs and the reminder lists (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.features.reminders.due import DueReminder
from bot.features.session_view import Block, calendar_button, session_section
from bot.features.subscriptions.render import reminder_line
from bot.slack.messages import Message, bullets
from bot.slack.text import clip, date_token, defang, escape_clip, mrkdwn
from bot.store.records import Reminder


def reminder_message(due: DueReminder, zone: tzinfo) -> Message:
    session = due.session
    starts = date_token(due.start, "{time}", zone, "%H:%M")
    who = "You're training" if due.for_trainer else "Reminder"
    intro = f":bell: {who}: *{escape_clip(session.name, 150)}* starts at {starts}"
    if due.module.name:
        intro += f" ({escape_clip(due.module.name, 100)})"
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(intro)}, session_section(session, zone)]
    button = calendar_button(session, due.module)
    if button is not None:
        blocks.append({"type": "actions", "elements": [button]})
    local = due.start.astimezone(zone)
    text = f"{who}: {defang(clip(session.name, 150))} starts at {local:%H:%M} {local.tzname()}."
    return {"text": text, "blocks": blocks}


def list_text(reminders: Sequence[Reminder]) -> str:
    if not reminders:
        return "You have no reminders. Add one with `/sessions remind &lt;module&gt; [15m|1h|1d]`."
    return "Your reminders:\n" + bullets([reminder_line(r) for r in reminders])
