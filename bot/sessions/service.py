"""Upcoming sessions of a module, answered from a cache that a careful client fills.

Per module, the last good answer from Zoho is kept in diskcache with the time it
was fetched, and there is one way to Zoho. A lookup (`upcoming`, `confirm`)
answers from the data held: as is when younger than the TTL; when older, the
newer of it and what other instances shared (`shared.py`, several instances on
one PostgreSQL database) answers at once while a fetch runs behind it, within
the budget's policy (`source.Room`); with no data anywhere the caller waits for
a fetch. The planner's `refresh` fetches directly. A fetch reads one unit (a
module, or several modules of one batch through the batch endpoint) once,
however many callers ask meanwhile, and across instances under an exclusive
claim, taking another instance's fresh data instead when it finished first.
What it read is kept and shared; why it failed is recorded, so old data answers
with why and since when (Zoho locked, down or refusing), and no data at all is
the domain's typed error. Zoho's records are parsed once per fetch. A module Zoho
answers 404 for is remembered as gone for `GONE_SECONDS`, so the planner spends
no call on it and its subscriptions can be paused with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.coordination import Coordination
from bot.sessions.errors import ApiPaused, ModuleGone, SessionsError, SettingsUnknown
from bot.sessions.listing import Listing, ModuleRead
from bot.sessions.model import Session, parse_session
from bot.sessions.modules import ModuleRef
from bot.sessions.orgtime import OrgTime
from bot.sessions.shared import SharedSnapshots, Snapshot
from bot.sessions.source import Read, Want, ZohoSource
from bot.sessions.urgency import Need, Urgency
from bot.sessions.windows import Window
from bot.tenants.cache import TenantCache

log = logging.getLogger(__name__)

DEFAULT_TTL = 600.0
PARSED_FETCHES = 1024
"""Fetches whose parsed sessions are kept in memory; each module has one current fetch."""
PARSED_ON_THE_LOOP = 250
"""Records a read may have to be parsed on the event loop (about 10 ms); longer reads are parsed
in a worker thread as soon as they are read."""
PAGE_SIZE = 25
"""Records Zoho returns per page: what a fetch of n records costs is about n / 25 calls."""
ASKED_SECONDS = 3600.0
"""How long the times of a module's lookups are remembered, for the planner (`asked`)."""
WARM_LOOKUPS = 2
WARM_SECONDS = 1800.0
"""A person's lookup of old data refreshes it (behind the answer, or queued for the planner)
when it is at least the `WARM_LOOKUPS`th lookup of the module within `WARM_SECONDS`: the
refresh only serves the lookups after it, and a module looked up once in half an hour is seldom
looked up again within the freshness window. Alone, it waits for its batch's turn, unless its
data is older than `FOLLOWED_AGE` (the planner fell behind)."""
FOLLOWED_AGE = 50 * 60.0
"""While people are looking, the most a followed batch's data may grow old, whatever it costs (the
planner's policy): what a lookup of a module nobody looked at lately is answered from. A read of
every followed batch costs about as many calls as the batches hold pages (about 100 in the
working-day benchmark), so this is the one figure that sets most of a working day's calls."""
WAIT_AGE = 45 * 60.0
"""Data this old is not what a person waiting should get: a lookup then waits for a read (one
call, or the batch's read already on its way) while the pace's share for lookups allows."""
LOOKED_UP_SECONDS = 86_400.0
"""How long a module looked up is remembered at all (with its last lookup): the planner keeps it
with the followed ones."""
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
        cache: TenantCache,
        clock: Clock,
        orgtime: OrgTime,
        ttl: float = DEFAULT_TTL,
        shared: Coordination | None = None,
    ) -> None:
        self._source = source
        self._cache = cache
        self._clock = clock
        self._orgtime = orgtime
        self._ttl = ttl
        self._shared = SharedSnapshots(shared, clock) if shared is not None else None
        self._inflight: dict[str, asyncio.Task[dict[str, Snapshot]]] = {}
        self._behind: dict[str, asyncio.Task[None]] = {}
        self._parsed: OrderedDict[tuple[str, str, int], tuple[Session, ...]] = OrderedDict()
        self._asked: dict[str, Asked] = {}
        self._batch_records: dict[tuple[str, str], int] = {}

    # Answers

    async def upcoming(
        self,
        module: ModuleRef,
        now: datetime,
        window: Window,
        deadline: float | None = None,
        urgency: Urgency = Urgency.PERSON_WAITING,
    ) -> Listing:
        """Sessions not yet ended at `now` that start within `window`, by start time; none while
        the organisation's zone and date format are unknown (they would be read wrongly)."""
        if self._orgtime.awaiting:
            raise SettingsUnknown
        behind = 0.0
        if urgency is Urgency.PERSON_WAITING and not self._note_asked(module).warm:
            behind = FOLLOWED_AGE
        snapshot = await self._lookup(module, Need(urgency, deadline), behind_after=behind)
        return self._listing(module, snapshot, now, window)

    def cached_listing(self, module: ModuleRef, now: datetime, window: Window) -> Listing | None:
        """The answer from this instance's cache alone, or None when nothing is cached (no I/O)."""
        snapshot = self._held(module)
        return self._listing(module, snapshot, now, window) if snapshot is not None else None

    def latest_read(self, module: ModuleRef) -> ModuleRead | None:
        """The last read of the module this instance holds, or None (no I/O)."""
        snapshot = self._held(module)
        if snapshot is None:
            return None
        return ModuleRead(
            module,
            snapshot.fetch_id,
            datetime.fromtimestamp(snapshot.fetched_at, UTC),
            snapshot.complete,
            self._sessions(module, snapshot),
        )

    async def held_read(self, module: ModuleRef) -> ModuleRead | None:
        """The newest read of the module held here or shared by other instances, or None; never
        a call to Zoho."""
        if await self._newest(module) is None:
            return None
        return self.latest_read(module)

    async def confirm(self, module: ModuleRef, deadline: float | None) -> None:
        """Return if Zoho knows the module; raise `ModuleGone` if not, or why Zoho could not be asked.

        Data held for the module answers without a call, unless a later read found it gone (it
        may be back); otherwise one read, a person waiting, kept like any other.
        """
        if self._held(module) is None or self.gone(module):
            await self._fetch(_Unit((module,)), Need(Urgency.PERSON_WAITING, deadline))

    async def refresh(self, modules: list[ModuleRef], need: Need) -> list[ModuleRef]:
        """Fetch these modules now, one paged call per batch where a batch has several.

        A failure is logged and recorded (listings then say why their data is old);
        returns the modules that could not be refreshed. Where instances share data, a
        module another instance has just fetched is taken from it instead.
        """
        failed: list[ModuleRef] = []
        for unit in _units(modules):
            try:
                await self._fetch(unit, need)
            except SessionsError as exc:
                log.warning("refresh of %s failed: %s", unit.key, exc)
                failed += unit.modules
        return failed

    def forget(self) -> None:
        """Zoho was disconnected: the sessions held were that organisation's; nothing of them is
        shown once another may be connected."""
        self._cache.clear()
        self._parsed.clear()

    async def drain(self) -> None:
        """Wait for background refreshes (shutdown, tests)."""
        while self._behind:
            await asyncio.gather(*list(self._behind.values()), return_exceptions=True)

    # What is held (no I/O)

    def asked(self) -> list[Asked]:
        """Modules people asked this instance about within `LOOKED_UP_SECONDS`, with when (older
        ones are forgotten)."""
        since = self._clock.time() - LOOKED_UP_SECONDS
        self._asked = {key: asked for key, asked in self._asked.items() if asked.times[-1] >= since}
        return list(self._asked.values())

    def _note_asked(self, module: ModuleRef) -> Asked:
        now = self._clock.time()
        held = self._asked.get(module.key)
        times = tuple(at for at in held.times if at >= now - ASKED_SECONDS) if held else ()
        self._asked[module.key] = asked = Asked(module, (*times, now))
        return asked

    def estimated_calls(self, modules: list[ModuleRef]) -> int:
        """What refreshing these modules of one batch costs, from what their last fetch returned;
        a batch never read counts a page per module (batches of this size span several pages)."""
        first = modules[0]
        if len(modules) > 1:
            records = self._batch_records.get((first.course_id, first.batch_id))
            if records is None:
                return len(modules)
        else:
            snapshot = self._held(first)
            records = len(snapshot.records) if snapshot else 0
        return records // PAGE_SIZE + 1

    def age(self, module: ModuleRef) -> float | None:
        """Seconds since the module's data was fetched; None when nothing is cached."""
        snapshot = self._held(module)
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
        snapshot = self._held(module)
        return snapshot is None or snapshot.fetched_at <= marked

    @property
    def ttl(self) -> float:
        return self._ttl

    # The one way to Zoho

    async def _lookup(self, module: ModuleRef, need: Need, behind_after: float) -> Snapshot:
        """Fresh data held answers; old data is first compared with what other instances shared;
        with none anywhere the caller waits for a fetch, and a person waits for one too when it is
        older than `WAIT_AGE` (if the sends' reserve allows); with old data (older than
        `behind_after` too) a fetch runs behind."""
        snapshot = self._held(module)
        if snapshot is None or self._age(snapshot) >= self._ttl:
            snapshot = await self._newest(module)
        if snapshot is None:
            return (await self._fetch(_Unit((module,)), need))[module.key]
        if need.urgency is Urgency.PERSON_WAITING and self._age(snapshot) >= WAIT_AGE:
            waited = await self._waited(snapshot, module, need)
            if waited is not None:
                return waited
        if self._age(snapshot) >= max(self._ttl, behind_after):
            self._refresh_behind(module)
        return snapshot

    async def _waited(self, snapshot: Snapshot, module: ModuleRef, need: Need) -> Snapshot | None:
        """A read the person waits for, when the hour's share of the pace left to lookups has
        room for it, the sends' reserve is kept and Zoho is not locked (so a day of many more
        lookups answers at once from older data instead of starving followed reads and due
        sends); None when it may not be made (the lookup then goes on as for any old data), the
        old data when it failed (its reason is kept for the listing)."""
        if self._source.locked_until() > self._clock.time():
            return None
        try:
            room = await self._source.background_room()
            calls = self.estimated_calls([module])
            if not room.keeps_reserve(calls) or not room.fits(calls, Want.LOOKUPS):
                return None
            return (await self._fetch(_Unit((module,)), need))[module.key]
        except SessionsError as exc:
            log.info("lookup of %s answered from old data: %s", module.key, exc)
            return snapshot

    def _refresh_behind(self, module: ModuleRef) -> None:
        """One background fetch of a module a lookup found old, unless one is on its way or
        Zoho's lock is on (nothing could be asked)."""
        busy = module.key in self._inflight or module.key in self._behind
        if busy or self._source.locked_until() > self._clock.time():
            return
        task = asyncio.ensure_future(self._fetch_behind(module))
        self._behind[module.key] = task
        task.add_done_callback(lambda _: self._behind.pop(module.key, None))

    async def _fetch_behind(self, module: ModuleRef) -> None:
        """The fetch behind a lookup, when the budget's policy lets it (the minute, the day's
        pace, the due sends' reserve); otherwise the planner refreshes the module (a lookup found
        it old) when it may, and, when the reserve stopped it, the listing says why meanwhile."""
        try:
            room = await self._source.background_room()
            calls = self.estimated_calls([module])
            if not room.keeps_reserve(calls):
                self._cache.set(_error_key(module), KEPT_FOR_SENDS)
                return
            if room.day and not room.fits(calls, Want.LOOKUPS):
                return  # a spent day is still asked, so the listing says why its data is old
            await self._fetch(_Unit((module,)), Need(Urgency.BACKGROUND))
        except SessionsError as exc:
            log.warning("refresh of %s failed; serving cached data: %s", module.key, exc)

    async def _fetch(self, unit: _Unit, need: Need) -> dict[str, Snapshot]:
        """The unit's data by module key, fetched once however many callers ask meanwhile."""
        task = self._inflight.get(unit.key)
        if task is None:
            task = asyncio.ensure_future(self._fetch_once(unit, need))
            self._inflight[unit.key] = task
            task.add_done_callback(lambda _: self._inflight.pop(unit.key, None))
        return await asyncio.shield(task)

    async def _fetch_once(self, unit: _Unit, need: Need) -> dict[str, Snapshot]:
        """Read the unit from Zoho under the instances' exclusive claim, unless another instance
        fetched it while this one waited; keep and share what was read, or record why not."""
        async with self._exclusive(unit, need):
            taken = await self._fetched_elsewhere(unit)
            if taken is not None:
                return taken
            try:
                read = await self._read(unit, need)
            except SessionsError as exc:
                self._failed(unit.modules, exc)
                raise
            fetched_at = self._clock.time()
            kept = {}
            for module in unit.modules:
                records = read.records
                if unit.by_batch:
                    records = [r for r in read.records if str(r.get("moduleId", "")) == module.module_id]
                kept[module.key] = Snapshot(tuple(records), fetched_at, uuid.uuid4().hex, read.complete)
                await self._keep(module, kept[module.key])  # shared before the claim ends
                await self._parse_long(module, kept[module.key])
            return kept

    async def _fetched_elsewhere(self, unit: _Unit) -> dict[str, Snapshot] | None:
        """Every module of the unit as another instance fetched it, when all are fresh. A batch is
        fetched together: its first module not fresh, the others are not looked at."""
        if self._shared is None:
            return None
        taken = {}
        for module in unit.modules:
            snapshot = await self._newest(module)
            if snapshot is None or self._age(snapshot) >= self._ttl:
                return None
            taken[module.key] = snapshot
        return taken

    async def _read(self, unit: _Unit, need: Need) -> Read:
        first = unit.modules[0]
        if not unit.by_batch:
            return await self._source.module_sessions(first, need)
        read = await self._source.batch_sessions(first.course_id, first.batch_id, need)
        self._batch_records[(first.course_id, first.batch_id)] = len(read.records)
        return read

    def _exclusive(self, unit: _Unit, need: Need) -> contextlib.AbstractAsyncContextManager[None]:
        """Across instances, one fetch of a module or batch at a time (nothing to hold on one machine)."""
        if self._shared is None:
            return contextlib.nullcontext()
        wait = FETCH_WAIT_SECONDS
        if need.deadline is not None:
            wait = max(0.5, min(wait, need.deadline - self._clock.time()))
        return self._shared.exclusive(unit.key, wait)

    # Keeping what was read

    def _held(self, module: ModuleRef) -> Snapshot | None:
        snapshot = self._cache.get(_key(module))
        return snapshot if isinstance(snapshot, Snapshot) else None

    async def _newest(self, module: ModuleRef) -> Snapshot | None:
        """The newer of this instance's data and what the other instances share."""
        held = self._held(module)
        if self._shared is None:
            return held
        shared = await self._shared.load(module.key)
        if shared is None or (held is not None and shared.fetched_at <= held.fetched_at):
            return held
        self._cache.set(_key(module), shared)
        return shared

    async def _keep(self, module: ModuleRef, snapshot: Snapshot) -> None:
        self._cache.set(_key(module), snapshot)
        self._cache.delete(_error_key(module))
        self._cache.delete(_gone_key(module))
        if self._shared is not None:
            await self._shared.save(module.key, snapshot)

    def _failed(self, modules: tuple[ModuleRef, ...], error: SessionsError) -> None:
        """Record why these modules could not be read; a 404 (of the module or of its whole
        batch) marks them gone."""
        for module in modules:
            self._cache.set(_error_key(module), str(error))
            if isinstance(error, ModuleGone):
                self._cache.set(_gone_key(module), self._clock.time(), expire=GONE_SECONDS)

    # Listings

    def _listing(self, module: ModuleRef, snapshot: Snapshot, now: datetime, window: Window) -> Listing:
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
            problem=self._problem(module, snapshot),
            old=self._age(snapshot) >= self._ttl,
        )

    def _sessions(self, module: ModuleRef, snapshot: Snapshot) -> tuple[Session, ...]:
        """The snapshot's sessions by start time, parsed the first time this fetch is read (and again
        once the organisation's zone or date format is learnt or changed)."""
        memo = (module.key, snapshot.fetch_id, self._orgtime.version)
        sessions = self._parsed.get(memo)
        if sessions is None:
            sessions = _parsed(snapshot.records, self._orgtime.zone, self._orgtime.date_format)
            self._remember(memo, sessions)
        else:
            self._parsed.move_to_end(memo)
        return sessions

    async def _parse_long(self, module: ModuleRef, snapshot: Snapshot) -> None:
        """Parse a long read now, in a worker thread: thousands of records are a few hundred
        milliseconds of Python, which on the event loop would hold every request and send. The
        thread holds the GIL too, but Python hands it back to the loop every few milliseconds.
        Reads are rare (a module at most once per freshness window) and short ones are parsed
        on the loop when first shown, as before."""
        if len(snapshot.records) < PARSED_ON_THE_LOOP or self._orgtime.awaiting:
            return
        orgtime = self._orgtime
        memo = (module.key, snapshot.fetch_id, orgtime.version)
        sessions = await asyncio.to_thread(_parsed, snapshot.records, orgtime.zone, orgtime.date_format)
        self._remember(memo, sessions)

    def _remember(self, memo: tuple[str, str, int], sessions: tuple[Session, ...]) -> None:
        self._parsed[memo] = sessions
        if len(self._parsed) > PARSED_FETCHES:
            self._parsed.popitem(last=False)

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


