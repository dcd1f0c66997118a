"""Listeners of the forms: the buttons that open them, their module menus, the shortcut, and
the Stop buttons. Submissions live in submit.py, views in render.py."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.features.deps import Deps
from bot.features.forms.ids import FormAction, FormCallback, FormRef, Kind, decode_form
from bot.features.forms.render import MAX_OPTIONS, browse_modal, digest_modal, module_options, reminder_modal
from bot.features.forms.submit import Submissions
from bot.features.subscriptions.render import digest_line, reminder_line
from bot.features.subscriptions.service import OnChange, Refused, Subscriptions
from bot.sessions.errors import SessionsError
from bot.sessions.modules import ModuleId, ModuleRef
from bot.sessions.windows import next_days
from bot.slack import observe
from bot.slack.actions import action_value, on_action
from bot.slack.errors import sentence_for
from bot.slack.messages import sentence_message, sentence_view
from bot.slack.respond import ACK_BUDGET_SECONDS
from bot.slack.users import user_zone
from bot.slack.views import open_view, update_view

log = logging.getLogger(__name__)

OLD_FORM = "This button is from an older message or view the bot can no longer read; nothing changed."
UNKNOWN_MODULE = "I no longer know that module; pick another."


class Forms:
    def __init__(self, deps: Deps, subscriptions: Subscriptions, on_change: OnChange) -> None:
        """`on_change` republishes a person's App Home when a refused click may have shown them
        an outdated one."""
        self._deps = deps
        self._subscriptions = subscriptions
        self._on_change = on_change
        self._submissions = Submissions(deps, subscriptions, on_change)

    def register(self, app: AsyncApp) -> None:
        on_action(app, FormAction.OPEN_REMINDER, self.on_open)
        on_action(app, FormAction.OPEN_DIGEST, self.on_open)
        on_action(app, FormAction.STOP_REMINDER, self.on_stop_reminder)
        on_action(app, FormAction.STOP_DIGEST, self.on_stop_digest)
        on_action(app, FormAction.BROWSE, self.on_browse)
        menus = "|".join(re.escape(a) for a in (FormAction.MODULE, FormAction.MODULES, FormAction.BROWSE))
        app.options(re.compile(rf"^({menus})$"))(self.on_options)
        app.shortcut(FormCallback.SHORTCUT.value)(self.on_shortcut)
        self._submissions.register(app)

    # ------------------------------------------------------------------ opening

    async def on_open(self, ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        """A button that opens a form: new (with the module it was shown beside) or an edit."""
        await ack()
        user = body["user"]["id"]
        channel = str((body.get("channel") or {}).get("id") or "")
        try:
            ref = decode_form(action_value(body))
        except ValueError as exc:
            log.info("undecodable form button value: %s", exc)
            await self._tell(body, respond, client, OLD_FORM)
            return
        ref = FormRef(ref.kind, ref.subscription, ref.module, channel)
        try:
            if ref.kind is Kind.REMINDER:
                view = await self._reminder_view(ref, user)
            else:
                view = await self._digest_view(ref, user, client)
        except Refused as refused:
            await self._tell(body, respond, client, refused.sentence)
            return
        if await open_view(client, body["trigger_id"], view) is None and respond is not None:
            await self._tell(body, respond, client, "Slack didn't let me open the form in time; click again.")

    async def _reminder_view(self, ref: FormRef, user: str) -> dict[str, Any]:
        if not ref.subscription:
            return reminder_modal(ref, self._known(ref.module))
        reminder = await self._subscriptions.reminder_to_change(user, ref.subscription)
        module = self._deps.catalog.module(reminder.module.id) or reminder.module
        edit = FormRef(Kind.REMINDER, reminder.id, reminder.module.id, ref.channel)
        return reminder_modal(edit, module, reminder.lead, one_session=bool(reminder.session_id))

    async def _digest_view(self, ref: FormRef, user: str, client: AsyncWebClient) -> dict[str, Any]:
        if not ref.subscription:
            module = self._known(ref.module)
            zone = await user_zone(client, user, self._deps.zoho_zone)
            return digest_modal(ref, [module] if module else [], zone)
        digest = await self._subscriptions.digest_to_change(client, user, ref.subscription)
        zone = await user_zone(client, user, self._deps.zoho_zone)
        module = self._deps.catalog.module(digest.module.id) or digest.module
        edit = FormRef(Kind.DIGEST, digest.id, digest.module.id, digest.channel_id)
        return digest_modal(
            edit, [module], zone, _in_zone(digest.at, digest.zone, zone, self._deps), digest.weekdays
        )

    def _known(self, module: ModuleId | None) -> ModuleRef | None:
        return self._deps.catalog.module(module) if module is not None else None

    # ------------------------------------------------------------------ menus

    async def on_options(self, ack: Any, body: dict[str, Any]) -> None:
        """What a module menu offers for the text typed so far: the catalog's, no Zoho call."""
        typed = str(body.get("value") or "")
        await ack(options=module_options(await self._deps.catalog.suggest(typed, MAX_OPTIONS)))

    # ------------------------------------------------------------------ the shortcut

    async def on_shortcut(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await open_view(client, body["trigger_id"], browse_modal())

    async def on_browse(self, ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        """A module picked in the shortcut's modal: its sessions replace the modal's content."""
        await ack()
        view_id = str((body.get("view") or {}).get("id") or "")
        key = action_value(body)
        parsed = ModuleId.parse(key) if key else None
        module = self._deps.catalog.module(parsed) if parsed else None
        if not view_id:
            return
        if module is None:
            await update_view(client, view_id, browse_modal(note=UNKNOWN_MODULE))
            return
        user = body["user"]["id"]
        zone = await user_zone(client, user, self._deps.zoho_zone)
        now = self._deps.clock.now()
        window = next_days(now)
        lookup = asyncio.ensure_future(
            self._deps.sessions.upcoming(module, now, window, self._deps.deadline())
        )
        done, _ = await asyncio.wait({lookup}, timeout=ACK_BUDGET_SECONDS)
        if not done:
            await update_view(
                client, view_id, browse_modal(module, note=":hourglass_flowing_sand: Looking up…")
            )
        try:
            listing = await lookup
        except SessionsError as exc:
            observe.told(type(exc).__name__)
            await update_view(client, view_id, browse_modal(module, note=sentence_for(exc)))
            return
        links = self._deps.calendar_links
        await update_view(client, view_id, browse_modal(module, listing, window.label, zone, links=links))

    # ------------------------------------------------------------------ stopping

    async def on_stop_reminder(
        self, ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        user = body["user"]["id"]
        ref = self._ref(body, Kind.REMINDER)
        try:
            if ref is None:
                raise Refused(OLD_FORM)
            reminder = await self._subscriptions.stop_reminder(user, ref.subscription)
        except Refused as refused:
            await self._refused_stop(body, respond, client, user, refused)
            return
        await self._on_change(client, user)
        await self._said(body, respond, f"Stopped: {reminder_line(reminder)}.")

    async def on_stop_digest(
        self, ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        user = body["user"]["id"]
        ref = self._ref(body, Kind.DIGEST)
        try:
            if ref is None:
                raise Refused(OLD_FORM)
            # A click is no proof of membership (anyone may read a public channel), so no `here`.
            digest = await self._subscriptions.stop_digest(client, user, ref.subscription)
        except Refused as refused:
            await self._refused_stop(body, respond, client, user, refused)
            return
        await self._on_change(client, user)
        await self._said(
            body, respond, f"Stopped the digest in <#{digest.channel_id}>: {digest_line(digest)}."
        )

    async def _refused_stop(
        self, body: dict[str, Any], respond: Any, client: AsyncWebClient, user: str, refused: Refused
    ) -> None:
        """Said to the person, whose App Home is republished: it may have shown what is gone."""
        log.info("stop refused for %s: %s", user, refused.short[:200])
        await self._tell(body, respond, client, refused.sentence)
        await self._on_change(client, user)

    async def _said(self, body: dict[str, Any], respond: Any, sentence: str) -> None:
        if body.get("response_url"):
            await respond(
                replace_original=False,
                response_type="ephemeral",
                **sentence_message(sentence, ":white_check_mark:"),
            )

    def _ref(self, body: dict[str, Any], kind: Kind) -> FormRef | None:
        try:
            ref = decode_form(action_value(body))
        except ValueError as exc:
            log.info("undecodable stop button value: %s", exc)
            return None
        return ref if ref.kind is kind and ref.subscription else None

    async def _tell(self, body: dict[str, Any], respond: Any, client: AsyncWebClient, sentence: str) -> None:
        """A sentence for the person: ephemeral where the click has a response_url, else a modal."""
        if body.get("response_url") and respond is not None:
            await respond(replace_original=False, response_type="ephemeral", **sentence_message(sentence))
        elif isinstance(body.get("trigger_id"), str):
            await open_view(client, body["trigger_id"], sentence_view(sentence))


def _in_zone(at: time, stored_zone: str, zone: ZoneInfo, deps: Deps) -> time:
    """A digest's time of day, kept in its creator's zone, as it reads in `zone` today."""
    try:
        source = ZoneInfo(stored_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return at
    today = deps.clock.now().astimezone(source).date()
    return datetime.combine(today, at, tzinfo=source).astimezone(zone).time().replace(tzinfo=None)
