"""What to fetch from Zoho next, within the call budgets: the planner the scheduler runs each tick.

Order: data a due digest or reminder needs; then modules people look at: those
looked up `HOT_LOOKUPS` times within `HOT_SECONDS` (read before the next lookup
finds them old), and any whose last lookup (not a lone one: `Asked.warm`) found
its data old and whose refresh behind that answer the budget put off (a queued
refresh), the most looked-up
first; then followed modules (and those looked up within the day), a batch at a
time, once the batch's oldest data passes an age: the freshness window when a
share of the day's allowance (`FOLLOWED_SHARE`) keeps every such batch that
fresh, longer when it cannot (change notices alone need data nobody looks at),
but at most `FOLLOWED_AGE` while people are looking (a lookup within
`LOOKING_SECONDS`), so a module looked up now and then is not hours old; never
read first, then the oldest. Only data older than the freshness setting
(`BOT_FRESHNESS_MINUTES`) is wanted, and none of a module Zoho has lately
answered 404 for (`SessionService.gone`). Modules of one batch are one batch
fetch (one paged call for all of them) when that costs no more than reading
them one by one, and it takes the batch's other followed modules along.

Budgets (`source.Room`'s policy): the background share of this minute's calls
and of the day's. Every fetch fits what is left this minute (what does not waits
for a later tick, needed data first again), so a tick never waits on the budget;
data due sends need may use all of the day; lookups' data is paced over what is
left of the day and leaves the sends' reserve alone; followed data also leaves
part of the hour's pace to lookups. The planner reads the room once a tick, and
not at all when nothing is wanted. When the budgets cannot keep followed data
fresh the planner says so once, with the figures, and again only after it has
caught up.

When every read of a tick fails (Zoho down, not a module gone), the planner
rests before trying again, 1, 2, 4, then at most 8 minutes, so an outage costs a
few calls an hour rather than a few every tick; the first read that works ends it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.sessions.modules import ModuleRef
from bot.sessions.service import FOLLOWED_AGE, Asked, SessionService
from bot.sessions.source import Room, Want, ZohoSource
from bot.sessions.urgency import Need, Urgency

log = logging.getLogger(__name__)

REFRESH_SECONDS = 120.0
"""A paged fetch longer than estimated may wait this long for its later pages rather than lose them."""
REST_SECONDS = (60.0, 120.0, 240.0, 480.0)
"""How long the planner waits after the 1st, 2nd, 3rd, 4th and later ticks whose every read failed."""
HOT_LOOKUPS = 3
"""Lookups of a module within `HOT_SECONDS` that make it worth reading before the next one: a
module looked up that often is likely looked up again within the freshness window."""
HOT_SECONDS = 1800.0
LOOKING_SECONDS = 3600.0
"""People are looking when a lookup came within this long."""
FOLLOWED_SHARE = 0.5
"""Of what the day has left spread evenly over a day, the share reads of followed data nobody is
looking at may take: with a few followed modules that keeps them within the freshness window;
with many, it stretches their age (about three hours for the benchmark's 200 modules at night)."""


@dataclass(frozen=True)
class Unit:
    """One fetch: a single module, or several modules of one batch read with the batch endpoint."""

    modules: tuple[ModuleRef, ...]
    calls: int


@dataclass
class Plan:
    """What a tick decided: the units to fetch (a fetch may still fail), and what waits for budget."""

    chosen: list[Unit] = field(default_factory=list)
    deferred: list[Unit] = field(default_factory=list)

    @property
    def deferred_calls(self) -> int:
        return sum(unit.calls for unit in self.deferred)


class RefreshPlanner:
    def __init__(self, sessions: SessionService, source: ZohoSource, clock: Clock) -> None:
        self._sessions = sessions
        self._source = source
        self._clock = clock
        self._behind = False
        self._failed_ticks = 0
        self._resting_until = 0.0

    async def run(self, needed: list[ModuleRef], followed: list[ModuleRef]) -> Plan:
        """Fetch what is due within the budgets; `needed` by due sends, `followed` by any subscription.

        The budget is read once, and only when something is wanted: a quiet tick costs nothing."""
        if self._clock.time() < self._resting_until:
            return Plan()
        asked = self._sessions.asked()
        batches = self._followed_batches(followed + [entry.module for entry in asked])
        tiers = [self._stale(needed), self._looked_at(asked)]
        old = any(not self._sessions.is_fresh(m) for modules in batches.values() for m in modules)
        room = await self._source.background_room() if any(tiers) or old else None
        if room is not None:
            tiers.append(self._followed(batches, asked, room))
        units = _units(tiers, self._sessions, along=batches)
        plan = Plan()
        for whole, want in units:
            for unit in self._parts(whole, room):
                if room is not None and room.fits(unit.calls, want):
                    plan.chosen.append(unit)
                    room = room.less(unit.calls)
                else:
                    plan.deferred.append(unit)
        if plan.chosen:
            need = Need(Urgency.BACKGROUND, self._clock.time() + REFRESH_SECONDS)
            chosen = [m for unit in plan.chosen for m in unit.modules]
            failed = await self._sessions.refresh(chosen, need)
            self._rest_if_all_failed(chosen, failed)
        self._report(plan, room)
        return plan

    def _parts(self, unit: Unit, room: Room | None) -> list[Unit]:
        """The batch read whole when a whole minute's room could ever hold it; else its modules one
        by one, so a batch too big for one minute (50 modules never read) is still read, a minute's
        room at a time, instead of waiting for ever."""
        if len(unit.modules) == 1 or room is None or unit.calls <= room.per_minute:
            return [unit]
        return [Unit((module,), self._sessions.estimated_calls([module])) for module in unit.modules]

    def _rest_if_all_failed(self, chosen: list[ModuleRef], failed: list[ModuleRef]) -> None:
        unavailable = [module for module in failed if not self._sessions.gone(module)]
        if not unavailable or len(failed) < len(chosen):
            self._failed_ticks = 0
            return
        pause = REST_SECONDS[min(self._failed_ticks, len(REST_SECONDS) - 1)]
        self._failed_ticks += 1
        self._resting_until = self._clock.time() + pause
        log.warning("planner: every read failed (%d module(s)); next reads in %.0f s", len(failed), pause)

    def _stale(self, modules: list[ModuleRef]) -> list[ModuleRef]:
        """Stale here: `refresh` then takes what another instance fetched meanwhile, without a call.
        A gone module is never wanted: asking again would cost a call for the same 404."""
        return [
            module
            for module in _unique(modules)
            if not self._sessions.is_fresh(module) and not self._sessions.gone(module)
        ]

    def _looked_at(self, asked: list[Asked]) -> list[ModuleRef]:
        """Old modules looked up `HOT_LOOKUPS` times lately, or warm (`Asked.warm`) and looked up
        since their data went old (a refresh behind that answer was put off): the most looked-up
        first."""
        now = self._clock.time()
        wanted = []
        for entry in asked:
            lookups = sum(1 for at in entry.times if at > now - HOT_SECONDS)
            age = self._sessions.age(entry.module)
            found_old = entry.warm and (age is None or entry.times[-1] >= now - age + self._sessions.ttl)
            if lookups >= HOT_LOOKUPS or found_old:
                wanted.append((lookups, entry.module))
        wanted.sort(key=lambda pair: -pair[0])
        return self._stale([module for _, module in wanted])

    def _followed_batches(self, followed: list[ModuleRef]) -> dict[tuple[str, str], list[ModuleRef]]:
        """Followed modules (and those looked up lately, kept with them) by batch, none gone."""
        by_batch: dict[tuple[str, str], list[ModuleRef]] = {}
        for module in _unique(followed):
            if not self._sessions.gone(module):
                by_batch.setdefault((module.course_id, module.batch_id), []).append(module)
        return by_batch

    def _followed(
        self, batches: dict[tuple[str, str], list[ModuleRef]], asked: list[Asked], room: Room
    ) -> list[ModuleRef]:
        """The old modules of each batch whose oldest data passed `_followed_age` (a batch read
        takes the others along); never read first, then the oldest batch first."""
        limit = self._followed_age(batches, asked, room)
        oldest = {batch: max(self._age(m) for m in modules) for batch, modules in batches.items()}
        due = sorted((batch for batch in batches if oldest[batch] >= limit), key=lambda b: -oldest[b])
        return self._stale([module for batch in due for module in batches[batch]])

    def _followed_age(
        self, batches: dict[tuple[str, str], list[ModuleRef]], asked: list[Asked], room: Room
    ) -> float:
        """How old followed data may grow: the freshness window when reading every followed batch
        that often fits `FOLLOWED_SHARE` of an even pace over what is left of the day; longer when it
        does not (change notices alone need it), but at most `FOLLOWED_AGE` while people look."""
        every = [module for modules in batches.values() for module in modules]
        calls = sum(unit.calls for unit, _ in _units([every], self._sessions))
        affordable = room.seconds_to_spend(calls, FOLLOWED_SHARE)
        now = self._clock.time()
        if any(entry.times[-1] > now - LOOKING_SECONDS for entry in asked):
            affordable = min(affordable, FOLLOWED_AGE)
        return max(self._sessions.ttl, affordable)

    def _age(self, module: ModuleRef) -> float:
        age = self._sessions.age(module)
        return age if age is not None else float("inf")

    def _report(self, plan: Plan, room: Room | None) -> None:
        if plan.deferred and room is not None and not self._behind:
            self._behind = True
            modules = sum(len(unit.modules) for unit in plan.deferred)
            log.warning(
                "planner: %d followed module(s) older than %d min wait for budget: they need about %d "
                "call(s); %d background call(s) are left this minute and %d today (of %d a day)",
                modules,
                round(self._sessions.ttl / 60),
                plan.deferred_calls,
                room.minute,
                room.day,
                self._source.background_day_limit(),
            )
        elif not plan.deferred and self._behind:
            self._behind = False
            log.info("planner: followed modules are within %d min again", round(self._sessions.ttl / 60))


def _unique(modules: list[ModuleRef]) -> list[ModuleRef]:
    return list({module.key: module for module in modules}.values())


WANTS = (Want.DUE_SENDS, Want.LOOKUPS, Want.FOLLOWED)
"""Whose data each tier of the plan is."""


def _units(
    tiers: list[list[ModuleRef]],
    sessions: SessionService,
    along: dict[tuple[str, str], list[ModuleRef]] | None = None,
) -> list[tuple[Unit, Want]]:
    """Fetch units in priority order, a batch's wanted modules gathered into its first unit
    (read one by one instead when that costs fewer calls); each with whose data it is.
    A batch read takes `along` the batch's other modules (the followed ones): the call is the same."""
    seen: set[str] = set()
    by_batch: dict[tuple[str, str], list[ModuleRef]] = {}
    order: list[tuple[tuple[str, str], Want]] = []
    for rank, tier in enumerate(tiers):
        for module in tier:
            if module.key in seen:
                continue
            seen.add(module.key)
            batch = (module.course_id, module.batch_id)
            if batch not in by_batch:
                by_batch[batch] = []
                order.append((batch, WANTS[rank]))
            by_batch[batch].append(module)
    units = []
    for batch, want in order:
        modules = by_batch[batch]
        whole = Unit(tuple(modules), sessions.estimated_calls(modules))
        singles = [Unit((module,), sessions.estimated_calls([module])) for module in modules]
        if len(modules) == 1 or sum(unit.calls for unit in singles) < whole.calls:
            units += [(unit, want) for unit in singles]
            continue
        wanted = {module.key for module in modules}
        extra = [module for module in (along or {}).get(batch, []) if module.key not in wanted]
        units.append((Unit((*modules, *extra), whole.calls), want))
    return units
