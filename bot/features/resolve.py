"""Turning a typed module name into one module for commands that act on it (digest, remind)."""

from __future__ import annotations

from bot.features.deps import Deps
from bot.sessions.matching import Ambiguous, Found, ModuleRef
from bot.slack.errors import sentence_for
from bot.slack.messages import Message, sentence_message
from bot.slack.text import escape, escape_clip
from bot.zoho.errors import ZohoError


async def module_or_message(deps: Deps, query: str) -> ModuleRef | Message:
    """The module meant, or the message that says why there is not exactly one."""
    shown = escape_clip(query, 100)
    try:
        resolution = await deps.catalog.lookup(query, deps.deadline())
    except ZohoError as exc:
        return sentence_message(sentence_for(exc))
    if isinstance(resolution, Found):
        return resolution.module
    if isinstance(resolution, Ambiguous):
        names = "; ".join(escape(m.path) for m in resolution.candidates[:5])
        return sentence_message(
            f"“{shown}” matches several modules: {names}. Repeat the command with the full module name "
            "or its course/batch/module ids.",
            ":thinking_face:",
        )
    nearest = "; ".join(escape(m.path) for m in resolution.nearest)
    hint = f" Nearest: {nearest}." if nearest else ""
    return sentence_message(f"I couldn't find a module called “{shown}”.{hint}", ":thinking_face:")
