"""`/sessions remind …` and the Remind me button."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.features import commands
from bot.features.deps import Deps
from bot.features.listing.ids import Action, decode_session
from bot.features.reminders.render import list_text
from bot.features.resolve import Chosen, Unresolved, choose_module
from bot.features.router import Asked, SubcommandHandler
from bot.features.subscriptions.render import reminders_of_module_saved
from bot.features.subscriptions.service import REMIND_COMMAND, OnChange, Refused, Subscriptions
from bot.sessions.matching import normalise
from bot.sessions.windows import next_days
from bot.slack import delivery
from bot.slack.actions import action_value, on_action
from bot.slack.messages import Message, sentence_message
from bot.slack.respond import AckFn, RespondFn
from bot.slack.text import date_token, escape_clip

log = logging.getLogger(__name__)

BUTTON_WINDOW_DAYS = 366


class ReminderCommands:
    def __init__(self, deps: Deps, subscriptions: Subscriptions, on_change: OnChange) -> None:
        """`on_change(client, user)` republishes the person's App Home after a change."""
        self._deps = deps
        self._subscriptions = subscriptions
        self._on_change = on_change

    def register(self, app: AsyncApp) -> None:
        on_action(app, Action.REMIND_SESSION, self.on_button)

    def handlers(self) -> dict[type, SubcommandHandler]:
        """The parsed commands this feature answers, for the router."""
        return {commands.RemindAdd: self.add, commands.RemindList: self.list, commands.RemindOff: self.off}

    async def add(self, parsed: commands.RemindAdd, asked: Asked) -> Message:
        choice = await choose_module(self._deps, parsed.query, REMIND_COMMAND)
        if isinstance(choice, Unresolved):
            return choice.message
        saved = await self._subscriptions.save_reminder(asked.user, choice.module, parsed.lead)
        await self._on_change(asked.client, asked.user)
        return sentence_message(reminders_of_module_saved(saved), ":white_check_mark:")

    async def list(self, _: commands.RemindList, asked: Asked) -> Message:
        return sentence_message(list_text(await self._deps.store.reminders(user_id=asked.user)), "")

    async def off(self, parsed: commands.RemindOff, asked: Asked) -> Message:
        client, user, query = asked.client, asked.user, parsed.query
        if not query.strip():
            count = await self._subscriptions.stop_reminders(user)
            await self._on_change(client, user)
            return sentence_message(f"Stopped all your reminders ({count}).", ":white_check_mark:")
        mine = await self._deps.store.reminders(user_id=user)
        wanted = normalise(query)
        modules = {
            r.module.id for r in mine if normalise(r.module.name) == wanted or r.module.key == query.strip()
        }
        if not modules:
            choice = await choose_module(self._deps, query, REMIND_COMMAND)
            if isinstance(choice, Chosen):
                modules = {r.module.id for r in mine if r.module.id == choice.module.id}
        if not modules:
            return sentence_message(
                f"You have no reminders for “{escape_clip(query, 100)}”. {list_text(mine)}",
                ":thinking_face:",
            )
        await self._subscriptions.stop_reminders(user, sorted(modules, key=str))
        await self._on_change(client, user)
        names = ", ".join(
            sorted(f"*{escape_clip(r.module.title, 100)}*" for r in mine if r.module.id in modules)
        )
        return sentence_message(f"Stopped your reminders for {names}.", ":white_check_mark:")

    async def on_button(
        self, ack: AckFn, body: dict[str, Any], respond: RespondFn, client: AsyncWebClient
    ) -> None:
        """Remind me: one session, the default lead time. Answered ephemerally beside the message,
        or by DM when the button is in a modal (the shortcut's), which has no response_url."""
        await ack()
        user = body["user"]["id"]
        answer = await self._remind_one(client, user, body)
        if body.get("response_url"):
            await respond(replace_original=False, response_type="ephemeral", **answer)
            return
        try:
            await delivery.post(client, user, answer)
        except delivery.DeliveryError as exc:
            log.info("Remind me answer to %s failed: %s", user, exc.reason)

    async def _remind_one(self, client: AsyncWebClient, user: str, body: dict[str, Any]) -> Message:
        try:
            ref = decode_session(action_value(body))
        except (ValueError, KeyError):
            return sentence_message("This button is from an older message; run `/sessions` again.")
        module = self._deps.catalog.module(ref.module)
        if module is None:
            return sentence_message("I no longer know this module; run `/sessions` again.")
        now = self._deps.clock.now()
        listing = await self._deps.sessions.upcoming(
            module, now, next_days(now, BUTTON_WINDOW_DAYS), self._deps.deadline()
        )
        session = next((s for s in listing.sessions if s.session_id == ref.session_id), None)
        if session is None or session.start is None or session.start <= now:
            return sentence_message("That session has already started or is no longer planned.")
        lead = commands.DEFAULT_LEAD
        try:
            await self._subscriptions.save_reminder(user, module, lead, session.session_id)
        except Refused as refused:
            return sentence_message(refused.sentence)
        await self._on_change(client, user)
        when = date_token(session.start, "{date_short_pretty} at {time}", self._deps.zoho_zone)
        return sentence_message(
            f"I'll send you a direct message {commands.describe_lead(lead)} before "
            f"*{escape_clip(session.name, 150)}* ({when}).",
            ":bell:",
        )
