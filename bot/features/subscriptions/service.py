"""Every rule of adding, editing, pausing, resuming and stopping reminders and digests, in one place.

The typed commands, the forms, App Home's and `digest list`'s buttons all come
here; each only turns what the person did into a call and a `Refused` into its
own kind of answer (a sentence, or an error at a form's field). Who may change
what, the limits (checked by the database in the statement that saves), whether
Zoho knows a module, whether the channel can take the digest (asked of Slack
without posting), and what the channel is told (after the save, so a refused
save never leaves an announcement for nothing) are decided here.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from enum import Enum

from slack_sdk.web.async_client import AsyncWebClient

from bot.features.deps import Deps
from bot.features.resolve import not_in_zoho
from bot.features.subscriptions import render
from bot.features.subscriptions.rights import may_change_digest, owns_reminder
from bot.sessions.modules import ModuleId, ModuleRef
from bot.slack import delivery
from bot.slack.channels import Membership, membership, postable
from bot.slack.errors import NOT_THE_CHANNELS
from bot.slack.messages import sentence_message
from bot.slack.users import user_zone
from bot.store.errors import AlreadySubscribed, LimitReached
from bot.store.records import Digest, Reminder, Schedule

log = logging.getLogger(__name__)

OnChange = Callable[[AsyncWebClient, str], Awaitable[None]]
"""What a way in does after a change a person made: republish their App Home."""
DIGEST_COMMAND = "/sessions digest"
REMIND_COMMAND = "/sessions remind"


class Where(Enum):
    """What a refusal is about, so a form can show it at that field."""

    MODULE = "module"
    CHANNEL = "channel"
    WHOLE = "whole"


class Refused(Exception):
    """Nothing was changed: `sentence` (mrkdwn) says why; `short` is the same for a form's field."""

    def __init__(self, sentence: str, where: Where = Where.WHOLE, short: str = "") -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.where = where
        self.short = short or html.unescape(sentence)


@dataclass(frozen=True)
class DigestPlan:
    """A channel's digest as a person asked for it: of these modules, at this time on these days."""

    channel: str
    modules: Sequence[ModuleRef]
    at: time
    weekdays: frozenset[int]


