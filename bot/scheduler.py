"""The tick loop: exactly one leader at a time sends what is due, each send claimed first.

Every tick (30 s) the instance that holds the lease in the store asks the pure
`due` functions what is due at `now`, refreshes only the Zoho data those sends
need, claims each send under its unique key, posts it, and records the outcome.
A crash or a second instance can therefore never send twice; a passing failure
leaves the send open for a later tick, a permanent refusal pauses the
subscription with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.features.digests.due import DIGEST_DAYS, DueDigest, due_digests
from bot.features.digests.render import digest_messages
from bot.features.reminders.due import (
    TRAINER_LEAD,
    DueReminder,
    due_reminders,
    due_trainer_reminders,
    reminder_due_at,
    trainers_soon,
)
from bot.features.reminders.render import reminder_message
from bot.features.reminders.trainers import TrainerDirectory
from bot.sessions.matching import ModuleRef, parse_triplet
from bot.sessions.model import Session
from bot.sessions.service import Listing, SessionService
from bot.sessions.windows import Window
from bot.slack import delivery
from bot.store.records import Digest, Reminder
from bot.store.store import Store
from bot.zoho.budget import Priority
from bot.zoho.client import Call

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0
LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=90)
"""A crashed leader's lease lapses after this; another instance takes over."""
ABANDONED_CLAIM = timedelta(minutes=10)
PARTIAL_AFTER = timedelta(minutes=30)
"""A digest waits this long for a module Zoho has no data for, then goes out without it."""
KEEP_SENDS = timedelta(days=14)
"""Send records older than this can never be claimed again; housekeeping deletes them daily."""
IDLE_REFRESH_SECONDS = 3600.0
"""Reminder modules with nothing starting soon are re-read hourly, to see new or moved sessions."""
SOON = timedelta(minutes=30)
"""Data is kept within the cache TTL from this long before a reminder is due."""
MAX_ATTEMPTS = 5
REFRESH_SECONDS = 60.0


Followed = tuple[str, set[timedelta]]
"""A followed module's name, and the lead times of its reminders."""


