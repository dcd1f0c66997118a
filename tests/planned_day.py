"""A planned day for the scheduler, digest, reminder and trainer tests: sessions, subscriptions, ticks.

- `day_org()`: a small org in Europe/Paris with sessions across 10 March 2026
  and the next days; `T0` (05:00 UTC, 06:00 in Paris) is where the clock starts.
- `Plan`: who follows what, and from the planned sessions alone what must go out when.
- `Ticks`: drive `scheduler.tick()` on a FakeClock and remember which tick sent what.
- `tick_plan`: where a scenario ticks. The scheduler ticks every 30 s in production; a test jumps
  the clock from one due moment to the next (a digest's time, a reminder's, a restart, a lease
  lapsing, the end of Zoho's lock…) and ticks on the 30 s grid just around each: once before (so
  an early send is seen), at it, and twice after (a retry on the next tick, a send waiting for
  data). Between due moments nothing becomes due, so a tick there could only repeat the one
  before it; what a tick at every 30 s shows is shown once (`SCHEDULER_DAY_EVERY_TICK=1`).

The fixtures these tests use (`start_bot`, `database_url`…) are in `tests/conftest.py`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import Bot
from bot.scheduler import TickReport
from bot.sessions.modules import ModuleRef
from bot.store.scoped import TenantStore
from tests.clock import FakeClock
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho_data import Batch, Course, Module, Org, Trainer, make_session, zoho_id

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
"""Tuesday 10 March 2026, 06:00 in Paris (CET, UTC+1)."""
DAY = date(2026, 3, 10)
TICK = 30.0
BEFORE = timedelta(seconds=TICK)
"""`tick_plan` ticks this long before each due moment (one tick)..."""
AFTER = timedelta(seconds=2 * TICK)
"""...and until this long after it (two ticks)."""
SPARSE = 300.0
"""The tick spacing a test may ask of `Ticks.through` and `tick_plan` between due moments (none
unless asked: e.g. to count Zoho calls over an hour of ticks)."""

# --------------------------------------------------------------------------- a day of sessions

TRAINER_HENRY = Trainer(zoho_id(600001), "Henry", "Martin", "henry.martin@example.com")
TRAINER_NOBODY = Trainer(zoho_id(600002), "Nora", "Ghost", "nora.ghost@example.com")
"""A trainer with an e-mail no Slack user has."""


def module_ref(course: int, batch: int, module: int, name: str) -> ModuleRef:
    return ModuleRef(zoho_id(100000 + course), zoho_id(200000 + batch), zoho_id(300000 + module), name)


INDUCTION = module_ref(1, 1, 1, "Induction")
SAFETY = module_ref(1, 1, 2, "Site Safety")
TOOLS = module_ref(2, 2, 3, "Tools & Systems")
CULTURE = module_ref(3, 3, 4, "Company Culture")
WEEKEND = module_ref(3, 3, 5, "Weekend Club")
MODULES = (INDUCTION, SAFETY, TOOLS, CULTURE, WEEKEND)


@dataclass(frozen=True)
class PlannedSession:
    number: int
    module: ModuleRef
    name: str
    day: date
    at: str
    trainer: Trainer | None = None
    minutes: int = 60

    @property
    def session_id(self) -> str:
        return zoho_id(400000 + self.number)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.day, time.fromisoformat(self.at), tzinfo=PARIS).astimezone(UTC)


def _d(offset: int) -> date:
    return DAY + timedelta(days=offset)


SESSIONS = (
    PlannedSession(100, INDUCTION, "Welcome breakfast", _d(-1), "09:00", TRAINER_HENRY),
    PlannedSession(101, INDUCTION, "Company overview", _d(0), "09:00", TRAINER_HENRY),
    PlannedSession(102, INDUCTION, "Meet the team", _d(0), "14:00", TRAINER_NOBODY),
    PlannedSession(103, INDUCTION, "Benefits Q&A", _d(1), "10:00", TRAINER_HENRY),
    PlannedSession(201, SAFETY, "Fire drill", _d(0), "11:30"),
    PlannedSession(202, SAFETY, "First aid", _d(0), "18:00"),
    PlannedSession(203, SAFETY, "Evacuation walk", _d(2), "09:00"),
    PlannedSession(301, TOOLS, "Laptop setup", _d(0), "16:00"),
    PlannedSession(302, TOOLS, "Slack etiquette", _d(1), "08:00"),
    PlannedSession(303, TOOLS, "Expense tool", _d(1), "15:00"),
    PlannedSession(401, CULTURE, "Our values", _d(0), "15:00"),
    PlannedSession(402, CULTURE, "Evening stories", _d(0), "20:30"),
    PlannedSession(403, CULTURE, "Early-bird chat", _d(1), "05:30"),
    PlannedSession(501, WEEKEND, "Saturday hike", _d(4), "10:00"),
)


def session(number: int) -> PlannedSession:
    return next(s for s in SESSIONS if s.number == number)


def raw_session(planned: PlannedSession) -> dict[str, Any]:
    """The Zoho record: wall-clock time in the org's zone (Europe/Paris)."""
    local = planned.start.astimezone(PARIS).replace(tzinfo=None)
    trainer = planned.trainer
    return make_session(
        planned.session_id,
        planned.module.module_id,
        planned.name,
        local,
        planned.minutes,
        sessionTrainer=trainer.display_name if trainer else "",
        trainerErecno=trainer.erecno if trainer else "",
    )


