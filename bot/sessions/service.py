"""Upcoming sessions of a module, answered from a cache that a careful client fills.

Per module, the last good answer from Zoho is kept in diskcache with the time
it was fetched. Fresh (younger than the TTL): answered as is. Older: answered
at once while one refresh runs behind it. Zoho locked, down or refusing: the
last good data answers, marked with when it was fetched and why. No data at all:
the caller gets the domain's typed error. However many callers ask, at most one
fetch per module is in flight. Zoho's records are parsed once per fetch, not on
every read. Where several instances share a PostgreSQL database, what any of
them fetched is shared (`shared.py`): an instance whose data is stale looks
there before asking Zoho, and one fetch of a module or batch runs at a time
across all of them. A module Zoho answers 404 for is remembered as gone for
`GONE_SECONDS`, so the planner spends no call on it and its subscriptions can
be paused with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import diskcache

from bot.clock import Clock
from bot.coordination import Coordination
from bot.sessions.errors import ApiPaused, ModuleGone, SessionsError
from bot.sessions.listing import Listing, ModuleRead
from bot.sessions.model import Session, parse_session
from bot.sessions.modules import ModuleRef
from bot.sessions.shared import SharedSnapshots, Snapshot
from bot.sessions.source import ZohoSource
from bot.sessions.urgency import Need, Urgency
from bot.sessions.windows import Window

log = logging.getLogger(__name__)

DEFAULT_TTL = 600.0
PARSED_FETCHES = 1024
"""Fetches whose parsed sessions are kept in memory; each module has one current fetch."""
PAGE_SIZE = 25
"""Records Zoho returns per page: what a fetch of n records costs is about n / 25 calls."""
ASKED_SECONDS = 3600.0
"""A module people asked about this recently is kept fresh by the planner."""
KEPT_FOR_SENDS = (
    "The bot's daily Zoho allowance is nearly used up, and what is left is kept for digests and reminders."
)
"""Why a listing's data is old when its refresh was left to the planner to save the reserve."""
FETCH_WAIT_SECONDS = 20.0
"""How long a fetch waits for another instance's fetch of the same module or batch to end."""
GONE_SECONDS = 6 * 3600.0
"""How long a module Zoho answered 404 for counts as gone: no refresh asks for it meanwhile."""


