"""The modules the bot knows: aliases from a TOML file plus what discovery found in Zoho.

A full walk of a large organisation (courses, then their batches, then their
modules) costs hundreds of calls, so it runs in the background at background
priority, is kept on disk so a restart does not repeat it, and is renewed every
few hours. A person's lookup never waits for a walk: it matches against what
is known. Until the first walk has finished, a name that matches nothing is
tried with Zoho's course search, at most `SEARCHES_PER_MINUTE` times a minute on
this machine and once per name every `MISS_SECONDS`; after it, names are matched
against what the catalog holds and nothing a person types costs a Zoho call.

Matching (and preparing the index it needs after the modules changed) runs in a worker thread:
it is C code called a slice at a time (see `matching.SLICE_WORK`), so between slices the event
loop gets the interpreter back, however long the text typed and however many the modules.

Where several instances may run, the walk is claimed and shared through the shared state
(`shared_catalog.py`): one instance walks, every instance matches against its result.
"""

from __future__ import annotations

import asyncio
import logging
import tomllib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.config import ConfigError
from bot.sessions.errors import NeedsAdmin, SessionsError, SignInsPaused
from bot.sessions.matching import MAX_QUERY_CHARS, MatchIndex, NotFound, Resolution, normalise
from bot.sessions.modules import ModuleId, ModuleRef
from bot.sessions.shared_catalog import SharedCatalog
from bot.sessions.source import ZohoSource
from bot.sessions.urgency import Need, Urgency
from bot.tenants.cache import TenantCache

log = logging.getLogger(__name__)

_DISCOVERED = "discovered"
_SEARCHED = "searched"
_WALK_CLAIM = "walk-claim"
_MISS = "miss:"
_VERSION = "version"
"""Changes whenever the known modules do, so each process rebuilds its index only then."""
MISS_SECONDS = 600
SEARCHES_PER_MINUTE = 3
"""Course searches while discovery is incomplete: a small share of the 25 calls a minute."""
_SEARCH_COUNT = "search-count:"
SEARCH_COURSE_LIMIT = 3
WALK_RETRY_SECONDS = 300


@dataclass(frozen=True)
class Discovered:
    modules: tuple[ModuleRef, ...]
    walked_at: float


def load_aliases(path: Path | None) -> list[ModuleRef]:
    """Read `BOT_MODULES_FILE`: `[[modules]]` tables with name, aliases, course, batch, module."""
    if path is None:
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"BOT_MODULES_FILE {path} could not be read: {exc}.") from None
    modules = []
    for index, entry in enumerate(data.get("modules", []), start=1):
        missing = [key for key in ("name", "course", "batch", "module") if not entry.get(key)]
        if missing:
            raise ConfigError(
                f"BOT_MODULES_FILE {path}: module #{index} lacks {', '.join(missing)}; "
                "each [[modules]] needs name, course, batch and module."
            )
        modules.append(
            ModuleRef(
                course_id=str(entry["course"]),
                batch_id=str(entry["batch"]),
                module_id=str(entry["module"]),
                name=str(entry["name"]),
                course_name=str(entry.get("course_name", "")),
                batch_name=str(entry.get("batch_name", "")),
                aliases=tuple(str(alias) for alias in entry.get("aliases", [])),
            )
        )
    return modules