class Subscriptions:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    # ------------------------------------------------------------------ digests

    async def digest_to_change(
        self, client: AsyncWebClient, user: str, digest_id: int, here: str = ""
    ) -> Digest:
        """The digest, if `user` may edit or stop it: its creator, or anyone in its channel
        (`here`: the conversation the person acts from, evidently theirs)."""
        digest = await self._deps.store.digest(digest_id)
        if digest is None:
            raise Refused(render.DIGEST_GONE)
        if not await may_change_digest(client, digest, user, here):
            raise Refused(render.not_in_channel(digest))
        return digest

    async def save_digests(
        self,
        client: AsyncWebClient,
        user: str,
        plan: DigestPlan,
        here: str = "",
        existing: Digest | None = None,
        zoho_deadline: float | None = None,
    ) -> list[Digest]:
        """Subscribe `plan.channel` to each module, or change the digest `existing` (as
        `digest_to_change` gave it) to the plan; `here` is the conversation the person asks from
        (no need to ask Slack whether they are in it)."""
        if plan.channel != here:
            await self._person_is_in(client, plan.channel, user)
        await self._bot_may_post(client, user, plan.channel, here)
        for module in plan.modules:
            if existing is None or module.id != existing.module.id:
                await self._zoho_knows(module, DIGEST_COMMAND, zoho_deadline)
        zone = (await user_zone(client, user, self._deps.zoho_zone)).key
        saved, added = await self._save_digests(user, plan, zone, existing)
        try:
            await delivery.post(
                client,
                plan.channel,
                sentence_message(render.digest_announcement(user, saved, existing is not None), ""),
            )
        except delivery.DeliveryError as exc:
            # Slack refused what conversations.info could not foresee: the save is undone, so a
            # digest is never kept for a channel that was not told of it.
            await self._undo(added, existing)
            log.info(
                "digest in %s by %s undone: the channel refused the announcement (%s)",
                plan.channel,
                user,
                exc.reason,
            )
            raise _channel_refusal(exc) from exc
        await self._deps.store.resume_channel_digests(plan.channel, except_for=NOT_THE_CHANNELS)
        log.info(
            "digest %s of %s in %s by %s",
            "changed" if existing else "subscribed",
            ",".join(d.module.key for d in saved),
            plan.channel,
            user,
        )
        return saved

    async def _save_digests(
        self, user: str, plan: DigestPlan, zone: str, existing: Digest | None
    ) -> tuple[list[Digest], list[Digest]]:
        """(every digest of the plan as saved, those newly added). New modules are added first,
        all or none within the channel's limit; the edited digest changes after, and when that is
        refused the additions are taken back: a refusal changes nothing."""
        store, limit = self._deps.store, render.MAX_DIGESTS_PER_CHANNEL
        kept = _kept(existing, plan.modules)
        added: list[Digest] = []
        try:
            modules = [m for m in plan.modules if existing is None or m is not kept]
            if modules:
                schedule = Schedule(plan.at, plan.weekdays, zone)
                added = await store.save_digests(
                    plan.channel, modules, schedule, user, self._deps.clock.now(), limit
                )
            if existing is None:
                return added, added
            changed = await store.update_digest(
                existing.id, plan.channel, kept, plan.at, plan.weekdays, zone, limit
            )
            if changed is None:
                raise Refused(render.DIGEST_GONE)
        except AlreadySubscribed as exc:
            await self._undo(added, None)
            text = render.already(kept.title, "That channel already has a digest of")
            raise Refused(text, Where.MODULE) from exc
        except LimitReached as exc:
            await self._undo(added, None)
            where = (
                Where.CHANNEL
                if existing is not None and existing.channel_id != plan.channel
                else Where.MODULE
            )
            raise Refused(render.DIGESTS_FULL, where, render.DIGESTS_FULL_FIELD) from exc
        except Refused:
            await self._undo(added, None)
            raise
        return [changed, *added], added

    async def _undo(self, added: Sequence[Digest], existing: Digest | None) -> None:
        """Take back a save: remove what it added, put an edited digest back as it was."""
        for digest in added:
            await self._deps.store.remove_digest_by_id(digest.id)
        if existing is not None:
            old = existing
            await self._deps.store.update_digest(
                old.id, old.channel_id, old.module, old.at, old.weekdays, old.zone
            )
            if old.paused_reason:
                await self._deps.store.pause_digest(old.id, old.paused_reason)

    async def stop_digest(self, client: AsyncWebClient, user: str, digest_id: int) -> Digest:
        """Stop one digest, checked as `digest_to_change` does."""
        digest = await self.digest_to_change(client, user, digest_id)
        await self._stop(client, user, [digest])
        return digest

    async def stop_digests(
        self, client: AsyncWebClient, user: str, digests: Sequence[Digest], here: str = ""
    ) -> list[Digest]:
        """Stop these digests, each checked as `digest_to_change` does; returns those stopped."""
        for digest in digests:
            if not await may_change_digest(client, digest, user, here):
                raise Refused(render.not_in_channel(digest))
        return await self._stop(client, user, digests)

    async def _stop(self, client: AsyncWebClient, user: str, digests: Sequence[Digest]) -> list[Digest]:
        """The channel is told when someone other than a digest's creator stopped it."""
        stopped = []
        for digest in digests:
            if await self._deps.store.remove_digest_by_id(digest.id):
                stopped.append(digest)
                log.info(
                    "digest %s of %s in %s stopped by %s",
                    digest.id,
                    digest.module.key,
                    digest.channel_id,
                    user,
                )
                if user != digest.created_by:
                    await self._announce(
                        client, digest.channel_id, render.digest_stopped_announcement(user, digest)
                    )
        if not stopped:
            raise Refused(render.DIGEST_GONE)
        return stopped

    async def _person_is_in(self, client: AsyncWebClient, channel: str, user: str) -> None:
        found = await membership(client, channel, user)
        if found is Membership.HIDDEN:
            raise Refused(render.INVITE, Where.CHANNEL, render.INVITE_FIELD)
        if found is Membership.NOT_MEMBER:
            raise Refused(render.NOT_A_MEMBER, Where.CHANNEL)
        if found is Membership.UNKNOWN:
            raise Refused(render.MEMBERS_UNKNOWN, Where.CHANNEL)

    async def _bot_may_post(self, client: AsyncWebClient, user: str, channel: str, here: str) -> None:
        """Asked of Slack without posting, so nothing is said in the channel before the save."""
        answer = await postable(client, channel, user if channel == here else "")
        if answer.refusal is not None:
            raise _channel_refusal(answer.refusal)

    async def _announce(self, client: AsyncWebClient, channel: str, text: str) -> None:
        """Told that someone stopped its digest; a refusal is logged (the digest is gone)."""
        try:
            await delivery.post(client, channel, sentence_message(text, ""))
        except delivery.DeliveryError as exc:
            log.info("could not tell %s of its digest's change: %s", channel, exc.reason)

    # ------------------------------------------------------------------ reminders

    async def reminder_to_change(self, user: str, reminder_id: int) -> Reminder:
        reminder = await self._deps.store.reminder(reminder_id)
        if reminder is None or not owns_reminder(reminder, user):
            raise Refused(render.NOT_YOUR_REMINDER)
        return reminder

    async def save_reminder(
        self,
        user: str,
        module: ModuleRef,
        lead: timedelta,
        session_id: str = "",
        existing: Reminder | None = None,
        zoho_deadline: float | None = None,
    ) -> Reminder:
        """A person's reminder of every session of `module` (or of one session), or the reminder
        `existing` (as `reminder_to_change` gave it) changed to this module and lead."""
        if existing is None or existing.module.id != module.id:
            await self._zoho_knows(module, REMIND_COMMAND, zoho_deadline)
        store = self._deps.store
        try:
            if existing is not None:
                saved = await store.update_reminder(existing.id, user, module, lead)
                if saved is None:
                    raise Refused(render.NOT_YOUR_REMINDER)
            else:
                now = self._deps.clock.now()
                saved = await store.save_reminder(
                    user, module, lead, now, session_id, render.MAX_REMINDERS_PER_PERSON
                )
        except AlreadySubscribed as exc:
            raise Refused(
                render.already(module.title, "You already have a reminder of"), Where.MODULE
            ) from exc
        except LimitReached as exc:
            raise Refused(render.REMINDERS_FULL, Where.MODULE, render.REMINDERS_FULL_FIELD) from exc
        log.info("reminder %s of %s for %s, %s before", saved.id, module.key, user, lead)
        return saved

    async def stop_reminder(self, user: str, reminder_id: int) -> Reminder:
        """Stop one reminder, if it is the person's; returns it as it was."""
        reminder = await self.reminder_to_change(user, reminder_id)
        await self._deps.store.remove_reminders(user, reminder_id=reminder.id)
        log.info("reminder %s of %s stopped", reminder.id, user)
        return reminder

    async def stop_reminders(self, user: str, modules: Sequence[ModuleId] | None = None) -> int:
        """Stop a person's reminders of `modules`, or all of them."""
        store = self._deps.store
        if modules is None:
            count = await store.remove_reminders(user)
        else:
            count = sum([await store.remove_reminders(user, module=module) for module in modules])
        log.info("%d reminder(s) of %s stopped", count, user)
        return count

    # ------------------------------------------------------------------ shared

    async def _zoho_knows(self, module: ModuleRef, command: str, deadline: float | None) -> None:
        refusal = await not_in_zoho(self._deps, module, command, deadline)
        if refusal is not None:
            raise Refused(refusal["text"], Where.MODULE)


def _channel_refusal(refusal: delivery.DeliveryError) -> Refused:
    """What a person is told when the channel cannot take the digest (it is asked about before the
    save; a refusal Slack gives only when posting undoes the save)."""
    if refusal.reason == "is_archived":
        return Refused(render.ARCHIVED, Where.CHANNEL)
    if refusal.permanent:
        return Refused(render.INVITE, Where.CHANNEL, render.INVITE_FIELD)
    return Refused(render.cannot_post(refusal.reason), Where.CHANNEL)


def _kept(existing: Digest | None, modules: Sequence[ModuleRef]) -> ModuleRef:
    """Which chosen module the edited digest row keeps: its own when still chosen, else the first."""
    if existing is not None:
        same = next((m for m in modules if m.id == existing.module.id), None)
        if same is not None:
            return same
    return modules[0]
