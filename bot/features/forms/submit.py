"""Saving what a form says: a new reminder or digest, or an edit in place, through the
subscriptions service (`bot.features.subscriptions`), which owns every rule.

A field that cannot be read, and each refusal the service gives about a module or a
channel, is answered at its field (`response_action: errors`) within Slack's 3
seconds; a form that is not the person's to save, or that the bot did not write,
gets a sentence in the modal instead. Confirmations go out after the modal has closed.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.features.deps import Deps
from bot.features.forms.ids import Field, FormCallback, FormRef, Kind, decode_form
from bot.features.forms.read import DigestForm, FieldErrors, ReminderForm, read_digest, read_reminder
from bot.features.subscriptions.render import digests_saved, reminder_saved
from bot.features.subscriptions.service import DigestPlan, OnChange, Refused, Subscriptions, Where
from bot.sessions.modules import ModuleId, ModuleRef
from bot.slack import delivery
from bot.slack.errors import error_message
from bot.slack.messages import Message, message_view, sentence_message, sentence_view

log = logging.getLogger(__name__)

OLD_FORM = "This form is from an older version of the bot, so nothing was saved; open it again."
ZOHO_CHECK_SECONDS = 1.5
"""How long a submission may wait on Zoho to confirm a module it does not know (3 s in all)."""
FIELDS = {Where.MODULE: Field.MODULE, Where.CHANNEL: Field.CHANNEL}
CHOOSE_MODULE = "Choose a module: type a few letters of its name."


class Unreadable(Exception):
    """Fields the person must correct before anything is checked."""

    def __init__(self, errors: FieldErrors) -> None:
        super().__init__(str(errors))
        self.errors = errors


class Submissions:
    def __init__(self, deps: Deps, subscriptions: Subscriptions, on_change: OnChange) -> None:
        self._deps = deps
        self._subscriptions = subscriptions
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
                confirmation = await self._save_reminder(user, ref, values)
            else:
                confirmation = await self._save_digest(client, user, ref, values)
        except Unreadable as unreadable:
            await ack(response_action="errors", errors=unreadable.errors)
            return
        except Refused as refused:
            log.info("%s form of %s refused: %s", kind.name.lower(), user, refused.short[:200])
            field = FIELDS.get(refused.where)
            if field is None:
                await ack(response_action="update", view=sentence_view(refused.sentence))
            else:
                await ack(response_action="errors", errors={field: refused.short})
            return
        except Exception as error:  # the person gets a sentence in the modal, never a spinner
            await ack(response_action="update", view=message_view(error_message(error, user)))
            return
        await ack()
        await self._confirm(client, user, ref.channel, confirmation)
        await self._on_change(client, user)

    async def _save_reminder(self, user: str, ref: FormRef, values: Any) -> Message:
        existing = (
            await self._subscriptions.reminder_to_change(user, ref.subscription) if ref.subscription else None
        )
        form = read_reminder(values, with_module=not (existing is not None and existing.session_id))
        if not isinstance(form, ReminderForm):
            raise Unreadable(form)
        if existing is not None and form.module is None:
            module = existing.module
        else:
            module = self._module(form.module, existing.module if existing else None)
        saved = await self._subscriptions.save_reminder(
            user,
            module,
            form.lead,
            existing=existing,
            zoho_deadline=self._zoho_deadline(),
        )
        return sentence_message(
            reminder_saved(saved, "Changed your reminder" if existing else "Saved"), ":white_check_mark:"
        )

    async def _save_digest(self, client: AsyncWebClient, user: str, ref: FormRef, values: Any) -> Message:
        existing = (
            await self._subscriptions.digest_to_change(client, user, ref.subscription)
            if ref.subscription
            else None
        )
        form = read_digest(values)
        if not isinstance(form, DigestForm):
            raise Unreadable(form)
        modules = [self._module(m, existing.module if existing else None) for m in form.modules]
        plan = DigestPlan(form.channel, modules, form.at, form.weekdays)
        saved = await self._subscriptions.save_digests(
            client,
            user,
            plan,
            here=""
            if existing
            else ref.channel,  # an edit's form names the digest's channel, not where the person is
            existing=existing,
            zoho_deadline=self._zoho_deadline(),
        )
        return sentence_message(digests_saved(saved, here=False), ":white_check_mark:")

    def _module(self, module: ModuleId | None, existing: ModuleRef | None) -> ModuleRef:
        """The chosen module with its names: the catalog's, the subscription's, or bare ids."""
        if module is None:
            raise Unreadable({Field.MODULE: CHOOSE_MODULE})
        known = self._deps.catalog.module(module)
        if known is not None:
            return known
        return existing if existing is not None and existing.id == module else ModuleRef.named(module, "")

    def _zoho_deadline(self) -> float:
        return self._deps.clock.time() + ZOHO_CHECK_SECONDS

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
