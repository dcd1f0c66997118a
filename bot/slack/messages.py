"""Messages every feature sends the same way (pure)."""

from __future__ import annotations

from typing import Any

from bot.slack.text import mrkdwn, neutralise

Message = dict[str, Any]


def sentence_message(sentence: str, emoji: str = ":warning:") -> Message:
    """A short answer in one sentence: our own mrkdwn, in which outside data is already escaped."""
    return {
        "text": neutralise(sentence),
        "blocks": [{"type": "section", "text": mrkdwn(f"{emoji} {sentence}".strip())}],
    }
