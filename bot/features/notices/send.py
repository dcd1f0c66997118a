"""Posting change notices: each (target, change) claimed in the store before it is posted.

A target's claimed changes go out as one message; the claims are then settled
together, so a second instance, a crash mid-post or a restart never tells anyone
twice, and a passing Slack refusal leaves them for a later tick (at most
`MAX_ATTEMPTS`). A channel that refuses for good has its digests paused, a person
their reminders, as for digests and reminders themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.features.notices.detect import ChangeDetector
from bot.features.notices.due import DueNotice, due_notices, trainer_erecnos
from bot.features.notices.render import channel_notice, person_notice
from bot.features.outbox import Outbox, Parcel, Pause, SendReport
from bot.features.reminders.trainers import TrainerDirectory
from bot.sessions.orgtime import OrgTime
from bot.slack.delivery import DeliveryError
from bot.slack.messages import Message
from bot.store.records import Digest, Reminder, Slot
from bot.store.scoped import TenantStore

log = logging.getLogger(__name__)

NEWS_FOR = timedelta(hours=2)
"""A change not announced this long after it was found (Slack refusing meanwhile) is no longer news."""


class NoticeSender:
    def __init__(
        self,
        store: TenantStore,
        detector: ChangeDetector,
        outbox: Outbox,
        orgtime: OrgTime,
        trainers: TrainerDirectory | None,
    ) -> None:
        self._store = store
        self._detector = detector
        self._outbox = outbox
        self._orgtime = orgtime
        self._trainers = trainers

    async def send(
        self, digests: list[Digest], reminders: list[Reminder], now: datetime, report: SendReport
    ) -> None:
        """Find what changed in the latest reads, then tell whoever has not been told yet."""
        await self._detector.detect(digests, reminders, now)
        changes = await self._store.watches.changes_since(now - NEWS_FOR)
        if not changes:
            return
        quiet = await self._store.watches.channels_without_notices()
        trainers: dict[str, str] = {}
        if self._trainers is not None:
            erecnos = trainer_erecnos(changes)
            trainers = await self._trainers.slack_users(erecnos, now.astimezone(self._orgtime.zone).date())
        notices = due_notices(changes, digests, reminders, quiet, trainers, now)
        settled = await self._outbox.settled(key for notice in notices for key in notice.keys)
        for notice in notices:
            notice.items = [item for item in notice.items if item.key not in settled]
            if notice.items:
                await self._send(notice, now, report)

    async def _send(self, notice: DueNotice, now: datetime, report: SendReport) -> None:
        kind = "notice" if notice.to_channel else "notice-dm"
        if notice.quiet:
            for item in notice.items:
                slot = Slot(item.key, kind, notice.target, item.found.detected_at)
                if await self._outbox.skip(slot, now, "notices off"):
                    report.skipped.append(item.key)
            return
        by_key = {item.key: item.found for item in notice.items}

        def render(claimed: Sequence[str]) -> list[Message]:
            changes = [by_key[key] for key in claimed]
            if notice.to_channel:
                return [channel_notice(changes, self._orgtime.zone)]
            return [person_notice(changes, self._orgtime.zone, notice.for_trainer)]

        due_at = min(found.detected_at for found in by_key.values())
        parcel = Parcel(kind, notice.target, due_at, tuple(by_key), render, self._pause_for(notice))
        if await self._outbox.deliver(parcel, now, report):
            log.info("notice of %d change(s) sent to %s", len(by_key), notice.target)

    def _pause_for(self, notice: DueNotice) -> Pause | None:
        """A channel that refuses for good has its digests paused, a person their reminders; a
        trainer's refusal pauses nothing, since they never subscribed."""
        if notice.to_channel:
            return self._pause_channel
        return None if notice.for_trainer else self._pause_person

    async def _pause_channel(self, channel: str, refusal: DeliveryError) -> None:
        await self._store.pause_channel_digests(channel, refusal.pause_reason)

    async def _pause_person(self, user: str, refusal: DeliveryError) -> None:
        await self._store.pause_user_reminders(user, refusal.pause_reason)
