"""Finding changes: each followed module's newest read compared with what the store knows of it.

Runs in the scheduler's tick, after the planner's reads, on whatever read this
instance holds (its own, or one another instance shared): no Zoho call of its
own. A read already compared is skipped by its fetch id, found in one cheap
query; only modules with a new read load their known sessions. The detector
remembers what that query and its own records said, so a tick with no new read
(and the same modules followed) asks the store nothing: comparing is a fact
that only moves forward, and a new read, whoever compared it, sends it back to
the store.
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
        self._known: dict[str, Watch] | None = None
        """The followed modules' watches as last read or recorded, while the followed set is
        `self._followed`; None: read them again."""
        self._followed: set[str] = set()

    async def detect(self, digests: Iterable[Digest], reminders: Iterable[Reminder], now: datetime) -> int:
        """Compare every followed module's new read; returns how many changes were found."""
        followed = _followed_since(digests, reminders)
        reads = [(self._sessions.latest_read(module), since) for module, since in followed.values()]
        known = self._known if followed.keys() == self._followed else None
        if known is not None and not any(_wanted(read, known, since) for read, since in reads):
            return 0  # no new read since the store was last read: nothing to ask it
        watched = await self._watches.fetches()
        if watched.keys() - followed.keys():
            await self._watches.forget_except(followed)
            watched = {key: watch for key, watch in watched.items() if key in followed}
        self._known, self._followed = watched, set(followed)
        new = [read for read, since in reads if read is not None and _wanted(read, watched, since)]
        sessions = await self._watches.known(r.module.key for r in new if r.module.key in watched)
        found = 0
        for read in new:
            found += await self._compare(read, sessions.get(read.module.key), now)
        return found

    async def _compare(self, read: ModuleRead, watch: Watch | None, now: datetime) -> int:
        """`watch`: the module's, with its known sessions; None when it was never watched."""
        module = read.module
        known = {k.session_id: k for k in watch.sessions} if watch is not None else None
        confirming = watch is not None and watch.vanished_fetch is not None
        outcome = compare(known, read.sessions, read.complete, now, confirming)
        state, changes = outcome.state, outcome.changes
        recorded = await self._watches.record(module, watch, read.fetch_id, state, changes, now)
        if recorded is None:
            self._known = None  # another instance recorded this module first: read the store again
            return 0  # and the next tick compares again
        if self._known is not None:
            self._known[module.key] = recorded
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


def _wanted(read: ModuleRead | None, watched: dict[str, Watch], since: datetime) -> bool:
    """Whether a read is to be compared: complete, not compared yet, and (for a module not
    watched yet) read after it was followed; the first read after is the baseline."""
    if read is None or not read.complete:
        return False
    watch = watched.get(read.module.key)
    if watch is None:
        return read.fetched_at >= since
    return not _compared(read, watch)


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
