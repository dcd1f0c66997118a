"""Messages every feature sends the same way (pure)."""

from __future__ import annotations

from typing import Any

from bot.slack.text import mrkdwn

Message = dict[str, Any]


def sentence_message(sentence: str, emoji: str = ":warning:") -> Message:
    """A short answer in one sentence: our own mrkdwn, which must hold no unescaped outside data."""
    return {"text": sentence, "blocks": [{"type": "section", "text": mrkdwn(f"{emoji} {sentence}".strip())}]}
