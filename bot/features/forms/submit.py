"""Saving what a form says: a new reminder or digest, or an edit in place.

Everything that can refuse is checked before anything is stored, and each refusal is
answered at its field (`response_action: errors`) within Slack's 3 seconds; a form
that is not the person's to save, or that the bot did not write, gets a sentence in
the modal instead. Confirmations go out after the modal has closed.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.features import commands
from bot.features.deps import Deps
from bot.features.digests.handlers import COMMAND as DIGEST_COMMAND
from bot.features.digests.handlers import INVITE, MAX_DIGESTS_PER_CHANNEL
from bot.features.digests.render import confirmation_text, digest_line
from bot.features.forms.ids import Field, FormCallback, FormRef, Kind, decode_form
from bot.features.forms.read import DigestForm, FieldErrors, ReminderForm, read_digest, read_reminder
from bot.features.forms.rights import (
    DIGEST_GONE,
    NOT_YOUR_REMINDER,
    may_change_digest,
    not_in_channel,
    owns_reminder,
)
from bot.features.reminders.handlers import COMMAND as REMIND_COMMAND
from bot.features.reminders.handlers import MAX_REMINDERS_PER_PERSON
from bot.features.resolve import not_in_zoho
from bot.sessions.modules import ModuleId, ModuleRef
from bot.slack import delivery
from bot.slack.channels import Membership, membership
from bot.slack.errors import error_message
from bot.slack.messages import Message, message_view, sentence_message, sentence_view
from bot.slack.text import escape, escape_clip, user_mention
from bot.slack.users import user_zone
from bot.store.records import Digest, Reminder
from bot.store.store import AlreadySubscribed

log = logging.getLogger(__name__)

OLD_FORM = "This form is from an older version of the bot, so nothing was saved; open it again."
ZOHO_CHECK_SECONDS = 1.5
"""How long a submission may wait on Zoho to confirm a module it does not know (3 s in all)."""
OnChange = Callable[[AsyncWebClient, str], Awaitable[None]]


class Refused(Exception):
    """A submission that cannot be saved: field errors, or a sentence for the whole form."""

    def __init__(self, errors: FieldErrors | None = None, sentence: str = "") -> None:
        super().__init__(sentence or str(errors))
        self.errors = errors or {}
        self.sentence = sentence


class Submissions:
    def __init__(self, deps: Deps, on_change: OnChange) -> None:
        self._deps = deps
        self._on_change = on_change

    def register(self, app: AsyncApp) -> None:
        app.view(FormCallback.REMINDER.value)(self.on_reminder)
        app.view(FormCallback.DIGEST.value)(self.on_digest)

    async def on_reminder(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await self._submit(ack, body, client, Kind.REMINDER)

    async def on_digest(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await self._submit(ack, body, client, Kind.DIGEST)

    async def _submit(self, ack: Any, body: dict[str, Any], client: AsyncWebClient, kind: Kind) -> None:
        user = body["user"]["id"]
        view = body["view"]
        try:
            ref = decode_form(view.get("private_metadata"))
            if ref.kind is not kind:
                raise ValueError(f"a {ref.kind.name} form submitted as a {kind.name} one")
        except ValueError as exc:
            log.info("undecodable form from %s: %s", user, exc)
            await ack(response_action="update", view=sentence_view(OLD_FORM))
            return
        values = (view.get("state") or {}).get("values")
        try:
            if kind is Kind.REMINDER:
                confirmation = await self._save_reminder(client, user, ref, values)
            else:
                confirmation = await self._save_digest(client, user, ref, values)
        except Refused as refused:
            log.info("%s form of %s refused: %s", kind.name.lower(), user, refused)
            if refused.sentence:
                await ack(response_action="update", view=sentence_view(refused.sentence))
            else:
                await ack(response_action="errors", errors=refused.errors)
            return
        except Exception as error:  # the person gets a sentence in the modal, never a spinner
            message = error_message(error, user)
            await ack(response_action="update", view=message_view(message))
            return
        await ack()
        await self._confirm(client, user, ref.channel, confirmation)
        await self._on_change(client, user)

    # ------------------------------------------------------------------ reminders

    async def _save_reminder(self, client: AsyncWebClient, user: str, ref: FormRef, values: Any) -> Message:
        existing = await self._deps.store.reminder(ref.subscription) if ref.subscription else None
        if ref.subscription and not owns_reminder(existing, user):
            raise Refused(sentence=NOT_YOUR_REMINDER)
        one_session = existing is not None and bool(existing.session_id)
        form = read_reminder(values, with_module=not one_session)
        if not isinstance(form, ReminderForm):
            raise Refused(form)
        module = existing.module if existing is not None and form.module is None else None
        module = module or self._module(form.module, existing.module if existing else None)
        await self._reminder_refusal(user, module, existing)
        if existing is not None:
            try:
                saved = await self._deps.store.update_reminder(existing.id, user, module, form.lead)
            except AlreadySubscribed as exc:
                raise Refused({Field.MODULE: _already(module, "You already have a reminder of")}) from exc
            if saved is None:
                raise Refused(sentence=NOT_YOUR_REMINDER)
            log.info("reminder %s changed by %s: %s, %s before", saved.id, user, module.key, form.lead)
            return _reminder_saved(saved, "Changed your reminder")
        saved = await self._deps.store.save_reminder(user, module, form.lead, self._deps.clock.now())
        log.info("reminders of %s for %s, %s before (form)", module.key, user, form.lead)
        return _reminder_saved(saved, "Saved")

    async def _reminder_refusal(self, user: str, module: ModuleRef, existing: Reminder | None) -> None:
        mine = await self._deps.store.reminders(user_id=user)
        replaces = existing is not None or any(r.module.id == module.id and not r.session_id for r in mine)
        if len(mine) >= MAX_REMINDERS_PER_PERSON and not replaces:
            raise Refused(
                {Field.MODULE: f"You already have {MAX_REMINDERS_PER_PERSON} reminders; stop one first."}
            )
        if existing is not None and existing.module.id == module.id:
            return
        await self._zoho_knows(module, REMIND_COMMAND)

    # ------------------------------------------------------------------ digests

    async def _save_digest(self, client: AsyncWebClient, user: str, ref: FormRef, values: Any) -> Message:
        existing = await self._deps.store.digest(ref.subscription) if ref.subscription else None
        if ref.subscription:
            if existing is None:
                raise Refused(sentence=DIGEST_GONE)
            if not await may_change_digest(client, existing, user):
                raise Refused(sentence=not_in_channel(existing))
        form = read_digest(values)
        if not isinstance(form, DigestForm):
            raise Refused(form)
        await self._may_post_for(client, user, form.channel)
        modules = [self._module(m, existing.module if existing else None) for m in form.modules]
        await self._digest_refusal(form.channel, modules, existing)
        zone = (await user_zone(client, user, self._deps.zoho_zone)).key
        kept = _kept(existing, modules)
        planned = [Digest(0, form.channel, m, form.at, form.weekdays, zone, user) for m in modules]
        await self._announce(client, user, form.channel, planned, edited=existing is not None)
        now = self._deps.clock.now()
        for module in modules:
            if existing is not None and module is kept:
                changed = await self._deps.store.update_digest(
                    existing.id, form.channel, module, form.at, form.weekdays, zone
                )
                log.info("digest %s changed by %s: %s in %s", existing.id, user, module.key, form.channel)
                if changed is None:
                    raise Refused(sentence=DIGEST_GONE)
                continue
            await self._deps.store.save_digest(form.channel, module, form.at, form.weekdays, zone, user, now)
            log.info("digest of %s subscribed in %s by %s (form)", module.key, form.channel, user)
        await self._deps.store.pause_channel_digests(form.channel, None)  # the bot can post there
        names = ", ".join(f"*{escape_clip(m.title, 100)}*" for m in modules)
        return sentence_message(
            f"Done. <#{form.channel}> gets a digest of {names} at {form.at:%H:%M} ({escape(zone)}), "
            f"{commands.describe_weekdays(form.weekdays)}.",
            ":white_check_mark:",
        )

    async def _may_post_for(self, client: AsyncWebClient, user: str, channel: str) -> None:
        """The person must be in the channel, and the bot able to see it (a private channel only
        when it was invited)."""
        found = await membership(client, channel, user)
        if found is Membership.HIDDEN:
            raise Refused(
                {
                    Field.CHANNEL: "That's a private channel I'm not in. Invite me there with "
                    "/invite @Sessions, then save again."
                }
            )
        if found is Membership.NOT_MEMBER:
            raise Refused({Field.CHANNEL: "You're not in that channel: choose one you're in."})
        if found is Membership.UNKNOWN:
            raise Refused({Field.CHANNEL: "Slack couldn't tell me who is in that channel; try again."})

    async def _digest_refusal(self, channel: str, modules: list[ModuleRef], existing: Digest | None) -> None:
        there = await self._deps.store.digests(channel_id=channel)
        others = {d.module.id for d in there if existing is None or d.id != existing.id}
        if existing is not None:
            kept = _kept(existing, modules)
            if kept.id in others:
                raise Refused({Field.MODULE: _already(kept, "That channel already has a digest of")})
        added = [m for m in modules if m.id not in others]
        if len(others) + len(added) > MAX_DIGESTS_PER_CHANNEL:
            raise Refused(
                {Field.MODULE: f"That channel has digests of {MAX_DIGESTS_PER_CHANNEL} modules, the most."}
            )
        for module in modules:
            if existing is None or module.id != existing.module.id:
                await self._zoho_knows(module, DIGEST_COMMAND)

    async def _announce(
        self, client: AsyncWebClient, user: str, channel: str, planned: list[Digest], edited: bool
    ) -> None:
        """Tell the channel who set up or changed its digest; a refusal is the channel's field error."""
        lines = "; ".join(digest_line(d) for d in planned)
        if edited:
            text = f"{user_mention(user)} changed this channel's daily digest: {lines}."
        elif len(planned) == 1:
            text = confirmation_text(user, planned[0])
        else:
            text = f"{user_mention(user)} subscribed this channel to daily digests: {lines}."
        try:
            await delivery.post(client, channel, sentence_message(text, ""))
        except delivery.DeliveryError as exc:
            log.info("digest form for %s by %s: cannot post (%s)", channel, user, exc.reason)
            error = (
                html.unescape(sentence_message(INVITE)["text"])
                if exc.permanent
                else (f"Slack refused to post there ({exc.reason}); try again.")
            )
            raise Refused({Field.CHANNEL: error}) from exc

    # ------------------------------------------------------------------ shared

    def _module(self, module: ModuleId | None, existing: ModuleRef | None) -> ModuleRef:
        """The chosen module with its names: the catalog's, the subscription's, or bare ids."""
        if module is None:
            raise Refused({Field.MODULE: "Choose a module: type a few letters of its name."})
        known = self._deps.catalog.module(module)
        if known is not None:
            return known
        return existing if existing is not None and existing.id == module else ModuleRef.named(module, "")

    async def _zoho_knows(self, module: ModuleRef, command: str) -> None:
        deadline = self._deps.clock.time() + ZOHO_CHECK_SECONDS
        refusal = await not_in_zoho(self._deps, module, command, deadline)
        if refusal is not None:
            raise Refused({Field.MODULE: html.unescape(refusal["text"])})

    async def _confirm(self, client: AsyncWebClient, user: str, channel: str, message: Message) -> None:
        """Ephemeral in the conversation the form was opened from, else (or when that fails) a DM."""
        if channel:
            try:
                await delivery.post_ephemeral(client, channel, user, message)
                return
            except delivery.DeliveryError as exc:
                log.info("ephemeral confirmation to %s in %s failed: %s", user, channel, exc.reason)
        try:
            await delivery.post(client, user, message)
        except delivery.DeliveryError as exc:
            log.info("confirmation DM to %s failed: %s", user, exc.reason)


def _kept(existing: Digest | None, modules: list[ModuleRef]) -> ModuleRef:
    """Which chosen module the edited digest row keeps: its own when still chosen, else the first."""
    if existing is not None:
        same = next((m for m in modules if m.id == existing.module.id), None)
        if same is not None:
            return same
    return modules[0]


def _already(module: ModuleRef, start: str) -> str:
    return f"{start} {module.title[:100]}; edit that one instead."


def _reminder_saved(reminder: Reminder, start: str) -> Message:
    what = "one session" if reminder.session_id else "every session"
    return sentence_message(
        f"{start}: a direct message {commands.describe_lead(reminder.lead)} before {what} of "
        f"*{escape_clip(reminder.module.title, 100)}*.",
        ":white_check_mark:",
    )
