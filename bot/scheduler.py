"""The tick loop: exactly one leader at a time asks each feature what to send, and it sends,
for every tenant.

Every tick (30 s) the instance that holds the lease in the store gathers the
subscriptions, has the refresh planner fetch what the features say their sends
need and what they follow (within Zoho's budgets), and lets the change notices,
digest and reminder features send what is due (each send claimed in the store
first, so nothing goes out twice). Once a day it forgets sends too old to matter.
The lease's renewal also says whether the subscriptions or the changes found
moved since the last tick (`store.lease.Marks`), so a quiet tick is one
statement: nothing due, nothing stale, nothing read again.

Each tenant's part of a tick is its `TenantRound`. The rounds of a tick run side by side,
a few at a time, so one tenant's 500 due sends (or its slow Zoho) holds back no other
tenant's reminders; each round plans within its own organisation's budgets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import metrics
from bot.clock import Clock
from bot.features.digests.send import DigestSender
from bot.features.notices.send import NoticeSender
from bot.features.outbox import SendReport
from bot.features.reminders.send import ReminderSender
from bot.logs import tenant_context
from bot.sessions.modules import ModuleRef
from bot.sessions.planner import RefreshPlanner
from bot.store.lease import Marks
from bot.store.records import Digest, Reminder
from bot.store.scoped import TenantStore
from bot.store.store import Store

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0
LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=90)
"""A crashed leader's lease lapses after this; another instance takes over."""
KEEP_SENDS = timedelta(days=14)
"""Send records (and changes found) older than this are deleted by the daily housekeeping."""


ROUNDS_AT_ONCE = 16
"""Tenants whose rounds run side by side in one tick: each sends with its own token to its own
workspace, so they do not compete for Slack's limits; bounded so a thousand tenants do not open
a thousand database connections at once."""


@dataclass
class TickReport(SendReport):
    leader: bool = False


@dataclass(frozen=True)
class Observed:
    """What a round saw, for the leader's gauges (summed over tenants, never labelled by one)."""

    paused_digests: int
    paused_reminders: int
    ages: list[float | None]


class TenantRound:
    """One tenant's part of a tick: plan its reads, detect its changes, send what is due."""

    def __init__(
        self,
        store: TenantStore,
        planner: RefreshPlanner,
        digests: DigestSender,
        reminders: ReminderSender,
        notices: NoticeSender,
        data_age: Callable[[ModuleRef], float | None],
    ) -> None:
        """`data_age`: seconds since a module's data was read (None: never), for the metrics."""
        self.store = store
        self._planner = planner
        self._digests = digests
        self._reminders = reminders
        self._notices = notices
        self._data_age = data_age
        self._subscriptions: tuple[str, list[Digest], list[Reminder]] | None = None
        """The subscriptions as last read, with the mark they were read under."""

    def lost_lead(self) -> None:
        """Another instance leads: read the subscriptions afresh when this one does."""
        self._subscriptions = None

    async def run(self, now: datetime, marks: Marks, report: SendReport) -> Observed:
        with tenant_context(self.store.tenant.id):
            return await self._run(now, marks, report)

    async def _run(self, now: datetime, marks: Marks, report: SendReport) -> Observed:
        self.store.watches.expect(marks.changes)
        try:
            digests, reminders = await self._subscriptions_as_of(marks)
            due = await self._digests.due(digests, now, report)
            followed = self._digests.followed(digests) + self._reminders.followed(digests, reminders)
            await self._planner.run(
                needed=self._digests.needed(due) + self._reminders.needed(digests, reminders, now),
                followed=followed,
            )
            await self._notices.send(digests, reminders, now, report)
            for entry in due:
                await self._digests.send(entry, now, report)
            await self._reminders.send_due(digests, reminders, now, report)
            return self._observe(digests, reminders, followed)
        finally:
            self.store.watches.expect(None)

    async def _subscriptions_as_of(self, marks: Marks) -> tuple[list[Digest], list[Reminder]]:
        """The digests and reminders, read again only when their mark moved (any instance's
        change, or a pause a sender made last tick, moves it)."""
        if self._subscriptions is None or self._subscriptions[0] != marks.subscriptions:
            digests, reminders = await self.store.digests(), await self.store.reminders()
            self._subscriptions = (marks.subscriptions, digests, reminders)
        _, digests, reminders = self._subscriptions
        return list(digests), list(reminders)

    def _observe(
        self, digests: list[Digest], reminders: list[Reminder], followed: list[ModuleRef]
    ) -> Observed:
        unique = {module.key: module for module in followed}
        return Observed(
            sum(1 for d in digests if d.paused_reason),
            sum(1 for r in reminders if r.paused_reason),
            [self._data_age(module) for module in unique.values()],
        )