class Catalog:
    """Known modules and the lookup people use; discovery fills it behind the scenes."""

    def __init__(
        self,
        source: ZohoSource,
        cache: TenantCache,
        clock: Clock,
        aliases: Iterable[ModuleRef] = (),
        refresh_seconds: float = 6 * 3600,
        shared: SharedCatalog | None = None,
    ) -> None:
        """`shared`: the walk claimed and shared with other instances (a PostgreSQL store)."""
        self._source = source
        self._shared = shared
        self._holder = uuid.uuid4().hex
        self._forgotten_at = 0.0
        """When this instance forgot the organisation: a shared walk older than that is of the last one."""
        self._cache = cache
        self._clock = clock
        self._aliases = list(aliases)
        self._refresh_seconds = refresh_seconds
        self._index: dict[str, ModuleRef] = {}
        self._index_version: object = None
        self._matcher: MatchIndex | None = None
        self._matcher_of: dict[str, ModuleRef] | None = None
        self._woken = asyncio.Event()

    def forget(self) -> None:
        """Zoho was disconnected: what was discovered belonged to that organisation (the next one
        connected may be another), so the next walk starts afresh."""
        self._cache.clear()
        self._index, self._index_version = {}, None
        self._forgotten_at = self._clock.time()

    def modules(self) -> list[ModuleRef]:
        """Aliased modules first (with names from Zoho where discovery knows them), then the rest."""
        return list(self._known().values())

    def module(self, module: ModuleId) -> ModuleRef | None:
        """A known module by its ids."""
        return self._known().get(module.key)

    def _known(self) -> dict[str, ModuleRef]:
        """Every known module by key, rebuilt only when discovery or a search has changed them."""
        version = self._cache.get(_VERSION)
        if version is None or version != self._index_version:
            self._index = self._merged()
            self._index_version = version
        return self._index

    def _matching(self) -> MatchIndex:
        """The known modules' names folded and ready to match: a menu asks on every keystroke, so
        they are prepared again only when the modules themselves were rebuilt (see `_known`)."""
        known = self._known()
        if self._matcher is None or self._matcher_of is not known:
            self._matcher, self._matcher_of = MatchIndex(known.values()), known
        return self._matcher

    def _merged(self) -> dict[str, ModuleRef]:
        found = {m.key: m for m in self._found()}
        merged: dict[str, ModuleRef] = {}
        for alias in self._aliases:
            known = found.get(alias.key)
            if known is None:
                merged[alias.key] = alias
                continue
            # Zoho's own name stays one of the module's names, so aliasing a module never
            # makes its Zoho name silently mean another module.
            extra = (known.name,) if known.name and known.name not in (alias.name, *alias.aliases) else ()
            merged[alias.key] = replace(
                alias,
                course_name=alias.course_name or known.course_name,
                batch_name=alias.batch_name or known.batch_name,
                aliases=alias.aliases + extra,
            )
        for key, module in found.items():
            merged.setdefault(key, module)
        return merged

    def walked_at(self) -> float | None:
        discovered = self._cache.get(_DISCOVERED)
        return discovered.walked_at if isinstance(discovered, Discovered) else None

    async def lookup(self, query: str, deadline: float | None) -> Resolution:
        """Resolve what a person typed; before the first walk has finished, a miss is tried
        with Zoho's course search (see the module's docstring for its bounds)."""
        query = query[:MAX_QUERY_CHARS]
        resolution = await asyncio.to_thread(self._resolve, query)
        if not isinstance(resolution, NotFound) or ModuleId.parse(query) is not None:
            return resolution
        if self.walked_at() is not None:
            return resolution
        miss = f"{_MISS}{normalise(query)}"
        if self._cache.get(miss, 0.0) > self._clock.time() or not self._may_search():
            return resolution
        try:
            added = await self._search(query, Need(Urgency.PERSON_WAITING, deadline))
        except (NeedsAdmin, SignInsPaused):
            raise  # the person must learn the connection needs an admin, not that nothing matched
        except SessionsError as exc:
            log.info("catalog search for %r failed: %s", query, exc)
            return resolution
        resolution = await asyncio.to_thread(self._resolve, query) if added else resolution
        if isinstance(resolution, NotFound):
            self._cache.set(miss, self._clock.time() + MISS_SECONDS, expire=MISS_SECONDS)
        return resolution

    async def suggest(self, query: str, limit: int) -> list[ModuleRef]:
        """Modules to offer while a person types (menus ask on every keystroke): from what the
        catalog holds, never a call to Zoho."""
        return await asyncio.to_thread(self._suggest, query, limit)

    def _resolve(self, query: str) -> Resolution:
        return self._matching().resolve(query)

    def _suggest(self, query: str, limit: int) -> list[ModuleRef]:
        return self._matching().suggest(query, limit)

    def _may_search(self) -> bool:
        """One more search this minute, counted atomically by every process on this disk."""
        bucket = f"{_SEARCH_COUNT}{int(self._clock.time() // 60)}"
        self._cache.add(bucket, 0, expire=120)
        return self._cache.incr(bucket) <= SEARCHES_PER_MINUTE

    def is_due(self) -> bool:
        walked = self.walked_at()
        return walked is None or self._clock.time() - walked >= self._refresh_seconds

    async def walk(self) -> int:
        """Discover every blended course's batches and modules; returns how many modules.

        Only one process walks at a time; the claim lapses if its walker dies.
        """
        if not self._cache.add(_WALK_CLAIM, True, expire=3600):
            log.info("catalog walk already running elsewhere")
            return len(self._found())
        try:
            if self._shared is not None and not await self._shared.claim_walk(self._holder):
                log.info("catalog walk already running on another instance")
                return len(self._found())
            try:
                modules = await self._walk()
            finally:
                if self._shared is not None:
                    await self._shared.release_walk(self._holder)
            # Thousands of modules take tens of milliseconds to read back and fold for matching:
            # in a worker thread after each walk (every few hours), not in the next lookup on the
            # event loop. The thread hands the GIL back to the loop every few milliseconds.
            await asyncio.to_thread(self._matching)
            log.info("catalog walk found %d modules", len(modules))
            return len(modules)
        finally:
            self._cache.delete(_WALK_CLAIM)

    async def _walk(self) -> list[ModuleRef]:
        need = Need(Urgency.BACKGROUND)
        modules = await self._walk_courses(await self._source.courses(need), need)
        walked = Discovered(tuple(modules), self._clock.time())
        self._cache.set(_DISCOVERED, walked)
        self._cache.set(_VERSION, uuid.uuid4().hex)
        if self._shared is not None:
            await self._shared.save(walked.modules, walked.walked_at)
        return modules

    async def take_shared(self) -> bool:
        """Take a walk another instance shared, if newer than what this one holds."""
        if self._shared is None:
            return False
        found = await self._shared.load()
        held = self.walked_at()
        if found is None or found[1] <= self._forgotten_at or (held is not None and found[1] <= held):
            return False
        self._cache.set(_DISCOVERED, Discovered(*found))
        self._cache.set(_VERSION, uuid.uuid4().hex)
        await asyncio.to_thread(self._matching)
        return True

    def seconds_until_due(self) -> float:
        walked = self.walked_at()
        if walked is None:
            return 0.0
        return max(0.0, walked + self._refresh_seconds - self._clock.time())

    async def keep_fresh(self) -> None:
        """Walk whenever the catalog is due, forever; failures wait and try again. `wake` cuts a
        wait short (Zoho was just connected)."""
        while True:
            await self.take_shared()
            if self.is_due():
                try:
                    await self.walk()
                except SessionsError as exc:
                    log.warning("catalog walk failed, next try in %d s: %s", WALK_RETRY_SECONDS, exc)
                    await self._rest(WALK_RETRY_SECONDS)
                    continue
            await self._rest(max(60.0, self.seconds_until_due()))

    def wake(self) -> None:
        """Walk now rather than after the current wait."""
        self._woken.set()

    async def _rest(self, seconds: float) -> None:
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        woken = asyncio.ensure_future(self._woken.wait())
        try:
            await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            woken.cancel()
            self._woken.clear()

    async def _search(self, query: str, need: Need) -> bool:
        courses = (await self._source.courses(need, search=query, blended_only=False))[:SEARCH_COURSE_LIMIT]
        modules = await self._walk_courses(courses, need)
        if not modules:
            return False
        searched = {m.key: m for m in self._cache.get(_SEARCHED, ())}
        searched.update({m.key: m for m in modules})
        self._cache.set(_SEARCHED, tuple(searched.values()))
        self._cache.set(_VERSION, uuid.uuid4().hex)
        return True

    async def _walk_courses(self, courses: list[dict[str, Any]], need: Need) -> list[ModuleRef]:
        modules: list[ModuleRef] = []
        for course in courses:
            course_id, course_name = _id_and_name(course, "course")
            if not course_id:
                continue
            for batch in await self._source.batches(course_id, need):
                batch_id, batch_name = _id_and_name(batch, "batch")
                if not batch_id:
                    continue
                for module in await self._source.modules(course_id, batch_id, need):
                    module_id, module_name = _id_and_name(module, "module")
                    if module_id:
                        modules.append(
                            ModuleRef(course_id, batch_id, module_id, module_name, course_name, batch_name)
                        )
        return modules

    def _found(self) -> list[ModuleRef]:
        discovered = self._cache.get(_DISCOVERED)
        walked = list(discovered.modules) if isinstance(discovered, Discovered) else []
        keys = {m.key for m in walked}
        return walked + [m for m in self._cache.get(_SEARCHED, ()) if m.key not in keys]


def _id_and_name(record: dict[str, Any], kind: str) -> tuple[str, str]:
    """Zoho's field names vary (`courseId` or `id`, `courseName` or `name`): accept each."""
    ident = record.get(f"{kind}Id") or record.get("id") or ""
    name = record.get(f"{kind}Name") or record.get("name") or ""
    return str(ident).strip(), str(name).strip()
