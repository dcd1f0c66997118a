"""Upcoming sessions of a module, answered from a cache that a careful client fills.

Per module, the last good answer from Zoho is kept in diskcache with the time
it was fetched. Fresh (younger than the TTL): answered as is. Older: answered
at once while one refresh runs behind it. Zoho locked, down or refusing: the
last good data answers, marked with when it was fetched and why. No data at all:
the caller gets the domain's typed error. However many callers ask, at most one
fetch per module is in flight. Zoho's records are parsed once per fetch, not on
every read.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import diskcache

from bot.clock import Clock
from bot.sessions.errors import ApiPaused, SessionsError
from bot.sessions.listing import Listing
from bot.sessions.model import Session, parse_session
from bot.sessions.modules import ModuleRef
from bot.sessions.source import ZohoSource
from bot.sessions.urgency import Need, Urgency
from bot.sessions.windows import Window

log = logging.getLogger(__name__)

DEFAULT_TTL = 600.0
PARSED_FETCHES = 1024
"""Fetches whose parsed sessions are kept in memory; each module has one current fetch."""


@dataclass(frozen=True)
class Snapshot:
    """What Zoho said about one module, and when."""

    records: tuple[dict[str, Any], ...]
    fetched_at: float
    fetch_id: str = ""
    """Tells two fetches apart even when the clock did not move between them."""


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
    ) -> None:
        self._source = source
        self._cache = cache
        self._clock = clock
        self._zone = zone
        self._date_format = date_format
        self._ttl = ttl
        self._inflight: dict[str, asyncio.Task[Snapshot]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._parsed: OrderedDict[tuple[str, str], tuple[Session, ...]] = OrderedDict()

    async def upcoming(
        self,
        module: ModuleRef,
        now: datetime,
        window: Window,
        deadline: float | None = None,
        urgency: Urgency = Urgency.PERSON_WAITING,
    ) -> Listing:
        """Sessions not yet ended at `now` that start within `window`, by start time."""
        snapshot, problem = await self._snapshot(module, Need(urgency, deadline))
        return self._listing(module, snapshot, now, window, problem)

    def cached_listing(self, module: ModuleRef, now: datetime, window: Window) -> Listing | None:
        """The answer from the cache alone, or None when nothing is cached (no network)."""
        snapshot = self._cache.get(_key(module))
        if not isinstance(snapshot, Snapshot):
            return None
        return self._listing(module, snapshot, now, window, self._problem(module, snapshot))

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
        records = await self._source.batch_sessions(course_id, batch_id, need)
        fetched_at = self._clock.time()
        for module in modules:
            mine = tuple(r for r in records if str(r.get("moduleId", "")) == module.module_id)
            self._store(module, Snapshot(mine, fetched_at, uuid.uuid4().hex))

    def age(self, module: ModuleRef) -> float | None:
        """Seconds since the module's data was fetched; None when nothing is cached."""
        snapshot = self._cache.get(_key(module))
        return self._age(snapshot) if isinstance(snapshot, Snapshot) else None

    def is_fresh(self, module: ModuleRef) -> bool:
        age = self.age(module)
        return age is not None and age < self._ttl

    @property
    def ttl(self) -> float:
        return self._ttl

    async def refresh(self, modules: list[ModuleRef], need: Need) -> list[ModuleRef]:
        """Fetch these modules now, one paged call per batch where a batch has several.

        A failure is logged and recorded (listings then say why their data is old);
        returns the modules that could not be refreshed.
        """
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
                for module in members:
                    self._cache.set(_error_key(module), str(exc))
                failed += members
        return failed

    async def drain(self) -> None:
        """Wait for background refreshes (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _snapshot(self, module: ModuleRef, need: Need) -> tuple[Snapshot, str | None]:
        cached = self._cache.get(_key(module))
        if not isinstance(cached, Snapshot):
            return await self._shared_fetch(module, need), None
        if self._age(cached) >= self._ttl:
            self._refresh_behind(module)
        return cached, self._problem(module, cached)

    def _refresh_behind(self, module: ModuleRef) -> None:
        if _key(module) in self._inflight or self._source.locked_until() > self._clock.time():
            return
        task = asyncio.ensure_future(
            self._quietly(module, self._shared_fetch(module, Need(Urgency.BACKGROUND)))
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _quietly(self, module: ModuleRef, fetch: Awaitable[Snapshot]) -> None:
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
        try:
            records = await self._source.module_sessions(module, need)
        except SessionsError as exc:
            self._cache.set(_error_key(module), str(exc))
            raise
        snapshot = Snapshot(tuple(records), self._clock.time(), uuid.uuid4().hex)
        self._store(module, snapshot)
        return snapshot

    def _store(self, module: ModuleRef, snapshot: Snapshot) -> None:
        self._cache.set(_key(module), snapshot)
        self._cache.delete(_error_key(module))

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
