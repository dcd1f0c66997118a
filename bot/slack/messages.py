"""Messages every feature sends the same way (pure)."""

from __future__ import annotations

from typing import Any

from bot.slack.text import mrkdwn, neutralise, plain

Message = dict[str, Any]


def sentence_message(sentence: str, emoji: str = ":warning:") -> Message:
    """A short answer in one sentence: our own mrkdwn, in which outside data is already escaped."""
    return {
        "text": neutralise(sentence),
        "blocks": [{"type": "section", "text": mrkdwn(f"{emoji} {sentence}".strip())}],
    }


MAX_BULLETS = 10
"""Lines in a list answer: each line is at most ~250 characters, a section holds 3,000."""


def bullets(lines: list[str]) -> str:
    """A bulleted list that stays inside one section, saying how many were left out."""
    shown = [f"• {line}" for line in lines[:MAX_BULLETS]]
    if len(lines) > MAX_BULLETS:
        shown.append(f"…and {len(lines) - MAX_BULLETS} more.")
    return "\n".join(shown)


def sentence_view(sentence: str, emoji: str = ":warning:") -> dict[str, Any]:
    """`sentence_message` as a modal, for places without a conversation to answer in."""
    return message_view(sentence_message(sentence, emoji))


def message_view(message: Message) -> dict[str, Any]:
    """A short answer (`sentence_message`'s, `error_message`'s) shown as a modal."""
    return {
        "type": "modal",
        "title": plain("Sessions", 24),
        "close": plain("Close", 24),
        "blocks": message["blocks"],
    }
