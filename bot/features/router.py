"""The one `/sessions` command: parse its text, then hand it to the feature that owns it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.features import commands
from bot.features.deps import Deps
from bot.features.listing.handlers import show_sessions
from bot.features.listing.render import help_message
from bot.features.subscriptions.service import Refused
from bot.slack.messages import Message, sentence_message
from bot.slack.respond import AckFn, RespondFn, answer_command

COMMAND = "/sessions"


@dataclass(frozen=True)
class Asked:
    """Who typed a subcommand, where, and the Web API client to act with."""

    user: str
    channel: str
    client: AsyncWebClient


SubcommandHandler = Callable[[Any, Asked], Coroutine[Any, Any, Message]]
"""Given the parsed command and who asked, the answer to show."""
WORKING = sentence_message("Working on it…", ":hourglass_flowing_sand:")


def register(app: AsyncApp, deps: Deps, subcommands: dict[type, SubcommandHandler]) -> None:
    """`subcommands` maps parsed command types (digest, remind…) to the feature handling them."""

    async def on_sessions(
        ack: AckFn, command: dict[str, Any], respond: RespondFn, client: AsyncWebClient
    ) -> None:
        parsed = commands.parse(command.get("text") or "")
        if isinstance(parsed, commands.Help):
            await ack(response_type="ephemeral", **help_message(deps.catalog.modules()))
        elif isinstance(parsed, commands.Invalid):
            await ack(response_type="ephemeral", **sentence_message(parsed.message, ":thinking_face:"))
        elif isinstance(parsed, commands.ShowSessions):
            await show_sessions(deps, ack, respond, client, command["user_id"], parsed.query, parsed.window)
        elif type(parsed) in subcommands:
            asked = Asked(command["user_id"], command["channel_id"], client)
            work = _refusal_said(subcommands[type(parsed)](parsed, asked))
            await answer_command(ack, respond, work, WORKING, command["user_id"])
        else:
            await ack(response_type="ephemeral", **_not_available(parsed))

    app.command(COMMAND)(on_sessions)


async def _refusal_said(work: Coroutine[Any, Any, Message]) -> Message:
    """A subscription the service refused is answered with its sentence; nothing changed."""
    try:
        return await work
    except Refused as refused:
        return sentence_message(refused.sentence)


def _not_available(parsed: commands.Command) -> Message:
    return sentence_message(f"`{type(parsed).__name__}` is not available in this installation.")
