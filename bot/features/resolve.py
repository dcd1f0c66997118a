"""Turning a typed module name into one module for commands that act on it (digest, remind),
and making sure Zoho knows a module before anything is subscribed to it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.features.deps import Deps
from bot.features.listing.render import still_discovering
from bot.sessions.errors import ModuleGone, SessionsError
from bot.sessions.matching import Ambiguous, Found
from bot.sessions.modules import ModuleRef
from bot.slack.errors import sentence_for
from bot.slack.messages import Message, sentence_message
from bot.slack.text import escape, escape_clip

log = logging.getLogger(__name__)


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
        names = "; ".join(escape_clip(m.path, 200) for m in resolution.candidates[:5])
        return Unresolved(
            sentence_message(
                f"“{shown}” matches several modules: {names}. Repeat the command with the full module "
                "name or its course/batch/module ids.",
                ":thinking_face:",
            )
        )
    if deps.catalog.walked_at() is None:
        return Unresolved(sentence_message(still_discovering(query, command), ":hourglass_flowing_sand:"))
    nearest = "; ".join(escape_clip(m.path, 200) for m in resolution.nearest)
    hint = f" Nearest: {nearest}." if nearest else ""
    return Unresolved(
        sentence_message(f"I couldn't find a module called “{shown}”.{hint}", ":thinking_face:")
    )


async def not_in_zoho(
    deps: Deps, module: ModuleRef, command: str, deadline: float | None = None
) -> Message | None:
    """Why nothing may be subscribed to `module` now, or None when Zoho knows it.

    Ids typed by hand are not checked by the lookup, and a subscription to a module Zoho does
    not have would cost a failing call on every refresh. A module the catalog knows needs no
    call; one a read lately found gone is refused without one, unless the catalog knows it
    (it may be back); any other is read once, through the session service (cached, counted),
    by `deadline` (the lookup's usual one by default).
    """
    known = deps.catalog.module(module.id) is not None
    gone = deps.sessions.gone(module)
    if known and not gone:
        return None
    if gone and not known:
        return _no_such_module(module, command)
    try:
        await deps.sessions.confirm(module, deadline or deps.deadline())
    except ModuleGone as exc:
        if known:  # typed by name: the catalog's walk predates Zoho dropping it
            return sentence_message(f"{sentence_for(exc)} Nothing was saved.")
        return _no_such_module(module, command)
    except SessionsError as exc:
        log.info("module %s could not be checked with Zoho: %s", module.key, exc)
        return sentence_message(
            f"I couldn't ask Zoho whether module `{escape(module.key)}` exists, so nothing was saved. "
            f"{sentence_for(exc)}"
        )
    return None


def _no_such_module(module: ModuleRef, command: str) -> Message:
    log.info("subscription to %s refused: Zoho has no such module", module.key)
    return sentence_message(
        f"Zoho has no module `{escape(module.key)}`, so nothing was saved; check the ids or pick it "
        f"by name: `{command} &lt;module name&gt;`.",
        ":thinking_face:",
    )
