"""Turning a typed module name into one module for commands that act on it (digest, remind)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.features.deps import Deps
from bot.features.listing.render import still_discovering
from bot.sessions.matching import Ambiguous, Found
from bot.sessions.modules import ModuleRef
from bot.slack.messages import Message, sentence_message
from bot.slack.text import escape, escape_clip


@dataclass(frozen=True)
class Chosen:
    module: ModuleRef


@dataclass(frozen=True)
class Unresolved:
    """Not exactly one module: the message that tells the person why."""

    message: Message


ModuleChoice = Chosen | Unresolved


async def choose_module(deps: Deps, query: str, command: str) -> ModuleChoice:
    """The module meant, or why there is not exactly one (a domain failure rises to the caller);
    `command` (`/sessions digest`…) is how the person would name it by its ids."""
    shown = escape_clip(query, 100)
    resolution = await deps.catalog.lookup(query, deps.deadline())
    if isinstance(resolution, Found):
        return Chosen(resolution.module)
    if isinstance(resolution, Ambiguous):
        names = "; ".join(escape(m.path) for m in resolution.candidates[:5])
        return Unresolved(
            sentence_message(
                f"“{shown}” matches several modules: {names}. Repeat the command with the full module "
                "name or its course/batch/module ids.",
                ":thinking_face:",
            )
        )
    if deps.catalog.walked_at() is None:
        return Unresolved(sentence_message(still_discovering(query, command), ":hourglass_flowing_sand:"))
    nearest = "; ".join(escape(m.path) for m in resolution.nearest)
    hint = f" Nearest: {nearest}." if nearest else ""
    return Unresolved(
        sentence_message(f"I couldn't find a module called “{shown}”.{hint}", ":thinking_face:")
    )