class SessionService:
    """The domain's entry point: which sessions of a module are upcoming."""

    def __init__(
        self,
        source: ZohoSource,
        cache: diskcache.Cache,
        clock: Clock,
        zone: ZoneInfo,
        date_format: str,
        ttl: float = DEFAULT_TTL,
        shared: Coordination | None = None,
    ) -> None:
        self._source = source
        self._cache = cache
        self._clock = clock
        self._zone = zone
        self._date_format = date_format
        self._ttl = ttl
        self._shared = SharedSnapshots(shared, clock) if shared is not None else None
        self._inflight: dict[str, asyncio.Task[Snapshot]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._parsed: OrderedDict[tuple[str, str], tuple[Session, ...]] = OrderedDict()
        self._asked: dict[str, tuple[ModuleRef, float]] = {}
        self._batch_records: dict[tuple[str, str], int] = {}

    async def upcoming(
        self,
        module: ModuleRef,
        now: datetime,
        window: Window,
        deadline: float | None = None,
        urgency: Urgency = Urgency.PERSON_WAITING,
    ) -> Listing:
        """Sessions not yet ended at `now` that start within `window`, by start time."""
        if urgency is Urgency.PERSON_WAITING:
            self._asked[module.key] = (module, self._clock.time())
        snapshot, problem = await self._snapshot(module, Need(urgency, deadline))
        return self._listing(module, snapshot, now, window, problem)

    def cached_listing(self, module: ModuleRef, now: datetime, window: Window) -> Listing | None:
        """The answer from this instance's cache alone, or None when nothing is cached (no I/O)."""
        snapshot = self._local(module)
        if snapshot is None:
            return None
        return self._listing(module, snapshot, now, window, self._problem(module, snapshot))

    def latest_read(self, module: ModuleRef) -> ModuleRead | None:
        """The last read of the module this instance holds, or None (no I/O)."""
        snapshot = self._local(module)
        if snapshot is None:
            return None
        return ModuleRead(
            module,
            snapshot.fetch_id,
            datetime.fromtimestamp(snapshot.fetched_at, UTC),
            snapshot.complete,
            self._sessions(module, snapshot),
        )

    def _listing(
        self, module: ModuleRef, snapshot: Snapshot, now: datetime, window: Window, problem: str | None
    ) -> Listing:
        """Sessions with unreadable dates are kept (shown last) so nothing silently vanishes."""
        sessions = self._sessions(module, snapshot)
        ahead = [s for s in sessions if s.start is None or not s.is_over(now)]
        within = tuple(s for s in ahead if _overlaps(s, window))
        beyond = next((s for s in ahead if s.start is not None and s.start >= window.end), None)
        return Listing(
            module=module,
            sessions=within,
            next_after=beyond,
            fetched_at=datetime.fromtimestamp(snapshot.fetched_at, UTC),
            problem=problem,
        )

    def _sessions(self, module: ModuleRef, snapshot: Snapshot) -> tuple[Session, ...]:
        """The snapshot's sessions by start time, parsed the first time this fetch is read."""
        memo = (module.key, snapshot.fetch_id)
        sessions = self._parsed.get(memo)
        if sessions is None:
            parsed = (parse_session(raw, self._zone, self._date_format) for raw in snapshot.records)
            sessions = tuple(sorted(parsed, key=Session.sort_key))
            self._parsed[memo] = sessions
            if len(self._parsed) > PARSED_FETCHES:
                self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(memo)
        return sessions

    async def refresh_batch(
        self, course_id: str, batch_id: str, modules: list[ModuleRef], need: Need
    ) -> None:
        """Refresh several modules of one batch with one paged call instead of one per module."""
        async with self._exclusive(f"{course_id}/{batch_id}", need):
            if self._shared is not None:
                await self.pull(modules)
                if all(self.is_fresh(module) for module in modules):
                    return  # another instance fetched the batch while this one waited
            read = await self._source.batch_sessions(course_id, batch_id, need)
            self._batch_records[(course_id, batch_id)] = len(read.records)
            fetched_at = self._clock.time()
            for module in modules:
                mine = tuple(r for r in read.records if str(r.get("moduleId", "")) == module.module_id)
                await self._store(module, Snapshot(mine, fetched_at, uuid.uuid4().hex, read.complete))

    async def pull(self, modules: list[ModuleRef]) -> None:
        """Take what other instances fetched since this one last looked (nothing to do on one machine)."""
        for module in modules:
            await self._pulled(module, self._local(module))

    def recently_asked(self) -> list[ModuleRef]:
        """Modules people asked this instance about within the last `ASKED_SECONDS`."""
        since = self._clock.time() - ASKED_SECONDS
        return [module for module, at in self._asked.values() if at >= since]

    def estimated_calls(self, modules: list[ModuleRef]) -> int:
        """What refreshing these modules of one batch costs, from what their last fetch returned;
        a batch never read counts a page per module (batches of this size span several pages)."""
        first = modules[0]
        if len(modules) > 1:
            records = self._batch_records.get((first.course_id, first.batch_id))
            if records is None:
                return len(modules)
        else:
            snapshot = self._local(first)
            records = len(snapshot.records) if snapshot else 0
        return records // PAGE_SIZE + 1

    def age(self, module: ModuleRef) -> float | None:
        """Seconds since the module's data was fetched; None when nothing is cached."""
        snapshot = self._local(module)
        return self._age(snapshot) if snapshot is not None else None

    def is_fresh(self, module: ModuleRef) -> bool:
        age = self.age(module)
        return age is not None and age < self._ttl

    def gone(self, module: ModuleRef) -> bool:
        """Whether a read within the last `GONE_SECONDS` found that Zoho has no such module, and
        no read since (here or by another instance) found it again (no I/O)."""
        marked = self._cache.get(_gone_key(module))
        if not isinstance(marked, float) or self._clock.time() - marked >= GONE_SECONDS:
            return False
        snapshot = self._local(module)
        return snapshot is None or snapshot.fetched_at <= marked

    async def confirm(self, module: ModuleRef, deadline: float | None) -> None:
        """Return if Zoho knows the module; raise `ModuleGone` if not, or why Zoho could not be asked.

        Data held for the module answers without a call, unless a later read found it gone (it
        may be back); otherwise one read, a person waiting, kept like any other.
        """
        if self._local(module) is None or self.gone(module):
            await self._shared_fetch(module, Need(Urgency.PERSON_WAITING, deadline))

    @property
    def ttl(self) -> float:
        return self._ttl

    async def refresh(self, modules: list[ModuleRef], need: Need) -> list[ModuleRef]:
        """Fetch these modules now, one paged call per batch where a batch has several.

        A failure is logged and recorded (listings then say why their data is old);
        returns the modules that could not be refreshed. Where instances share data, a
        module another instance has just fetched is taken from it instead.
        """
        if self._shared is not None:
            await self.pull(modules)
            modules = [module for module in modules if not self.is_fresh(module)]
        by_batch: dict[tuple[str, str], list[ModuleRef]] = {}
        for module in modules:
            by_batch.setdefault((module.course_id, module.batch_id), []).append(module)
        failed: list[ModuleRef] = []
        for (course_id, batch_id), members in by_batch.items():
            try:
                if len(members) > 1:
                    await self.refresh_batch(course_id, batch_id, members, need)
                else:
                    await self._shared_fetch(members[0], need)
            except SessionsError as exc:
                log.warning("refresh of batch %s/%s failed: %s", course_id, batch_id, exc)
                self._failed(members, exc)
                failed += members
        return failed

    async def drain(self) -> None:
        """Wait for background refreshes (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _snapshot(self, module: ModuleRef, need: Need) -> tuple[Snapshot, str | None]:
        cached = self._local(module)
        if cached is None or self._age(cached) >= self._ttl:
            cached = await self._pulled(module, cached)
        if cached is None:
            return await self._shared_fetch(module, need), None
        if self._age(cached) >= self._ttl:
            self._refresh_behind(module)
        return cached, self._problem(module, cached)

    def _refresh_behind(self, module: ModuleRef) -> None:
        if _key(module) in self._inflight or self._source.locked_until() > self._clock.time():
            return
        task = asyncio.ensure_future(self._quietly(module, self._fetch_behind(module)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _fetch_behind(self, module: ModuleRef) -> None:
        """A refresh behind a lookup, unless it would spend what the day keeps for due sends
        (the planner then refreshes the module, people having asked about it, when it may)."""
        _, day = await self._source.room(Urgency.BACKGROUND)
        if day > 0 and day - self.estimated_calls([module]) < self._source.reserved_for_sends():
            self._cache.set(_error_key(module), KEPT_FOR_SENDS)
            return
        await self._shared_fetch(module, Need(Urgency.BACKGROUND))  # a spent day is recorded as such

    async def _quietly(self, module: ModuleRef, fetch: Awaitable[object]) -> None:
        try:
            await fetch
        except SessionsError as exc:
            log.warning("refresh of %s failed; serving cached data: %s", module.key, exc)

    async def _shared_fetch(self, module: ModuleRef, need: Need) -> Snapshot:
        key = _key(module)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(module, need))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(task)

    async def _fetch(self, module: ModuleRef, need: Need) -> Snapshot:
        async with self._exclusive(module.key, need):
            if self._shared is not None:
                shared = await self._pulled(module, self._local(module))
                if shared is not None and self._age(shared) < self._ttl:
                    return shared  # another instance fetched it while this one waited
            try:
                read = await self._source.module_sessions(module, need)
            except SessionsError as exc:
                self._failed([module], exc)
                raise
            snapshot = Snapshot(tuple(read.records), self._clock.time(), uuid.uuid4().hex, read.complete)
            await self._store(module, snapshot)
            return snapshot

    def _exclusive(self, unit: str, need: Need) -> contextlib.AbstractAsyncContextManager[None]:
        """Across instances, one fetch of a module or batch at a time (nothing to hold on one machine)."""
        if self._shared is None:
            return contextlib.nullcontext()
        wait = FETCH_WAIT_SECONDS
        if need.deadline is not None:
            wait = max(0.5, min(wait, need.deadline - self._clock.time()))
        return self._shared.exclusive(unit, wait)

    def _local(self, module: ModuleRef) -> Snapshot | None:
        snapshot = self._cache.get(_key(module))
        return snapshot if isinstance(snapshot, Snapshot) else None

    async def _pulled(self, module: ModuleRef, local: Snapshot | None) -> Snapshot | None:
        """The newer of this instance's data and what the other instances share."""
        if self._shared is None:
            return local
        shared = await self._shared.load(module.key)
        if shared is None or (local is not None and shared.fetched_at <= local.fetched_at):
            return local
        self._cache.set(_key(module), shared)
        return shared

    def _failed(self, modules: list[ModuleRef], error: SessionsError) -> None:
        """Record why these modules could not be read; a 404 (of the module or of its whole
        batch) marks them gone."""
        for module in modules:
            self._cache.set(_error_key(module), str(error))
            if isinstance(error, ModuleGone):
                self._cache.set(_gone_key(module), self._clock.time(), expire=GONE_SECONDS)

    async def _store(self, module: ModuleRef, snapshot: Snapshot) -> None:
        self._cache.set(_key(module), snapshot)
        self._cache.delete(_error_key(module))
        self._cache.delete(_gone_key(module))
        if self._shared is not None:
            await self._shared.save(module.key, snapshot)

    def _age(self, snapshot: Snapshot) -> float:
        return self._clock.time() - snapshot.fetched_at

    def _problem(self, module: ModuleRef, snapshot: Snapshot) -> str | None:
        """Why old data is being shown, if it is old and Zoho could not be asked."""
        if self._age(snapshot) < self._ttl:
            return None
        locked_until = self._source.locked_until()
        if locked_until > self._clock.time():
            return str(ApiPaused(locked_until))
        error = self._cache.get(_error_key(module))
        return error if isinstance(error, str) else None


def _overlaps(session: Session, window: Window) -> bool:
    """Starts inside the window, or started before it and is still running at its start.

    A session whose date would not parse is kept, so it shows (last) rather than vanishing.
    """
    start = session.start
    if start is None:
        return True
    if start >= window.end:
        return False
    return start >= window.start or (session.end or start) > window.start


def _key(module: ModuleRef) -> str:
    return f"sessions:{module.key}"


def _error_key(module: ModuleRef) -> str:
    return f"sessions-error:{module.key}"


def _gone_key(module: ModuleRef) -> str:
    return f"sessions-gone:{module.key}"
