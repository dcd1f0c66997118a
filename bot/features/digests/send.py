"""Turning due digests into posted ones: waiting for data, parts, skips and pausing a channel.

Each digest is claimed under its channel-and-day key, and each part of a long
one under its own key as well, so a retry never repeats a part already posted.
A digest waits up to `PARTIAL_AFTER` for a module Zoho has no data for, then
goes out without it, and up to `FRESH_WITHIN` for data older than the freshness
setting that the planner has not yet refreshed (when many digests fall due at
once, their refreshes may take a few minutes of the call budget), then goes
out with what it has. Data that is old because Zoho could not be asked does
not wait: the digest says how old it is. A channel that refuses for good has its digests paused
with the reason, shown in its lists; so are the digests of a module Zoho no longer has.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.features.digests.due import DueDigest, digest_at, due_digests
from bot.features.digests.render import digest_messages
from bot.features.outbox import Outbox, Parcel, SendReport
from bot.sessions.listing import Listing
from bot.sessions.modules import ModuleRef
from bot.sessions.service import SessionService
from bot.sessions.urgency import Need, Urgency
from bot.slack.delivery import DeliveryError
from bot.slack.errors import MODULE_GONE_PAUSE
from bot.slack.messages import Message
from bot.store.records import Digest
from bot.store.scoped import TenantStore

log = logging.getLogger(__name__)

PARTIAL_AFTER = timedelta(minutes=30)
"""A digest waits this long for a module Zoho has no data for, then goes out without it."""
FRESH_WITHIN = timedelta(minutes=5)
"""A digest waits this long for its data to be refreshed, then goes out with older data."""
PREVIEW_SECONDS = 60.0


class DigestSender:
    def __init__(
        self, store: TenantStore, sessions: SessionService, outbox: Outbox, clock: Clock, catch_up: timedelta
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._outbox = outbox
        self._clock = clock
        self._catch_up = catch_up

    async def due(self, digests: list[Digest], now: datetime, report: SendReport) -> list[DueDigest]:
        """The digests to send now; those past their catch-up window are settled as skipped (once),
        and those of modules Zoho no longer has are paused first."""
        due, missed = due_digests(await self._pause_gone(digests), now, self._catch_up)
        # Settled sends are left out before any write: a digest past its catch-up window stays
        # "missed" for hours, and a failing INSERT every tick is costly.
        settled = await self._outbox.settled(entry.key for entry in due + missed)
        for entry in missed:
            if entry.key not in settled and await self._outbox.skip(entry.slot, now, "missed: bot was down"):
                log.warning("digest %s skipped: its time passed more than %s ago", entry.key, self._catch_up)
                report.skipped.append(entry.key)
        return [entry for entry in due if entry.key not in settled]

    async def _pause_gone(self, digests: list[Digest]) -> list[Digest]:
        """Pause the digests of modules Zoho no longer has (a read answered 404), so no digest
        waits for their data; returns `digests` as they now are."""
        gone = {d.module.id for d in digests if not d.paused_reason and self._sessions.gone(d.module)}
        for module in gone:
            paused = await self._store.pause_module_digests(module, MODULE_GONE_PAUSE)
            log.warning("%d digest(s) of %s paused: Zoho no longer has the module", paused, module.key)
        return [replace(d, paused_reason=MODULE_GONE_PAUSE) if d.module.id in gone else d for d in digests]

    def needed(self, due: list[DueDigest]) -> list[ModuleRef]:
        """The modules of the digests due now: their data must be fresh before they go out."""
        return [digest.module for entry in due for digest in entry.digests]

    def followed(self, digests: list[Digest]) -> list[ModuleRef]:
        return [digest.module for digest in digests if not digest.paused_reason]

    async def send(self, entry: DueDigest, now: datetime, report: SendReport) -> None:
        listings = self._listings(entry, now)
        if not listings or (len(listings) < len(entry.digests) and now - entry.scheduled < PARTIAL_AFTER):
            log.info(
                "digest %s waits for Zoho data of %d module(s)", entry.key, len(entry.digests) - len(listings)
            )
            return
        awaiting = [listing for listing in listings if self._awaits_refresh(listing, now)]
        if awaiting and now - entry.scheduled < FRESH_WITHIN:
            log.info("digest %s waits for a refresh of %d module(s)", entry.key, len(awaiting))
            return
        messages = digest_messages(listings, entry.days(), entry.zone)
        if not messages:
            await self._outbox.skip(entry.slot, now, "nothing upcoming")
            report.skipped.append(entry.key)
            return
        parcel = Parcel.of("digest", entry.channel_id, entry.scheduled, entry.key, messages, self._pause)
        if await self._outbox.deliver(parcel, now, report):
            log.info("digest %s sent (%d message(s))", entry.key, len(messages))

    async def _pause(self, channel: str, refusal: DeliveryError) -> None:
        """A channel that refuses for good has its digests paused with the reason."""
        await self._store.pause_channel_digests(channel, refusal.pause_reason)

    async def preview(self, channel_id: str) -> list[Message]:
        """The channel's digest as it would be posted now, with fresh data (`python -m bot digest`)."""
        now = self._clock.now()
        digests = await self._store.digests(channel_id=channel_id)
        if not digests:
            return []
        entry = digest_at(channel_id, digests, now)
        deadline = self._clock.time() + PREVIEW_SECONDS
        await self._sessions.refresh([d.module for d in digests], Need(Urgency.PERSON_WAITING, deadline))
        return digest_messages(self._listings(entry, now), entry.days(), entry.zone)

    def _awaits_refresh(self, listing: Listing, now: datetime) -> bool:
        """Older than the freshness setting, and not because Zoho failed: a refresh is coming."""
        return listing.problem is None and (now - listing.fetched_at).total_seconds() >= self._sessions.ttl

    def _listings(self, entry: DueDigest, now: datetime) -> list[Listing]:
        """The cached listings of the digest's modules that Zoho has given data for."""
        window = entry.window(now)
        listings = [self._sessions.cached_listing(digest.module, now, window) for digest in entry.digests]
        return [listing for listing in listings if listing is not None]
