"""Turning due reminders into DMs: which modules to watch, trainers, the earliest-lead rule, pausing.

A reminder is sent from the cached sessions of the modules people follow; this
module also tells the refresh planner which of those modules a reminder soon
needs fresh (`needed`) and which are followed at all (`followed`). A person
who refuses DMs for good has their reminders paused; a trainer's refusal
pauses nothing, since they never subscribed. Reminders of a module Zoho no
longer has (a read answered 404) are paused with that reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.features.outbox import Outbox, Parcel, SendReport
from bot.features.reminders.due import (
    TRAINER_LEAD,
    DueReminder,
    due_reminders,
    due_trainer_reminders,
    earliest,
    reminder_due_at,
    trainers_soon,
)
from bot.features.reminders.render import reminder_message
from bot.features.reminders.trainers import TrainerDirectory
from bot.sessions.model import Session
from bot.sessions.modules import ModuleId, ModuleRef
from bot.sessions.orgtime import OrgTime
from bot.sessions.service import SessionService
from bot.sessions.windows import Window
from bot.slack.delivery import DeliveryError
from bot.slack.errors import MODULE_GONE_PAUSE
from bot.store.records import Digest, Reminder
from bot.store.scoped import TenantStore

log = logging.getLogger(__name__)

SOON = timedelta(minutes=30)
"""Data is kept fresh from this long before a reminder is due."""
HORIZON = timedelta(days=8)
"""How far ahead sessions are looked at: past the longest lead a person may choose (7 days)."""


@dataclass
class Followed:
    """A module whose sessions may need a reminder, with every lead time asked of it."""

    module: ModuleRef
    leads: set[timedelta] = field(default_factory=set)


class ReminderSender:
    def __init__(
        self,
        store: TenantStore,
        sessions: SessionService,
        outbox: Outbox,
        orgtime: OrgTime,
        trainers: TrainerDirectory | None,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._outbox = outbox
        self._orgtime = orgtime
        self._trainers = trainers

    def needed(self, digests: list[Digest], reminders: list[Reminder], now: datetime) -> list[ModuleRef]:
        """Modules with a reminder falling due within `SOON`: their data must be fresh. (A module
        never read is followed, and the planner reads those first among the followed.)"""
        return [
            followed.module
            for followed in self._followed(digests, reminders).values()
            if self._reminder_soon(followed, now)
        ]

    def followed(self, digests: list[Digest], reminders: list[Reminder]) -> list[ModuleRef]:
        return [followed.module for followed in self._followed(digests, reminders).values()]

    async def send_due(
        self, digests: list[Digest], reminders: list[Reminder], now: datetime, report: SendReport
    ) -> None:
        due = await self._due(digests, await self._pause_gone(reminders), now)
        settled = await self._outbox.settled(entry.key for entry in due)
        for entry in due:
            if entry.key not in settled:
                await self._send(entry, now, report)

    async def _pause_gone(self, reminders: list[Reminder]) -> list[Reminder]:
        """Pause the reminders of modules Zoho no longer has; returns `reminders` as they now are."""
        gone = {r.module.id for r in reminders if not r.paused_reason and self._sessions.gone(r.module)}
        for module in gone:
            paused = await self._store.pause_module_reminders(module, MODULE_GONE_PAUSE)
            log.warning("%d reminder(s) of %s paused: Zoho no longer has the module", paused, module.key)
        return [replace(r, paused_reason=MODULE_GONE_PAUSE) if r.module.id in gone else r for r in reminders]

    def _followed(self, digests: list[Digest], reminders: list[Reminder]) -> dict[ModuleId, Followed]:
        """Reminded modules, and with trainers' reminders on, every module a digest follows too."""
        followed: dict[ModuleId, Followed] = {}
        for reminder in reminders:
            if not reminder.paused_reason:
                followed.setdefault(reminder.module.id, Followed(reminder.module)).leads.add(reminder.lead)
        if self._trainers is not None:
            for digest in digests:
                followed.setdefault(digest.module.id, Followed(digest.module)).leads.add(TRAINER_LEAD)
        return followed

    def _reminder_soon(self, followed: Followed, now: datetime) -> bool:
        """Whether a reminder of this module falls due within SOON, so its data should be fresh."""
        horizon = now + SOON
        window = Window("soon", now, horizon + max(followed.leads))
        listing = self._sessions.cached_listing(followed.module, now, window)
        return bool(listing) and any(
            session.start is not None and now <= reminder_due_at(session.start, lead) <= horizon
            for session in listing.sessions
            for lead in followed.leads
        )

    async def _due(
        self, digests: list[Digest], reminders: list[Reminder], now: datetime
    ) -> list[DueReminder]:
        followed = self._followed(digests, reminders)
        sessions = self._cached_sessions(followed, now)
        due = due_reminders(reminders, sessions, now)
        if self._trainers is not None:
            today = now.astimezone(self._orgtime.zone).date()
            users = await self._trainers.slack_users(trainers_soon(sessions, now), today)
            modules = {module: entry.module for module, entry in followed.items()}
            due += due_trainer_reminders(sessions, modules, users, now)
        return earliest(due)

    def _cached_sessions(
        self, followed: dict[ModuleId, Followed], now: datetime
    ) -> dict[ModuleId, list[Session]]:
        window = Window("reminders", now, now + HORIZON)
        found: dict[ModuleId, list[Session]] = {}
        for module, entry in followed.items():
            listing = self._sessions.cached_listing(entry.module, now, window)
            if listing is not None:
                found[module] = list(listing.sessions)
        return found

    async def _send(self, entry: DueReminder, now: datetime, report: SendReport) -> None:
        """A trainer's refusal pauses nothing: they never subscribed."""
        message = reminder_message(entry, self._orgtime.zone)
        pause = None if entry.for_trainer else self._pause
        parcel = Parcel.of("reminder", entry.user_id, entry.due_at, entry.key, [message], pause)
        if await self._outbox.deliver(parcel, now, report):
            log.info("reminder %s sent", entry.key)

    async def _pause(self, user: str, refusal: DeliveryError) -> None:
        """A person who refuses DMs for good has their reminders paused with the reason."""
        await self._store.pause_user_reminders(user, refusal.pause_reason)
