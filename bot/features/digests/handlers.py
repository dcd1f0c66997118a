"""`/sessions digest …`: subscribe a channel, list its digests, stop one, turn change notices off or on."""

from __future__ import annotations

import logging

from bot.features import commands
from bot.features.calendar.feeds import CalendarFeeds
from bot.features.calendar.render import channel_block
from bot.features.deps import Deps
from bot.features.digests.render import list_text, notices_text
from bot.features.forms.buttons import change_buttons
from bot.features.forms.ids import Kind
from bot.features.resolve import Chosen, Unresolved, choose_module
from bot.features.router import Asked, SubcommandHandler
from bot.features.subscriptions.render import digests_saved, digests_stopped
from bot.features.subscriptions.service import DIGEST_COMMAND, DigestPlan, OnChange, Subscriptions
from bot.sessions.matching import normalise
from bot.slack.messages import MAX_BULLETS, Message, sentence_message
from bot.slack.text import clip, escape_clip
from bot.store.feeds import FeedKind

log = logging.getLogger(__name__)


class DigestCommands:
    """Handlers for the parsed digest commands; each answers within Slack's 3 seconds."""

    def __init__(
        self,
        deps: Deps,
        subscriptions: Subscriptions,
        on_change: OnChange,
        calendar: CalendarFeeds | None = None,
    ) -> None:
        """`on_change(client, user)` republishes the person's App Home after a change; `calendar`
        (with a public address) offers the channel's calendar feed in `digest list`."""
        self._deps = deps
        self._subscriptions = subscriptions
        self._on_change = on_change
        self._calendar = calendar

    def handlers(self) -> dict[type, SubcommandHandler]:
        """The parsed commands this feature answers, for the router."""
        return {
            commands.DigestAdd: self.add,
            commands.DigestList: self.list,
            commands.DigestOff: self.off,
            commands.DigestNotices: self.notices,
        }

    async def add(self, parsed: commands.DigestAdd, asked: Asked) -> Message:
        choice = await choose_module(self._deps, parsed.query, DIGEST_COMMAND)
        if isinstance(choice, Unresolved):
            return choice.message
        plan = DigestPlan(asked.channel, [choice.module], parsed.at, parsed.weekdays)
        saved = await self._subscriptions.save_digests(asked.client, asked.user, plan, here=asked.channel)
        await self._on_change(asked.client, asked.user)
        return sentence_message(digests_saved(saved, here=True), ":white_check_mark:")

    async def list(self, _: commands.DigestList, asked: Asked) -> Message:
        channel = asked.channel
        digests = await self._deps.store.digests(channel_id=channel)
        notices = await self._deps.store.watches.channel_notices(channel)
        message = sentence_message(list_text(digests, notices), "")
        message["blocks"] += [
            change_buttons(Kind.DIGEST, d.id, clip(d.module.title, 60)) for d in digests[:MAX_BULLETS]
        ]
        if self._calendar is not None and digests:
            address = await self._calendar.subscribe(FeedKind.CHANNEL, channel, asked.user)
            message["blocks"] += channel_block(address)
        return message

    async def notices(self, parsed: commands.DigestNotices, asked: Asked) -> Message:
        await self._deps.store.watches.set_channel_notices(asked.channel, parsed.on)
        log.info(
            "change notices turned %s in %s by %s", "on" if parsed.on else "off", asked.channel, asked.user
        )
        return sentence_message(notices_text(parsed.on), ":white_check_mark:")

    async def off(self, parsed: commands.DigestOff, asked: Asked) -> Message:
        channel, query = asked.channel, parsed.query
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
        stopped = await self._subscriptions.stop_digests(asked.client, asked.user, matches, here=channel)
        await self._on_change(asked.client, asked.user)
        return sentence_message(digests_stopped(stopped), ":white_check_mark:")