def day_org() -> Org:
    """Three courses, three batches, five modules; Induction and Site Safety share a batch."""
    courses: dict[str, Course] = {}
    batches: dict[str, Batch] = {}
    for ref in MODULES:
        course = courses.setdefault(ref.course_id, Course(ref.course_id, f"Course of {ref.name}"))
        if ref.batch_id not in batches:
            batches[ref.batch_id] = Batch(ref.batch_id, f"Batch of {ref.name}")
            course.batches.append(batches[ref.batch_id])
        module = Module(ref.module_id, ref.name)
        module.sessions = [raw_session(s) for s in SESSIONS if s.module == ref]
        batches[ref.batch_id].modules.append(module)
    return Org(courses=list(courses.values()), trainers=[TRAINER_HENRY, TRAINER_NOBODY])


def reminder_key(user: str, planned: PlannedSession, start: datetime | None = None) -> str:
    return f"remind:{user}:{planned.session_id}:{int((start or planned.start).timestamp())}"


def digest_key(channel: str, day: date) -> str:
    """One digest per channel per day, whatever the times of its subscriptions."""
    return f"digest:{channel}:{day.isoformat()}"


# --------------------------------------------------------------------------- subscriptions

MINUTE = timedelta(minutes=1)
EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True)
class Sub:
    """A person's reminder: a module's sessions, or one session (a Remind me button)."""

    user: str
    module: ModuleRef
    lead: timedelta
    session: int | None = None

    def sessions(self) -> list[PlannedSession]:
        if self.session is not None:
            return [session(self.session)]
        return [s for s in SESSIONS if s.module == self.module]


@dataclass(frozen=True)
class ChannelDigest:
    channel: str
    modules: tuple[ModuleRef, ...]
    at: time
    weekdays: frozenset[int] = EVERY_DAY


