"""`/sessions digest …`: subscribe a channel, list its digests, stop one, turn change notices off or on."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.features import commands
from bot.features.deps import Deps
from bot.features.digests.render import confirmation_text, list_text, notices_text
from bot.features.forms.buttons import change_buttons
from bot.features.forms.ids import Kind
from bot.features.resolve import Chosen, Unresolved, choose_module, not_in_zoho
from bot.sessions.matching import normalise
from bot.sessions.modules import ModuleRef
from bot.slack import delivery
from bot.slack.messages import MAX_BULLETS, Message, sentence_message
from bot.slack.text import clip, escape, escape_clip
from bot.slack.users import user_zone
from bot.store.records import Digest

log = logging.getLogger(__name__)

COMMAND = "/sessions digest"
"""How a person names this feature's modules by id, in sentences."""

MAX_DIGESTS_PER_CHANNEL = 50
"""Modules a channel's digests may follow; changing the time of one is not refused."""
TOO_MANY = (
    f"This channel already has digests of {MAX_DIGESTS_PER_CHANNEL} modules, the most a channel may "
    "have, so nothing was saved. Stop one with `/sessions digest off &lt;module&gt;` "
    "(`/sessions digest list` shows them), then try again."
)

INVITE = (
    "I can't post in this channel, so I can't send it a digest. Invite me first "
    "(`/invite @Sessions`), then run the command again."
)


class DigestCommands:
    """Handlers for the parsed digest commands; each answers within Slack's 3 seconds."""

    def __init__(self, deps: Deps, on_change: Any) -> None:
        self._deps = deps
        self._on_change = on_change

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
        if isinstance(parsed, commands.DigestAdd):
            return await self.add(client, channel, user, parsed)
        if isinstance(parsed, commands.DigestOff):
            return await self.off(client, channel, user, parsed.query)
        if isinstance(parsed, commands.DigestNotices):
            return await self.notices(channel, user, parsed.on)
        return await self.list(channel)

    async def add(
        self, client: AsyncWebClient, channel: str, user: str, parsed: commands.DigestAdd
    ) -> Message:
        choice = await choose_module(self._deps, parsed.query, COMMAND)
        if isinstance(choice, Unresolved):
            return choice.message
        module = choice.module
        refusal = await self._refusal(channel, module)
        if refusal is not None:
            return refusal
        zone = await user_zone(client, user, self._deps.zoho_zone)
        planned = Digest(0, channel, module, parsed.at, parsed.weekdays, zone.key, user)

        try:
            await delivery.post(client, channel, sentence_message(confirmation_text(user, planned), ""))
        except delivery.DeliveryError as exc:
            if exc.permanent:
                return sentence_message(INVITE)
            return sentence_message(f"Slack refused to post here ({escape(exc.reason)}); please try again.")
        await self._deps.store.save_digest(
            channel, module, parsed.at, parsed.weekdays, zone.key, user, self._deps.clock.now()
        )
        await self._deps.store.pause_channel_digests(channel, None)  # the bot can post here again
        log.info("digest of %s subscribed in %s by %s", module.key, channel, user)
        await self._on_change(client, user)
        return sentence_message(
            f"Done. This channel gets a digest of *{escape_clip(module.title, 100)}* at {parsed.at:%H:%M} "
            f"({escape(zone.key)}), {commands.describe_weekdays(parsed.weekdays)}.",
            ":white_check_mark:",
        )

    async def _refusal(self, channel: str, module: ModuleRef) -> Message | None:
        """Why this digest may not be saved (the channel's limit, or Zoho has no such module);
        None when it may. The limit is checked first: it costs no call."""
        existing = await self._deps.store.digests(channel_id=channel)
        changed = any(d.module.id == module.id for d in existing)
        if len(existing) >= MAX_DIGESTS_PER_CHANNEL and not changed:
            return sentence_message(TOO_MANY)
        return await not_in_zoho(self._deps, module, COMMAND)

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
            choice = await choose_module(self._deps, query, COMMAND)
            if isinstance(choice, Chosen):
                matches = [d for d in existing if d.module.id == choice.module.id]
        if not matches:
            return sentence_message(
                f"This channel has no digest of “{escape_clip(query, 100)}”. {list_text(existing)}",
                ":thinking_face:",
            )
        for digest in matches:
            await self._deps.store.remove_digest(channel, digest.module.id)
        await self._on_change(client, user)
        names = ", ".join(f"*{escape_clip(d.module.title, 100)}*" for d in matches)
        return sentence_message(f"Stopped the digest of {names} in this channel.", ":white_check_mark:")
