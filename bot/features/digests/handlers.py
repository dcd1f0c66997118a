"""`/sessions digest …`: subscribe a channel, list its digests, stop one, turn change notices off or on."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.features import commands
from bot.features.deps import Deps
from bot.features.digests.render import list_text, notices_text
from bot.features.forms.buttons import change_buttons
from bot.features.forms.ids import Kind
from bot.features.resolve import Chosen, Unresolved, choose_module
from bot.features.subscriptions.render import digests_saved, digests_stopped
from bot.features.subscriptions.service import DIGEST_COMMAND, DigestPlan, Refused, Subscriptions
from bot.sessions.matching import normalise
from bot.slack.messages import MAX_BULLETS, Message, sentence_message
from bot.slack.text import clip, escape_clip

log = logging.getLogger(__name__)


class DigestCommands:
    """Handlers for the parsed digest commands; each answers within Slack's 3 seconds."""

    def __init__(self, deps: Deps, subscriptions: Subscriptions) -> None:
        self._deps = deps
        self._subscriptions = subscriptions

    def handlers(self) -> dict[type, Any]:
        """The parsed commands this feature answers, for the router."""
        return dict.fromkeys(
            (commands.DigestAdd, commands.DigestList, commands.DigestOff, commands.DigestNotices),
            self.on_command,
        )

    async def on_command(
        self,
        parsed: commands.Command,
        command: dict[str, Any],
        client: AsyncWebClient,
    ) -> Message:
        channel, user = command["channel_id"], command["user_id"]
        try:
            if isinstance(parsed, commands.DigestAdd):
                return await self.add(client, channel, user, parsed)
            if isinstance(parsed, commands.DigestOff):
                return await self.off(client, channel, user, parsed.query)
        except Refused as refused:
            return sentence_message(refused.sentence)
        if isinstance(parsed, commands.DigestNotices):
            return await self.notices(channel, user, parsed.on)
        return await self.list(channel)

    async def add(
        self, client: AsyncWebClient, channel: str, user: str, parsed: commands.DigestAdd
    ) -> Message:
        choice = await choose_module(self._deps, parsed.query, DIGEST_COMMAND)
        if isinstance(choice, Unresolved):
            return choice.message
        plan = DigestPlan(channel, [choice.module], parsed.at, parsed.weekdays)
        saved = await self._subscriptions.save_digests(client, user, plan, here=channel)
        return sentence_message(digests_saved(saved, here=True), ":white_check_mark:")

    async def list(self, channel: str) -> Message:
        digests = await self._deps.store.digests(channel_id=channel)
        notices = await self._deps.store.watches.channel_notices(channel)
        message = sentence_message(list_text(digests, notices), "")
        message["blocks"] += [
            change_buttons(Kind.DIGEST, d.id, clip(d.module.title, 60)) for d in digests[:MAX_BULLETS]
        ]
        return message

    async def notices(self, channel: str, user: str, on: bool) -> Message:
        await self._deps.store.watches.set_channel_notices(channel, on)
        log.info("change notices turned %s in %s by %s", "on" if on else "off", channel, user)
        return sentence_message(notices_text(on), ":white_check_mark:")

    async def off(self, client: AsyncWebClient, channel: str, user: str, query: str) -> Message:
        existing = await self._deps.store.digests(channel_id=channel)
        wanted = normalise(query)
        matches = [d for d in existing if normalise(d.module.name) == wanted or d.module.key == query.strip()]
        if not matches:
            choice = await choose_module(self._deps, query, DIGEST_COMMAND)
            if isinstance(choice, Chosen):
                matches = [d for d in existing if d.module.id == choice.module.id]
        if not matches:
            return sentence_message(
                f"This channel has no digest of “{escape_clip(query, 100)}”. {list_text(existing)}",
                ":thinking_face:",
            )
        stopped = await self._subscriptions.stop_digests(client, user, matches, here=channel)
        return sentence_message(digests_stopped(stopped), ":white_check_mark:")
