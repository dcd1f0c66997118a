"""Upcoming sessions of a module, answered from a cache that a careful client fills.

Per module, the last good answer from Zoho is kept in diskcache with the time
it was fetched. Fresh (younger than the TTL): answered as is. Older: answered
at once while one refresh runs behind it. Zoho locked, down or refusing: the
last good data answers, marked with when it was fetched and why. No data at all:
the caller gets the typed error. However many callers ask, at most one fetch
per module is in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import diskcache

from bot.clock import Clock
from bot.sessions.matching import ModuleRef
from bot.sessions.model import Session, parse_session
from bot.sessions.windows import Window
from bot.zoho.budget import Priority
from bot.zoho.client import Call, ZohoClient
from bot.zoho.errors import ZohoError, ZohoLockedError

log = logging.getLogger(__name__)

DEFAULT_TTL = 600.0


@dataclass(frozen=True)
class Snapshot:
    """What Zoho said about one module, and when."""

    records: tuple[dict[str, Any], ...]
    fetched_at: float


@dataclass(frozen=True)
class Listing:
    """The answer to "what is coming up in this module"."""

    module: ModuleRef
    sessions: tuple[Session, ...]
    next_after: Session | None
    fetched_at: datetime
    problem: str | None = None
    """Set when the data is old because Zoho could not be asked: what went wrong."""

    @property
    def stale(self) -> bool:
        return self.problem is not None


class SessionService:
    """The domain's entry point: which sessions of a module are upcoming."""

    def __init__(
        self,
        client: ZohoClient,
        cache: diskcache.Cache,
        clock: Clock,
        zone: ZoneInfo,
        date_format: str,
        ttl: float = DEFAULT_TTL,
        locked_until: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._client = client
        self._cache = cache
        self._clock = clock
        self._zone = zone
        self._date_format = date_format
        self._ttl = ttl
        self._locked_until = locked_until
        self._inflight: dict[str, asyncio.Task[Snapshot]] = {}
        self._background: set[asyncio.Task[Any]] = set()

    async def upcoming(
        self,
        module: ModuleRef,
        now: datetime,
        window: Window,
        deadline: float | None = None,
        priority: Priority = Priority.INTERACTIVE,
    ) -> Listing:
        """Sessions not yet ended at `now` that start within `window`, by start time."""
        snapshot, problem = await self._snapshot(module, Call(priority, deadline))
        return self.listing(module, snapshot, now, window, problem)

    def cached_listing(self, module: ModuleRef, now: datetime, window: Window) -> Listing | None:
        """The answer from the cache alone, or None when nothing is cached (no network)."""
        snapshot = self._cache.get(_key(module))
        if not isinstance(snapshot, Snapshot):
            return None
        return self.listing(module, snapshot, now, window, self._problem(module, snapshot))

    def listing(
        self, module: ModuleRef, snapshot: Snapshot, now: datetime, window: Window, problem: str | None
    ) -> Listing:
        """Sessions with unreadable dates are kept (shown last) so nothing silently vanishes."""
        sessions = sorted(self.parse(snapshot), key=Session.sort_key)
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

    def parse(self, snapshot: Snapshot) -> list[Session]:
        return [parse_session(raw, self._zone, self._date_format) for raw in snapshot.records]

    async def refresh_batch(
        self, course_id: str, batch_id: str, modules: list[ModuleRef], call: Call
    ) -> None:
        """Refresh several modules of one batch with one paged call instead of one per module."""
        records = await self._client.batch_sessions(course_id, batch_id, call)
        fetched_at = self._clock.time()
        for module in modules:
            mine = tuple(r for r in records if str(r.get("moduleId", "")) == module.module_id)
            self._store(module, Snapshot(mine, fetched_at))

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

    async def refresh(self, modules: list[ModuleRef], call: Call) -> list[ModuleRef]:
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
                    await self.refresh_batch(course_id, batch_id, members, call)
                else:
                    await self._shared_fetch(members[0], call)
            except ZohoError as exc:
                log.warning("refresh of batch %s/%s failed: %s", course_id, batch_id, exc)
                for module in members:
                    self._cache.set(_error_key(module), str(exc))
                failed += members
        return failed

    async def drain(self) -> None:
        """Wait for background refreshes (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _snapshot(self, module: ModuleRef, call: Call) -> tuple[Snapshot, str | None]:
        cached = self._cache.get(_key(module))
        if not isinstance(cached, Snapshot):
            return await self._shared_fetch(module, call), None
        if self._age(cached) >= self._ttl:
            self._refresh_behind(module)
        return cached, self._problem(module, cached)

    def _refresh_behind(self, module: ModuleRef) -> None:
        if _key(module) in self._inflight or self._locked_until() > self._clock.time():
            return
        task = asyncio.ensure_future(
            self._quietly(module, self._shared_fetch(module, Call(Priority.BACKGROUND, None)))
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _quietly(self, module: ModuleRef, fetch: Awaitable[Snapshot]) -> None:
        try:
            await fetch
        except ZohoError as exc:
            log.warning("refresh of %s failed; serving cached data: %s", module.key, exc)

    async def _shared_fetch(self, module: ModuleRef, call: Call) -> Snapshot:
        key = _key(module)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(module, call))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(task)

    async def _fetch(self, module: ModuleRef, call: Call) -> Snapshot:
        try:
            records = await self._client.module_sessions(
                module.course_id, module.batch_id, module.module_id, call
            )
        except ZohoError as exc:
            self._cache.set(_error_key(module), str(exc))
            raise
        snapshot = Snapshot(tuple(records), self._clock.time())
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
        locked_until = self._locked_until()
        if locked_until > self._clock.time():
            return str(ZohoLockedError(locked_until))
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