Rounds = Callable[[Marks | None], Awaitable[Sequence[TenantRound]]]
"""The rounds of the tenants with work this tick, given the lease's marks (one in the
single-workspace mode); with None (another instance leads) the rounds this process holds."""


class Scheduler:
    def __init__(self, root: Store, rounds: Rounds, clock: Clock, holder: str) -> None:
        """`root` holds the lease and forgets old rows."""
        self._root = root
        self._rounds = rounds
        self._clock = clock
        self.holder = holder
        self._swept_at: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set; one failed tick never stops the loop."""
        try:
            while not stop.is_set():
                started = self._clock.time()
                try:
                    await self.tick()
                except Exception:
                    log.exception("scheduler tick failed")
                pause = max(1.0, TICK_SECONDS - (self._clock.time() - started))
                sleeper = asyncio.ensure_future(self._clock.sleep(pause))
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
                for task in (sleeper, stopper):
                    task.cancel()
        finally:
            with contextlib.suppress(Exception):
                await self._root.release_lease(LEASE_NAME, self.holder)

    async def tick(self) -> TickReport:
        """Renew the lease and, leading, run every tenant's round. The renewal's marks say whether
        the subscriptions or the changes found moved since the last tick: a tick in which nothing
        is due and nothing is stale asks the store nothing more."""
        now = self._clock.now()
        report = TickReport()
        metrics.SCHEDULER_LAST_TICK.set(self._clock.time())
        marks = await self._root.lead(LEASE_NAME, self.holder, now, LEASE_TTL)
        report.leader = marks is not None
        metrics.SCHEDULER_LEADER.set(int(report.leader))
        rounds = await self._rounds(marks)
        if marks is None:
            for tenant_round in rounds:
                tenant_round.lost_lead()
            return report
        await self._housekeeping(now)
        gate = asyncio.Semaphore(ROUNDS_AT_ONCE)

        async def one(tenant_round: TenantRound) -> Observed | None:
            async with gate:
                try:
                    return await tenant_round.run(now, marks, report)
                except Exception:
                    log.exception("scheduler round of tenant %s failed", tenant_round.store.tenant)
                    return None

        seen = await asyncio.gather(*(one(tenant_round) for tenant_round in rounds))
        _observe([observed for observed in seen if observed is not None])
        return report

    async def _housekeeping(self, now: datetime) -> None:
        """Once a day, forget sends too old to matter, so the table does not grow forever."""
        if self._swept_at is not None and now - self._swept_at < timedelta(days=1):
            return
        removed = await self._root.forget_before(now - KEEP_SENDS)
        self._swept_at = now
        if removed:
            log.info("forgot %d sends and session changes older than %s", removed, KEEP_SENDS)


def _observe(seen: list[Observed]) -> None:
    """The leader's gauges: paused subscriptions, and how old the followed modules' data is."""
    metrics.PAUSED_SUBSCRIPTIONS.labels("digest").set(sum(o.paused_digests for o in seen))
    metrics.PAUSED_SUBSCRIPTIONS.labels("reminder").set(sum(o.paused_reminders for o in seen))
    ages = [age for o in seen for age in o.ages]
    held = sorted(age for age in ages if age is not None)
    metrics.FOLLOWED_WITHOUT_DATA.set(len(ages) - len(held))
    metrics.FOLLOWED_DATA_AGE.labels("oldest").set(held[-1] if held else 0)
    metrics.FOLLOWED_DATA_AGE.labels("median").set(statistics.median(held) if held else 0)