@dataclass
class TickReport:
    leader: bool = False
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        store: Store,
        sessions: SessionService,
        slack: AsyncWebClient,
        clock: Clock,
        zoho_zone: ZoneInfo,
        catch_up: timedelta,
        trainers: TrainerDirectory | None = None,
        holder: str | None = None,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._slack = slack
        self._clock = clock
        self._zone = zoho_zone
        self._catch_up = catch_up
        self._trainers = trainers
        self.holder = holder or f"scheduler-{uuid.uuid4().hex[:12]}"
        self._swept_at: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set; one failed tick never stops the loop."""
        try:
            while not stop.is_set():
                started = self._clock.time()
                try:
                    await self.tick()
                except Exception:
                    log.exception("scheduler tick failed")
                pause = max(1.0, TICK_SECONDS - (self._clock.time() - started))
                sleeper = asyncio.ensure_future(self._clock.sleep(pause))
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
                for task in (sleeper, stopper):
                    task.cancel()
        finally:
            with contextlib.suppress(Exception):
                await self._store.release_lease(LEASE_NAME, self.holder)

    async def tick(self) -> TickReport:
        now = self._clock.now()
        report = TickReport()
        if not await self._store.hold_lease(LEASE_NAME, self.holder, now, LEASE_TTL):
            return report
        report.leader = True
        await self._housekeeping(now)
        digests = await self._store.digests()
        reminders = await self._store.reminders()
        due, missed = due_digests(digests, now, self._catch_up)
        # Settled sends are left out before any write: a digest past its catch-up window or a
        # reminder already sent stays "due" for hours, and a failing INSERT every tick is costly.
        settled = await self._store.finished(entry.key for entry in due + missed)
        for entry in missed:
            if entry.key in settled:
                continue
            if await self._store.record_skip(
                entry.key,
                "digest",
                entry.channel_id,
                entry.scheduled,
                self.holder,
                now,
                "missed: bot was down",
            ):
                log.warning("digest %s skipped: its time passed more than %s ago", entry.key, self._catch_up)
                report.skipped.append(entry.key)
        due = [entry for entry in due if entry.key not in settled]
        await self._refresh(due, digests, reminders, now)
        for entry in due:
            await self._send_digest(entry, now, report)
        reminders_due = await self._reminders_due(digests, reminders, now)
        settled = await self._store.finished(entry.key for entry in reminders_due)
        for reminder in reminders_due:
            if reminder.key not in settled:
                await self._send_reminder(reminder, now, report)
        return report

    async def _housekeeping(self, now: datetime) -> None:
        """Once a day, forget sends too old to matter, so the table does not grow forever."""
        if self._swept_at is not None and now - self._swept_at < timedelta(days=1):
            return
        removed = await self._store.forget_sends_before(now - KEEP_SENDS)
        self._swept_at = now
        if removed:
            log.info("forgot %d sends older than %s", removed, KEEP_SENDS)

    async def _refresh(
        self, due: list[DueDigest], digests: list[Digest], reminders: list[Reminder], now: datetime
    ) -> None:
        """Re-read from Zoho only what the sends need: due digests' modules, and reminder modules
        whose data is older than the cache TTL with a session soon, or older than an hour."""
        wanted: dict[str, ModuleRef] = {}
        for entry in due:
            for digest in entry.digests:
                module = _module(digest.module_key, digest.module_name)
                if not self._sessions.is_fresh(module):
                    wanted[module.key] = module
        for key, (name, leads) in self._followed(digests, reminders).items():
            module = _module(key, name)
            age = self._sessions.age(module)
            stale = age is not None and age >= self._sessions.ttl
            if (
                age is None
                or age >= IDLE_REFRESH_SECONDS
                or (stale and self._reminder_soon(module, now, leads))
            ):
                wanted[module.key] = module
        if wanted:
            call = Call(Priority.BACKGROUND, self._clock.time() + REFRESH_SECONDS)
            await self._sessions.refresh(list(wanted.values()), call)

    def _followed(
        self, digests: list[Digest], reminders: list[Reminder]
    ) -> dict[str, tuple[str, set[timedelta]]]:
        """Modules whose sessions may need a reminder, with every lead time asked for each."""
        followed: dict[str, Followed] = {}
        for reminder in reminders:
            if not reminder.paused_reason:
                followed.setdefault(reminder.module_key, (reminder.module_name, set()))[1].add(reminder.lead)
        if self._trainers is not None:
            for digest in digests:
                followed.setdefault(digest.module_key, (digest.module_name, set()))[1].add(TRAINER_LEAD)
        return followed

    def _reminder_soon(self, module: ModuleRef, now: datetime, leads: set[timedelta]) -> bool:
        """Whether a reminder of this module falls due within SOON, so its data should be fresh."""
        horizon = now + SOON
        listing = self._sessions.cached_listing(module, now, Window("soon", now, horizon + max(leads)))
        return bool(listing) and any(
            session.start is not None and now <= reminder_due_at(session.start, lead) <= horizon
            for session in listing.sessions
            for lead in leads
        )

    async def digest_now(self, channel_id: str) -> list[dict[str, object]]:
        """The channel's digest as it would be posted now (operator's `python -m bot digest`)."""
        now = self._clock.now()
        digests = await self._store.digests(channel_id=channel_id)
        if not digests:
            return []
        zone = ZoneInfo(digests[0].zone)
        entry = DueDigest(channel_id, now.astimezone(zone).date(), now, zone, tuple(digests))
        modules = [_module(d.module_key, d.module_name) for d in digests]
        await self._sessions.refresh(
            modules, Call(Priority.INTERACTIVE, self._clock.time() + REFRESH_SECONDS)
        )
        return digest_messages(self._digest_listings(entry, now), entry.days(), zone)

    def _digest_window(self, entry: DueDigest, now: datetime) -> Window:
        end = datetime.combine(
            entry.local_date + timedelta(days=DIGEST_DAYS), datetime.min.time(), tzinfo=entry.zone
        )
        return Window("this week", now, end)

    async def _send_digest(self, entry: DueDigest, now: datetime, report: TickReport) -> None:
        listings = self._digest_listings(entry, now)
        if not listings or (len(listings) < len(entry.digests) and now - entry.scheduled < PARTIAL_AFTER):
            log.info(
                "digest %s waits for Zoho data of %d module(s)", entry.key, len(entry.digests) - len(listings)
            )
            return
        messages = digest_messages(listings, entry.days(), entry.zone)
        if not messages:
            await self._store.record_skip(
                entry.key, "digest", entry.channel_id, entry.scheduled, self.holder, now, "nothing upcoming"
            )
            report.skipped.append(entry.key)
            return
        if not await self._store.claim(
            entry.key, "digest", entry.channel_id, entry.scheduled, self.holder, now, ABANDONED_CLAIM
        ):
            return
        try:
            for number, message in enumerate(messages, start=1):
                await self._post_part(entry, number, message, now)
        except delivery.DeliveryError as exc:
            await self._failed(entry.key, exc, report)
            if exc.permanent:
                await self._store.pause_channel_digests(entry.channel_id, exc.pause_reason)
            return
        await self._store.finish(entry.key, "sent")
        report.sent.append(entry.key)
        log.info("digest %s sent (%d message(s))", entry.key, len(messages))

    async def _post_part(
        self, entry: DueDigest, number: int, message: dict[str, object], now: datetime
    ) -> None:
        """Each part of a long digest is claimed on its own, so a retry never repeats a posted part."""
        key = f"{entry.key}#part{number}"
        if not await self._store.claim(
            key, "digest-part", entry.channel_id, entry.scheduled, self.holder, now, ABANDONED_CLAIM
        ):
            return
        try:
            await delivery.post(self._slack, entry.channel_id, message)
        except delivery.DeliveryError as exc:
            await self._store.finish(key, "retry", exc.reason)
            raise
        await self._store.finish(key, "sent")

    def _digest_listings(self, entry: DueDigest, now: datetime) -> list[Listing]:
        """The cached listings of the digest's modules that Zoho has given data for."""
        window = self._digest_window(entry, now)
        listings = [
            self._sessions.cached_listing(_module(d.module_key, d.module_name), now, window)
            for d in entry.digests
        ]
        return [listing for listing in listings if listing is not None]

    async def _reminders_due(
        self, digests: list[Digest], reminders: list[Reminder], now: datetime
    ) -> list[DueReminder]:
        followed = self._followed(digests, reminders)
        names = {key: name for key, (name, _) in followed.items()}
        sessions = self._sessions_of(names, now)
        due = due_reminders(reminders, sessions, now)
        if self._trainers is not None:
            users = await self._trainers.slack_users(
                trainers_soon(sessions, now), now.astimezone(self._zone).date()
            )
            due += due_trainer_reminders(sessions, names, users, now)
        earliest: dict[str, DueReminder] = {}
        for entry in due:
            if entry.key not in earliest or entry.due_at < earliest[entry.key].due_at:
                earliest[entry.key] = entry
        return list(earliest.values())

    def _sessions_of(self, modules: dict[str, str], now: datetime) -> dict[str, list[Session]]:
        window = Window("reminders", now, now + timedelta(days=8))
        found: dict[str, list[Session]] = {}
        for key, name in modules.items():
            listing = self._sessions.cached_listing(_module(key, name), now, window)
            if listing is not None:
                found[key] = list(listing.sessions)
        return found

    async def _send_reminder(self, entry: DueReminder, now: datetime, report: TickReport) -> None:
        if not await self._store.claim(
            entry.key, "reminder", entry.user_id, entry.due_at, self.holder, now, ABANDONED_CLAIM
        ):
            return
        try:
            await delivery.post(self._slack, entry.user_id, reminder_message(entry, self._zone))
        except delivery.DeliveryError as exc:
            await self._failed(entry.key, exc, report)
            if exc.permanent and not entry.for_trainer:
                await self._store.pause_user_reminders(entry.user_id, exc.pause_reason)
            return
        await self._store.finish(entry.key, "sent")
        report.sent.append(entry.key)
        log.info("reminder %s sent", entry.key)

    async def _failed(self, key: str, exc: delivery.DeliveryError, report: TickReport) -> None:
        give_up = exc.permanent or await self._store.attempts(key) >= MAX_ATTEMPTS
        await self._store.finish(key, "failed" if give_up else "retry", exc.reason)
        report.failed.append(key)
        log.warning("send %s %s: %s", key, "failed" if give_up else "will be retried", exc.reason)


def _module(key: str, name: str) -> ModuleRef:
    module = parse_triplet(key)
    if module is None:
        raise ValueError(f"not a module key: {key!r}")
    return ModuleRef(module.course_id, module.batch_id, module.module_id, name)
