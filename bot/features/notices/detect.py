"""Finding changes: each followed module's newest read compared with what the store knows of it.

Runs in the scheduler's tick, after the planner's reads, on whatever read this
instance holds (its own, or one another instance shared): no Zoho call of its
own. A read already compared is skipped by its fetch id, found in one cheap
query; only modules with a new read load their known sessions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.sessions.changes import compare
from bot.sessions.listing import ModuleRead
from bot.sessions.modules import ModuleRef
from bot.sessions.service import SessionService
from bot.store.records import Digest, Reminder
from bot.store.watch import Watch, Watches

log = logging.getLogger(__name__)


class ChangeDetector:
    def __init__(self, watches: Watches, sessions: SessionService) -> None:
        self._watches = watches
        self._sessions = sessions

    async def detect(self, digests: Iterable[Digest], reminders: Iterable[Reminder], now: datetime) -> int:
        """Compare every followed module's new read; returns how many changes were found."""
        followed = _followed_since(digests, reminders)
        watched = await self._watches.fetches()
        if watched.keys() - followed.keys():
            await self._watches.forget_except(followed)
        found = 0
        for module, since in followed.values():
            read = self._sessions.latest_read(module)
            watch = watched.get(module.key)
            if read is None or not read.complete or _compared(read, watch):
                continue
            if watch is None and read.fetched_at < since:
                continue  # read before it was followed: the first read after is the baseline
            found += await self._compare(read, watch, now)
        return found

    async def _compare(self, read: ModuleRead, seen: Watch | None, now: datetime) -> int:
        module = read.module
        watch = await self._watches.known(module.key) if seen is not None else None
        known = {k.session_id: k for k in watch.sessions} if watch is not None else None
        confirming = watch is not None and watch.vanished_fetch is not None
        outcome = compare(known, read.sessions, read.complete, now, confirming)
        if not await self._watches.record(module, watch, read.fetch_id, outcome.state, outcome.changes, now):
            return 0  # another instance recorded this module first; the next tick compares again
        if outcome.awaiting_confirmation:
            log.warning(
                "module %s: every known upcoming session (%d) is gone from one read; "
                "nothing is announced unless the next read agrees",
                module.key,
                len(known or {}),
            )
        elif known is None:
            log.info(
                "module %s: %d upcoming session(s) read as the baseline", module.key, len(outcome.state or ())
            )
        elif outcome.changes:
            kinds = ", ".join(sorted({change.kind.value for change in outcome.changes}))
            log.info("module %s: %d change(s) found (%s)", module.key, len(outcome.changes), kinds)
        return len(outcome.changes)


def _compared(read: ModuleRead, watch: Watch | None) -> bool:
    return watch is not None and read.fetch_id in (watch.fetch_id, watch.vanished_fetch)


def _followed_since(
    digests: Iterable[Digest], reminders: Iterable[Reminder]
) -> dict[str, tuple[ModuleRef, datetime]]:
    """Each followed module (by a digest or a reminder not paused), with its oldest subscription."""
    followed: dict[str, tuple[ModuleRef, datetime]] = {}
    for subscription in [*digests, *reminders]:
        if subscription.paused_reason:
            continue
        module, since = subscription.module, subscription.created_at or datetime.min.replace(tzinfo=UTC)
        known = followed.get(module.key)
        if known is None or since < known[1]:
            followed[module.key] = (module, since)
    return followed