@dataclass(frozen=True)
class Asked:
    """A module people looked up, and when (clock seconds, oldest first): the lookups of the
    last `ASKED_SECONDS`, and always the last one."""

    module: ModuleRef
    times: tuple[float, ...]

    @property
    def warm(self) -> bool:
        """Whether its last lookup was at least the `WARM_LOOKUPS`th within `WARM_SECONDS`."""
        since = self.times[-1] - WARM_SECONDS
        return sum(1 for at in self.times if at >= since) >= WARM_LOOKUPS


@dataclass(frozen=True)
class _Unit:
    """What one fetch reads: a module alone, or several modules of one batch by the batch endpoint."""

    modules: tuple[ModuleRef, ...]

    @property
    def by_batch(self) -> bool:
        return len(self.modules) > 1

    @property
    def key(self) -> str:
        """Names the fetch, in this process and across instances."""
        first = self.modules[0]
        return f"{first.course_id}/{first.batch_id}" if self.by_batch else first.key


def _units(modules: list[ModuleRef]) -> list[_Unit]:
    by_batch: dict[tuple[str, str], dict[str, ModuleRef]] = {}
    for module in modules:
        by_batch.setdefault((module.course_id, module.batch_id), {})[module.key] = module
    return [_Unit(tuple(members.values())) for members in by_batch.values()]


def _parsed(records: tuple[dict[str, Any], ...], zone: ZoneInfo, date_format: str) -> tuple[Session, ...]:
    return tuple(sorted((parse_session(raw, zone, date_format) for raw in records), key=Session.sort_key))


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