@dataclass(frozen=True)
class Plan:
    """Who follows what; and, from the planned sessions alone, what must go out when."""

    subs: tuple[Sub, ...] = ()
    digests: tuple[ChannelDigest, ...] = ()

    async def subscribe(self, store: TenantStore, now: datetime = T0, zone: str = "Europe/Paris") -> None:
        for sub in self.subs:
            session_id = session(sub.session).session_id if sub.session else ""
            await store.save_reminder(sub.user, sub.module, sub.lead, now, session_id)
        for digest in self.digests:
            for module in digest.modules:
                await store.save_digest(digest.channel, module, digest.at, digest.weekdays, zone, "UANA", now)

    def prepare_slack(self, fake: FakeSlack) -> None:
        for user in sorted({sub.user for sub in self.subs} | {"UANA"}):
            fake.add_user(user, user.lower(), tz="Europe/Paris")
        for digest in self.digests:
            fake.add_channel(digest.channel, digest.channel.lower())

    def expected_digests(self, start: datetime = T0, end: datetime = T0 + timedelta(days=1)) -> Due:
        """key -> (channel, due) for digests whose Paris wall-clock moment falls in [start, end)."""
        expected = {}
        for digest in self.digests:
            local = start.astimezone(PARIS).date()
            while (moment := datetime.combine(local, digest.at, tzinfo=PARIS)) < end:
                key = digest_key(digest.channel, local)
                earlier = key in expected and expected[key][1] <= moment
                if moment >= start and local.weekday() in digest.weekdays and not earlier:
                    expected[key] = (digest.channel, moment)
                local += timedelta(days=1)
        return expected

    def expected_reminders(self, start: datetime = T0, end: datetime = T0 + timedelta(days=1)) -> Due:
        """key -> (user, due): due at `start - lead`, or at `start` of the run when that passed
        before it; one per person and session (the earliest)."""
        expected: Due = {}
        for sub in self.subs:
            for planned in sub.sessions():
                if planned.start > start and planned.start - sub.lead < end:
                    due = max(planned.start - sub.lead, start)
                    key = reminder_key(sub.user, planned)
                    if key not in expected or due < expected[key][1]:
                        expected[key] = (sub.user, due)
        return expected


Due = dict[str, tuple[str, datetime]]

DAY_PLAN = Plan(
    subs=(
        Sub("UANA", INDUCTION, 15 * MINUTE),
        Sub("UBEN", SAFETY, 60 * MINUTE),
        Sub("UCHLOE", TOOLS, timedelta(days=1)),
        Sub("UDAN", CULTURE, 15 * MINUTE),
        Sub("UDAN", CULTURE, 15 * MINUTE, session=401),  # Remind me on a session already followed
        Sub("UEVE", CULTURE, 15 * MINUTE, session=402),  # Remind me only
    ),
    digests=(
        ChannelDigest("CTRAINING", (INDUCTION, SAFETY), time(8)),  # two modules, one message
        ChannelDigest("CTOOLS", (TOOLS,), time(12, 30), frozenset(range(5))),
        ChannelDigest("CCULTURE", (CULTURE,), time(19, 45)),
        ChannelDigest("CWEEKEND", (WEEKEND,), time(9), frozenset({5, 6})),
    ),
)
"""The simulated day: 3 digests due (the weekend one is not), 11 reminders."""


# --------------------------------------------------------------------------- ticking


@dataclass
class Ticks:
    """Which tick (by fake time) sent, skipped or failed what, across one or several bots."""

    clock: FakeClock
    sent: defaultdict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    skipped: defaultdict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    failed: defaultdict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    leaders: list[tuple[datetime, list[str]]] = field(default_factory=list)
    count: int = 0

    def record(self, now: datetime, report: TickReport) -> None:
        for key in report.sent:
            self.sent[key].append(now)
        for key in report.skipped:
            self.skipped[key].append(now)
        for key in report.failed:
            self.failed[key].append(now)

    async def tick(self, *bots: Bot) -> list[TickReport]:
        """Every bot ticks once at the current fake time; the clock does not move."""
        now = self.clock.now()
        reports = []
        for bot in bots:
            report = await bot.scheduler.tick()
            self.record(now, report)
            reports.append(report)
        self.leaders.append(
            (now, [b.scheduler.holder for b, r in zip(bots, reports, strict=True) if r.leader])
        )
        self.count += 1
        return reports

    async def run(self, *bots: Bot, until: datetime, step: float = TICK) -> None:
        """Tick, then move the clock `step` seconds, while the clock is before `until`."""
        while self.clock.now() < until:
            await self.tick(*bots)
            self.clock.advance(step)

    async def run_at(self, *bots: Bot, moments: Iterable[datetime]) -> None:
        """Set the clock to each moment in turn (never backwards) and tick there."""
        for moment in moments:
            assert moment >= self.clock.now(), "the clock never goes back"
            self.clock.set(moment)
            await self.tick(*bots)

    async def through(
        self, *bots: Bot, until: datetime, busy: Iterable[datetime] = (), sparse: float | None = None
    ) -> None:
        """Like `run`, but only from the current moment, then around each `busy` moment (see
        `tick_plan`), and every `sparse` seconds if given; the clock ends at `until`."""
        start = self.clock.now()
        if self.leaders and self.leaders[-1][0] >= start:
            start += timedelta(seconds=TICK)
        await self.run_at(*bots, moments=tick_plan(start, until, busy, sparse))
        self.clock.set(until)

    def first_sent(self, key: str) -> datetime | None:
        times = self.sent.get(key)
        return times[0] if times else None


def within_one_tick(sent_at: datetime | None, due: datetime) -> bool:
    return sent_at is not None and due <= sent_at < due + timedelta(seconds=TICK)


def tick_plan(
    start: datetime,
    end: datetime,
    busy: Iterable[datetime],
    sparse: float | None = None,
    before: timedelta = BEFORE,
    after: timedelta = AFTER,
) -> list[datetime]:
    """Tick moments in [start, end) on the 30 s grid from `start`: `start` itself, every grid
    moment from `before` each busy (due) moment to `after` it, and every `sparse` seconds if
    given. The clock jumps over the rest: a tick costs a few store round trips, and between due
    moments nothing becomes due."""
    step = timedelta(seconds=TICK)
    count = math.ceil((end - start) / step)
    indexes = {0} if count > 0 else set()
    for moment in busy:
        first = max(0, math.ceil((moment - before - start) / step))
        last = min(count - 1, math.floor((moment + after - start) / step))
        indexes.update(range(first, last + 1))
    if sparse is not None:
        indexes.update(range(0, count, round(sparse / TICK)))
    return [start + index * step for index in sorted(indexes)]


def reads_at_most(moments: Iterable[datetime], fresh_for: timedelta) -> int:
    """How often one batch can be read on ticks at `moments` if it is read only once its data is
    `fresh_for` old: the greatest number of ticks at least `fresh_for` apart (earliest first)."""
    count, last = 0, None
    for moment in sorted(moments):
        if last is None or moment - last >= fresh_for:
            count, last = count + 1, moment
    return count


@dataclass
class Tally:
    due: int
    sent: int
    duplicated: int
    missed: int
    unexpected: list[str]

    def line(self) -> str:
        return f"due {self.due}, sent {self.sent}, duplicated {self.duplicated}, missed {self.missed}"


def tally(expected: Due, ticks: Ticks, prefix: str, posts: Counter[str]) -> Tally:
    """Sent = by the first tick at or after its due time. Duplicates are counted twice over: keys
    reported sent more than once, and posts on the wire beyond what each target should get."""
    on_time = sum(1 for key, (_, due) in expected.items() if within_one_tick(ticks.first_sent(key), due))
    wanted = Counter(target for target, _ in expected.values())
    wire_extra = sum(max(0, posts[target] - wanted[target]) for target in set(posts) | set(wanted))
    key_extra = sum(len(times) - 1 for key, times in ticks.sent.items() if key.startswith(prefix))
    unexpected = sorted(key for key in ticks.sent if key.startswith(prefix) and key not in expected)
    return Tally(len(expected), on_time, max(wire_extra, key_extra), len(expected) - on_time, unexpected)


def posts_by_target(fake: FakeSlack) -> tuple[Counter[str], Counter[str]]:
    """Accepted chat.postMessage calls: (per channel, per person DM'd)."""
    posts = [c.args["channel"] for c in fake.calls_to("chat.postMessage", ok=True)]
    return Counter(p for p in posts if p.startswith("C")), Counter(p for p in posts if p.startswith("U"))
