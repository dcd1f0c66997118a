"""Many tenants on one deployment: 1 to 1,000 installed workspaces, on one and two instances.

    .venv/bin/python -m bench.tenants --record      # every size on 1 and 2 instances; writes RESULTS.md
    .venv/bin/python -m bench.tenants --sizes 1,100 --instances 1   # a narrower run: prints only

Each tenant is a Slack workspace of the fake Slack with the app installed, 5 people and 2
channels, connected to its own Zoho People organisation on the fake Zoho (its own data,
`Company`, refresh token, call budget and lock): 20 modules in 2 batches (`large_org`, one
course, 30 to 60 sessions a batch from 30 days back to 60 ahead, Europe/Paris), with no session
today or tomorrow but three placed so that all of a tenant's sends fall due at 09:30: a session
at 09:45 (two people reminded 15 minutes ahead), one at 10:30 (two reminded an hour ahead), one
tomorrow at 09:30 (one reminded a day ahead), and two channel digests at 09:30 on weekdays (two
modules each, one of them with a session today). 7 sends a tenant at the same quarter hour:
7,000 for 1,000 tenants.

Set up directly, not through the browser flows (1,000 of those would be the whole run): each
installation is written to the installation store (`async_save`, with a bot token the fake
Slack issued, `issue_token`); each Zoho connection and its organisation's settings to the
tenant's store (`save_connection`, `save_org_settings`, as the connect flow's `_connected`
writes them, with the refresh token of the organisation's `add_organisation`); the digests and
reminders through each `TenantStore` (`save_digests`, `save_reminder`). Each instance then
walks each tenant's catalog once (what `serve_fleet`'s background discovery does), over HTTP
to the fake Zoho. Over real HTTP from then on: every command (a signed `/sessions` POSTed to an
instance's `/slack/events`, the instances taking turns), the `app_uninstalled` event, every
Zoho read and token request (to the fake Zoho), every send and Slack call of the bot (to the
fake Slack).

The day, Tuesday 10 March 2026. The first tick comes 5 minutes before the simulated span;
every instance ticks every 30 s in a loop of its own, as `Scheduler.run` does (a tick longer
than 30 s is followed by the next 1 s after it ends); with two, they tick 15 s apart. The span
is the working hour, 09:00 to 10:00, for up to 100 tenants, and 09:22 to 09:34 for more (the
hour's ticks cost a thousand tenants about half an hour of real time; `--full-hour` runs it
all): its commands are 20 a tenant an hour (at least 600 in a run, so that one tenant's
percentiles mean something; at most `--max-commands`, 2,000: 1,000 tenants get 10 an hour,
half the rate), spread over the tenants by Zipf (s = 1.1, the first tenant the busiest) and
within a tenant over its modules by Zipf; 98% are `/sessions <module name>`, 2% `/sessions
remind <module> 1h` of a module with no session today or tomorrow (a new subscription: it moves
the scheduler's marks but falls due after the run). A minute of ticks follows the span, then
the busiest tenant uninstalls the app.

The clock is injected (`FlowingClock`): from the last moment the bench set, it runs at real
speed, so a tick or a command that takes real seconds takes them on the bot's clock too (a
send is late when the work before it is slow), and `sleep` waits until the clock gets there
(set by the bench, or flowing) instead of moving it (one tenant waiting for its Zoho budget
does not move every tenant's clock). The bench sends the commands due before the next tick,
one at a time, each awaited to its answer and to the work it left behind; then sets the clock
to the tick and waits for it. So a tick's figures are its own, and an acknowledgement measures
a request's own cost, not that of a tick running beside it in the same event loop.

Measured:
- ack: real time from POSTing a command to `/slack/events` to its HTTP answer (the answer
  itself when ready within 2 s, else a placeholder and the answer through response_url);
- sends due (from the plan), sent (a post to the fake Slack labelled with the send key), late
  (the post reached Slack more than 60 s after due, on the bot's clock), duplicated (posts of a
  key beyond its first);
- each organisation's Zoho calls in any 60 s (the fake's record, on the bot's clock), the most
  of any organisation, against ZOHO_CALLS_PER_MINUTE;
- ticks: database round trips (each instance's connections go through a counting proxy of its
  own, `bench.tick.CountingProxy`, run in a separate process so it takes no time from the bot's
  event loop), statements (SQLAlchemy's `before_cursor_execute`, counted in the tick's own
  tasks) and milliseconds (through the proxy; `--no-proxy` for none). Quiet ticks: after the
  warm-up, before the span, ticks in which no Zoho call was made and nothing sent. The busy
  tick: the leader's first tick at or after 09:30;
- full garbage collections from the first tick on, and the longest: the fakes' organisations
  are frozen out of the collector (`gc.freeze`) before the instances open;
- peak RSS of the process (`ru_maxrss`: instances and fakes; the fakes' records are read and
  dropped as the run goes), before the instances opened, and its growth per 100 tenants
  from one size to the next;
- time from POSTing the signed `app_uninstalled` to no installation row and no row in any of
  the store's tables of that tenant (`Store.tenant_ids`).

Each run is a process of its own (its own peak RSS), one after another, on one PostgreSQL
server (`tests/store/postgres.py`), a new database each. Two instances share that process and
its event loop (one core between them): they are two fleets, with their own data folders,
HTTP servers and engines, on one database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import gc
import itertools
import json
import logging
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiohttp import web
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.day import machine, most_in_any, percentile, zipf
from bench.tick import Counters, CountingProxy
from bot.config import load_settings
from bot.features.connect.service import CONNECTION
from bot.fleet import Fleet, open_fleet
from bot.sessions.modules import ModuleRef
from bot.slack.distribution import BOT_SCOPES
from bot.slack.server import Probes, start_http, web_app
from bot.store.connections import OrgSettingsRecord
from bot.store.records import Schedule
from bot.tenants.tenant import Tenant
from bot.zoho.client import RetryPolicy
from bot.zoho.orgsettings import strptime_format
from tests.conftest import module_refs
from tests.fakes.signing import JSON_CONTENT_TYPE, app_uninstalled_payload, signed_headers, slash_command_body
from tests.fakes.slack import APP_ID, FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, OrgSettings, large_org, make_session, parse_stored_date, zoho_id
from tests.store import postgres

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 3, 10)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, wall_time(hour, minute), PARIS)


HOUR_START, HOUR_END = at(9), at(10)
DUE = at(9, 30)
"""When every tenant's digests and reminders fall due."""
SLICE = (at(9, 22), at(9, 34))
"""The part of the hour simulated for more than `FULL_HOUR_UP_TO` tenants."""
FULL_HOUR_UP_TO = 100
BEFORE = timedelta(minutes=5)
"""The first tick comes this long before the span: warm-up, quiet ticks. Every tenant's followed
data is read in it, so every 10 minutes (BOT_FRESHNESS_MINUTES) a tick reads it all again: 09:05,
09:15... for the hour, 09:27 for the slice, never at 09:30 itself."""
SETUP = timedelta(minutes=5)
"""Setup starts this long before the first tick, which waits for it (the clock is then set to the
first tick, so the timeline does not depend on how long setup took)."""
AFTER = timedelta(minutes=1)
"""Ticks after the span, for answers and sends still under way."""
TICK = 30.0
LATE = 60.0
QUIET_TICKS = 4

SIZES = (1, 10, 100, 1000)
INSTANCES = (1, 2)
BATCHES, MODULES_PER_BATCH, SESSIONS_PER_BATCH = 2, 10, (30, 60)
USERS, CHANNELS = 5, 2
COMMANDS_PER_TENANT, FEWEST_COMMANDS, MOST_COMMANDS = 20, 600, 2000
"""A tenant's commands in an hour; in a run, at least and at most (`--max-commands`)."""
REMIND_SHARE = 0.02
ZIPF_S = 1.1
PER_MINUTE = 25
"""ZOHO_CALLS_PER_MINUTE, each organisation's own budget (Zoho locks past 30)."""
COMPANY = 60_000_000
SECRET = "bench-tenants-signing-secret"
KEY = "bench-tenants-secret-key-longer-than-thirty-two-characters"
ZONE = "Europe/Paris"
RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Many tenants (`python -m bench.tenants`)"

TICK_STATEMENTS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "tick_statements", default=None
)
"""The statement count of the tick running in this task (and the tasks it starts), if any."""


# --------------------------------------------------------------------------- the clock


class FlowingClock:
    """The bot's injected clock: it runs at real speed from the last moment the bench set, and
    `sleep` waits until the clock (set forward, or flowing) reaches its end."""

    def __init__(self, start: datetime) -> None:
        self._anchor = (start.timestamp(), time.perf_counter())
        self._moved = asyncio.Event()

    def time(self) -> float:
        base, real = self._anchor  # one read: the fakes' threads call this too
        return base + (time.perf_counter() - real)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def set(self, moment: datetime | float) -> None:
        """Move to `moment`, if it is ahead; never back."""
        target = moment.timestamp() if isinstance(moment, datetime) else moment
        if target > self.time():
            self._anchor = (target, time.perf_counter())
            moved, self._moved = self._moved, asyncio.Event()
            moved.set()

    async def sleep(self, seconds: float) -> None:
        await self.until(self.time() + max(0.0, seconds))

    async def until(self, moment: float) -> None:
        while (left := moment - self.time()) > 0:
            moved = self._moved
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moved.wait(), left)


# --------------------------------------------------------------------------- the tenants


@dataclass
class Plan:
    """One tenant as the bench sets it up, and what it expects of it."""

    index: int
    team: str
    users: list[str]
    channels: list[str]
    zoho: FakeZoho
    popular: list[ModuleRef]
    """The tenant's modules, most looked up first."""
    unscheduled: list[ModuleRef]
    """Modules with no session today or tomorrow that no one follows: what `remind` commands take."""
    digests: list[list[ModuleRef]]
    reminders: list[tuple[str, ModuleRef, timedelta]]
    due: dict[str, float]
    """Send key -> when it falls due."""
    token: str = ""


def organisation(index: int) -> tuple[Org, list[tuple[str, datetime]]]:
    """The tenant's organisation, and its three placed sessions (id, start)."""
    org = large_org(
        DAY,
        courses=1,
        batches_per_course=BATCHES,
        modules_per_batch=MODULES_PER_BATCH,
        sessions_per_batch=SESSIONS_PER_BATCH,
        seed=index,
    )
    org.settings = OrgSettings(time_zone=ZONE, company=str(COMPANY + index))
    quiet_days = {DAY, DAY + timedelta(days=1)}
    for batch in org.courses[0].batches:
        for module in batch.modules:
            module.sessions = [
                s for s in module.sessions if parse_stored_date(s["sessionStartDate"]) not in quiet_days
            ]
    first, second = org.courses[0].batches
    placed = []
    for number, (module, start) in enumerate(
        (
            (first.modules[0], at(9, 45)),
            (second.modules[0], at(10, 30)),
            (first.modules[1], at(9, 30, DAY + timedelta(days=1))),
        ),
        1,
    ):
        session_id = zoho_id(900_000 + number)
        wall = start.replace(tzinfo=None)
        module.sessions.append(make_session(session_id, module.module_id, f"Placed session {number}", wall))
        placed.append((session_id, start))
    return org, placed


def plan_tenant(index: int, zoho: FakeZoho, rng: random.Random) -> Plan:
    org, placed = organisation(index)
    handle = zoho.add_organisation(org)
    modules = module_refs(org)
    first, second = modules[:MODULES_PER_BATCH], modules[MODULES_PER_BATCH:]
    nine_45, ten_30, tomorrow = first[0], second[0], first[1]
    users = [f"U{index:05d}X{k}" for k in range(USERS)]
    channels = [f"C{index:05d}X{k}" for k in range(CHANNELS)]
    digests = [[nine_45, first[5]], [ten_30, second[5]]]
    reminders = [
        (users[0], nine_45, timedelta(minutes=15)),
        (users[1], nine_45, timedelta(minutes=15)),
        (users[2], ten_30, timedelta(hours=1)),
        (users[3], ten_30, timedelta(hours=1)),
        (users[4], tomorrow, timedelta(days=1)),
    ]
    starts = {module.module_id: placed[n] for n, module in enumerate((nine_45, ten_30, tomorrow))}
    due = {f"digest:{channel}:{DAY.isoformat()}": DUE.timestamp() for channel in channels}
    for user, module, lead in reminders:
        session_id, start = starts[module.module_id]
        due[f"remind:{user}:{session_id}:{int(start.timestamp())}"] = (start - lead).timestamp()
    popular = modules[:]
    rng.shuffle(popular)
    followed = {m.key for pair in digests for m in pair} | {m.key for _, m, _ in reminders}
    unscheduled = [m for m in modules if m.key not in followed]
    return Plan(
        index, f"T{index:05d}", users, channels, handle, popular, unscheduled, digests, reminders, due
    )


async def install(plan: Plan, fleet: Fleet, slack: FakeSlack, clock: FlowingClock) -> None:
    """The tenant's workspace in the fake Slack, its installation, Zoho connection and
    subscriptions written directly (see the module's docstring)."""
    team = slack.add_team(plan.team, f"Workspace {plan.index}")
    for n, user in enumerate(plan.users):
        slack.add_user(user, f"person{n}-{plan.index}", tz=ZONE, is_admin=n == 0, team_id=plan.team)
    for n, channel in enumerate(plan.channels):
        slack.add_channel(channel, f"training-{n}", members=plan.users, team_id=plan.team)
    plan.token = slack.issue_token(plan.team)
    await fleet.slack_stores.installations.async_save(
        Installation(
            app_id=APP_ID,
            team_id=plan.team,
            team_name=team.name,
            bot_token=plan.token,
            bot_id=team.bot_id,
            bot_user_id=team.bot_user_id,
            bot_scopes=list(BOT_SCOPES),
            user_id=plan.users[0],
            installed_at=clock.time(),
        )
    )
    store = fleet.root.tenant(Tenant(plan.team))
    now = clock.now()
    zoho = plan.zoho
    await store.save_connection(
        CONNECTION, zoho.refresh_token, ("com", zoho.url, zoho.url), plan.users[0], now
    )
    settings = OrgSettingsRecord(ZONE, strptime_format("dd-MM-yyyy"), zoho.company, "zoho", now)
    await store.save_org_settings(CONNECTION, settings)
    schedule = Schedule(DUE.time(), frozenset(range(5)), ZONE)
    for channel, modules in zip(plan.channels, plan.digests, strict=True):
        await store.save_digests(channel, modules, schedule, plan.users[0], now)
    for user, module, lead in plan.reminders:
        await store.save_reminder(user, module, lead, now)


@dataclass(frozen=True, order=True)
class Command:
    at: float
    tenant: int
    user: str
    text: str
    remind: bool


@dataclass(frozen=True)
class Span:
    """The part of the working hour a run simulates, with its commands."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, tenants: int, full_hour: bool) -> Span:
        return cls(HOUR_START, HOUR_END) if full_hour or tenants <= FULL_HOUR_UP_TO else cls(*SLICE)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def commands(self, tenants: int, most: int) -> int:
        """`COMMANDS_PER_TENANT` an hour for each tenant, between `FEWEST_COMMANDS` and `most`."""
        wanted = round(COMMANDS_PER_TENANT * tenants * self.seconds / 3600)
        return max(FEWEST_COMMANDS, min(most, wanted))


def working_hour(plans: list[Plan], total: int, span: Span) -> list[Command]:
    rng = random.Random(20260310)
    weights = [1 / rank**ZIPF_S for rank in range(1, len(plans) + 1)]
    commands = []
    for plan in rng.choices(plans, weights, k=total):
        moment = span.start.timestamp() + rng.uniform(0, span.seconds)
        user = rng.choice(plan.users)
        if rng.random() < REMIND_SHARE:
            commands.append(
                Command(moment, plan.index, user, f"remind {rng.choice(plan.unscheduled).name} 1h", True)
            )
        else:
            commands.append(Command(moment, plan.index, user, zipf(rng, plan.popular).name, False))
    return sorted(commands)


# --------------------------------------------------------------------------- round trips


class Proxies:
    """Counting proxies (one per instance) in a process of their own: `python -m bench.tenants
    --proxy PORT --count N`, asked for each one's round trips since it was last asked."""

    def __init__(self, process: asyncio.subprocess.Process, ports: list[int]) -> None:
        self._process = process
        self.ports = ports
        self._lock = asyncio.Lock()

    @classmethod
    async def start(cls, target: int, count: int) -> Proxies:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.tenants",
            "--proxy",
            str(target),
            "--count",
            str(count),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        return cls(process, json.loads(await process.stdout.readline()))

    async def take(self, index: int) -> int:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        async with self._lock:
            self._process.stdin.write(f"{index}\n".encode())
            await self._process.stdin.drain()
            return int(await self._process.stdout.readline())

    async def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        await self._process.wait()


async def serve_proxies(target: int, count: int) -> None:
    """The proxies' process: print their ports, then answer each index read with its count."""
    counters = [Counters() for _ in range(count)]
    proxies = [CountingProxy(target, counter) for counter in counters]
    for proxy in proxies:
        await proxy.start()
    print(json.dumps([proxy.port for proxy in proxies]), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        print(counters[int(line)].take()[0], flush=True)
    for proxy in proxies:
        await proxy.close()


@contextlib.contextmanager
def counting_tick_statements() -> Iterator[None]:
    def count(*_: Any) -> None:
        box = TICK_STATEMENTS.get()
        if box is not None:
            box[0] += 1

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", count)


# --------------------------------------------------------------------------- the deployment


@dataclass
class Instance:
    index: int
    fleet: Fleet
    url: str
    runner: web.AppRunner


@dataclass(frozen=True)
class TickSample:
    instance: int
    at: float
    """When the tick was due (its place on the 30 s grid)."""
    leader: bool
    ms: float
    round_trips: int | None
    statements: int
    sent: int
    failed: int


class Ticker:
    """One instance's scheduler loop, as `Scheduler.run` (its tick measured)."""

    def __init__(
        self, instance: Instance, clock: FlowingClock, proxies: Proxies | None, first: float
    ) -> None:
        self.instance = instance
        self.clock = clock
        self.proxies = proxies
        self.next_at = first
        self.ticking = False
        self.samples: list[TickSample] = []

    def idle_after(self, moment: float) -> bool:
        """Nothing to do until after `moment`."""
        return not self.ticking and self.next_at > moment

    async def run(self) -> None:
        while True:
            await self.clock.until(self.next_at)
            due, self.ticking = self.next_at, True
            try:
                self.samples.append(await self.tick(due))
            finally:
                self.ticking = False
            self.next_at = due + TICK
            if self.clock.time() >= self.next_at:
                self.next_at = self.clock.time() + 1.0

    async def tick(self, due: float) -> TickSample:
        index = self.instance.index
        box = [0]
        TICK_STATEMENTS.set(box)
        if self.proxies is not None:
            await self.proxies.take(index)
        started = time.perf_counter()
        report = await self.instance.fleet.scheduler.tick()
        ms = (time.perf_counter() - started) * 1000
        round_trips = await self.proxies.take(index) if self.proxies is not None else None
        TICK_STATEMENTS.set(None)
        return TickSample(
            index, due, report.leader, ms, round_trips, box[0], len(report.sent), len(report.failed)
        )


@dataclass
class Tally:
    """What the fakes saw, read as the run goes (and dropped from them)."""

    teams: dict[str, str] = field(default_factory=dict)
    """Bot token -> team."""
    posts: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    """(team, send key) -> when each post labelled with it reached Slack (the bot's clock)."""
    auth_tests: int = 0
    answered: set[str] = field(default_factory=set)
    """The response_url names answered."""
    zoho_calls: dict[str, list[float]] = field(default_factory=dict)
    """Organisation -> when each of its LMS calls arrived."""
    refused: int = 0
    token_requests: Counter[str] = field(default_factory=Counter)

    def harvest(self, slack: FakeSlack, zoho: FakeZoho) -> tuple[int, int]:
        """Read the fakes' records since the last harvest; (Zoho calls, posts) among them."""
        calls, responses = slack.take_records()
        slack.forget_messages()
        posts = 0
        for call in calls:
            if call.method == "auth.test":
                self.auth_tests += 1
            elif call.method == "chat.postMessage" and call.ok:
                metadata = call.args.get("metadata") or {}
                keys = (metadata.get("event_payload") or {}).get("keys") or []
                team = self.teams.get(str(call.token), "?")
                for key in keys:
                    self.posts.setdefault((team, str(key)), []).append(float(call.response["ts"]))
                posts += 1
        for response in responses:
            self.answered.add(response.path.rsplit("/", 1)[-1])
        made = 0
        with zoho.lock:
            for org in zoho.organisations:
                taken = org.requests
                if not taken:
                    continue
                org.clear()
                for request in taken:
                    if request.path.startswith("/api/v1/"):
                        self.zoho_calls.setdefault(org.company, []).append(request.at)
                        self.refused += request.status == 429
                        made += 1
                    elif request.path == "/oauth/v2/token":
                        self.token_requests[org.company] += 1
        return made, posts


@dataclass
class Figures:
    tenants: int
    instances: int
    commands: int = 0
    setup_seconds: float = 0.0
    run_seconds: float = 0.0
    acks: list[float] = field(default_factory=list)
    """Seconds, one per command."""
    zoho_acks: list[float] = field(default_factory=list)
    """Those of the commands during which the bot asked the tenant's Zoho (a read or a token)."""
    collected_acks: list[float] = field(default_factory=list)
    """Those during which a full garbage collection ran."""
    later: int = 0
    """Commands acknowledged with a placeholder, their answer through response_url."""
    unanswered: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    auth_tests: int = 0
    due: int = 0
    sent: int = 0
    late: int = 0
    duplicated: int = 0
    unexpected: int = 0
    lateness: list[float] = field(default_factory=list)
    most_zoho_in_a_minute: int = 0
    zoho_calls: int = 0
    zoho_refused: int = 0
    locked: int = 0
    token_requests_most: int = 0
    token_requests: int = 0
    span_minutes: int = 60
    quiet: list[dict[str, Any]] = field(default_factory=list)
    busy: list[dict[str, Any]] = field(default_factory=list)
    lead_changes: int = 0
    full_collections: list[float] = field(default_factory=list)
    """Seconds each full garbage collection took, from the first tick on."""
    hour: list[dict[str, Any]] = field(default_factory=list)
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0
    uninstall_ms: float = 0.0
    warnings: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        tenants = f"{self.tenants} tenant{'s' if self.tenants > 1 else ''}"
        return f"{tenants}, {self.instances} instance{'s' if self.instances > 1 else ''}"


class Collections:
    """How long the interpreter's full (generation 2) garbage collections stop everything."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        gc.callbacks.append(self)
        try:
            yield
        finally:
            gc.callbacks.remove(self)


class WarningCounter(logging.Handler):
    """Counts the warnings and errors logged, by where and what (the message before its arguments)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[f"{record.levelname} {record.name}: {str(record.msg)[:80]}"] += 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def open_instance(
    index: int, zoho: FakeZoho, slack: FakeSlack, clock: FlowingClock, database: str, folder: Path
) -> Instance:
    port = _free_port()
    environ = {
        **zoho.bot_environment(),
        "ZOHO_REFRESH_TOKEN": "",
        "BOT_DATA_DIR": str(folder / f"instance{index}"),
        "DATABASE_URL": database,
        "SLACK_CLIENT_ID": slack.client_id,
        "SLACK_CLIENT_SECRET": slack.client_secret,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "BOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BOT_SECRET_KEY": KEY,
        "ZOHO_CALLS_PER_MINUTE": str(PER_MINUTE),
    }
    settings = load_settings(environ=environ, env_file=None)
    fleet = await open_fleet(settings, clock, RetryPolicy(base_delay=0, max_delay=0))
    app = web_app(fleet.front, SECRET, Probes(fleet.root.answers, fleet.refresh_gauges), fleet.pages())
    runner = await start_http(app, port=port, host="127.0.0.1")
    return Instance(index, fleet, f"http://127.0.0.1:{port}", runner)


async def walk_catalogs(instance: Instance, plans: list[Plan]) -> None:
    """Each tenant's catalog on this instance, as the background discovery would walk it."""
    gate = asyncio.Semaphore(8)

    async def walk(plan: Plan) -> None:
        async with gate:
            workspace = await instance.fleet.workspace(Tenant(plan.team), plan.token)
            found = await workspace.core.catalog.walk()
            assert found == BATCHES * MODULES_PER_BATCH, (plan.team, found)

    await asyncio.gather(*(walk(plan) for plan in plans))


class Run:
    """One size on one number of instances, from setup to the uninstall."""

    def __init__(
        self, tenants: int, instances: int, database: str, proxied: bool, most: int, full_hour: bool
    ) -> None:
        self.span = Span.of(tenants, full_hour)
        self.figures = Figures(tenants, instances, span_minutes=round(self.span.seconds / 60))
        self.database = database
        self.proxied = proxied
        self.most = most
        self.tally = Tally()
        self.samples: list[TickSample] = []
        self.quiet_moments: list[float] = []
        self.pending: list[str] = []
        """The response_url names of commands acknowledged with a placeholder."""
        self.collections = Collections()

    async def go(self) -> Figures:
        figures = self.figures
        warnings = WarningCounter()
        logging.getLogger().addHandler(warnings)
        started = time.perf_counter()
        clock = FlowingClock(self.span.start - BEFORE - SETUP)
        rng = random.Random(7)
        proxies = None
        with contextlib.ExitStack() as stack:
            zoho = stack.enter_context(FakeZoho())
            slack = stack.enter_context(FakeSlack(clock=clock.time))
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            stack.enter_context(counting_tick_statements())
            zoho.clock = clock.time
            self.response_url = slack.response_url
            plans = [plan_tenant(n, zoho, rng) for n in range(figures.tenants)]
            gc.collect()
            gc.freeze()  # the fakes' organisations (and what is loaded so far) are left out of collections
            stack.callback(gc.unfreeze)
            figures.rss_before_mb = rss_mb()
            databases = [self.database] * figures.instances
            if self.proxied:
                host_port = self.database.split("@", 1)[1].split("/", 1)[0]
                proxies = await Proxies.start(int(host_port.rsplit(":", 1)[1]), figures.instances)
                databases = [self.database.replace(host_port, f"127.0.0.1:{port}") for port in proxies.ports]
            instances: list[Instance] = []
            try:
                for n, database in enumerate(databases):
                    instances.append(await open_instance(n, zoho, slack, clock, database, folder))
                setting_up = time.perf_counter()
                for plan in plans:
                    await install(plan, instances[0].fleet, slack, clock)
                    self.tally.teams[plan.token] = plan.team
                for instance in instances:
                    await walk_catalogs(instance, plans)
                figures.setup_seconds = time.perf_counter() - setting_up
                async with httpx.AsyncClient(timeout=60) as http:
                    await self.drive(instances, plans, clock, slack, zoho, proxies, http)
                    figures.uninstall_ms = await self.uninstall(instances[0], plans[0], slack, http)
                figures.rss_peak_mb = rss_mb()
            finally:
                for instance in instances:
                    await instance.runner.cleanup()
                    await instance.fleet.aclose()
                if proxies is not None:
                    await proxies.close()
                logging.getLogger().removeHandler(warnings)
            self.tally.harvest(slack, zoho)
            self.count(plans, zoho)
        figures.run_seconds = time.perf_counter() - started
        figures.warnings = dict(warnings.seen.most_common(8))
        return figures

    async def drive(
        self,
        instances: list[Instance],
        plans: list[Plan],
        clock: FlowingClock,
        slack: FakeSlack,
        zoho: FakeZoho,
        proxies: Proxies | None,
        http: httpx.AsyncClient,
    ) -> None:
        """From the first tick to the span's end: the commands due before the next tick, then
        that tick, and so on. The instances tick a tick's length apart from each other (as
        instances started at different moments do)."""
        first = (self.span.start - BEFORE).timestamp()
        clock.set(first)
        collections = self.collections
        step = TICK / len(instances)
        tickers = [Ticker(instance, clock, proxies, first + n * step) for n, instance in enumerate(instances)]
        loops = [asyncio.create_task(ticker.run()) for ticker in tickers]
        total = self.span.commands(len(plans), self.most)
        commands = deque(working_hour(plans, total, self.span))
        self.figures.commands = len(commands)
        start, warm = self.span.start.timestamp(), False
        quiet_wanted = QUIET_TICKS * len(instances)
        end = (self.span.end + AFTER).timestamp()
        with collections.watching():
            try:
                while (moment := min(ticker.next_at for ticker in tickers)) < end:
                    while commands and commands[0].at < moment:
                        await self.send(commands.popleft(), plans, instances, clock, http)
                    self.tally.harvest(slack, zoho)  # what the commands did is not the tick's
                    clock.set(moment)
                    while not all(ticker.idle_after(moment) for ticker in tickers):
                        for loop in loops:
                            if loop.done():
                                loop.result()  # a ticker that failed fails the run
                        await asyncio.sleep(0.002)
                    calls, posts = self.tally.harvest(slack, zoho)
                    if moment < start and len(self.quiet_moments) < quiet_wanted and calls == posts == 0:
                        if warm:
                            self.quiet_moments.append(moment)
                        warm = True
            finally:
                for loop in loops:
                    loop.cancel()
                await asyncio.gather(*loops, return_exceptions=True)
        self.samples = sorted((s for ticker in tickers for s in ticker.samples), key=lambda s: s.at)
        self.figures.full_collections = collections.pauses

    async def send(
        self,
        command: Command,
        plans: list[Plan],
        instances: list[Instance],
        clock: FlowingClock,
        http: httpx.AsyncClient,
    ) -> None:
        """POST the command to the next instance in turn; when its answer is done, let the work
        it left behind finish (a refresh behind the answer), so the next tick's figures are the
        tick's own."""
        plan = plans[command.tenant]
        clock.set(command.at)
        number = len(self.figures.acks)
        instance = instances[number % len(instances)]
        name = f"c{number}"
        body = slash_command_body(
            text=command.text,
            user_id=command.user,
            channel_id=plan.channels[0],
            team_id=plan.team,
            response_url=self.response_url(name),
        )
        collected = len(self.collections.pauses)
        asked = len(plan.zoho.requests)
        started = time.perf_counter()
        answer = await http.post(
            f"{instance.url}/slack/events", content=body, headers=signed_headers(body, SECRET)
        )
        ack = time.perf_counter() - started
        self.figures.acks.append(ack)
        if len(plan.zoho.requests) != asked:
            self.figures.zoho_acks.append(ack)
        if len(self.collections.pauses) != collected:
            self.figures.collected_acks.append(ack)
        outcome = f"HTTP {answer.status_code}"
        if answer.status_code == 200:
            message = answer.json() if answer.content else {}
            text = str(message.get("text") or "")
            if "Looking up" in text:
                self.pending.append(name)
                outcome = "answered later"
            elif command.remind:
                outcome = f"remind: {text[:50]}"
            else:
                outcome = "listing" if message.get("blocks") else f"sentence: {text[:50]}"
        self.figures.outcomes[outcome] = self.figures.outcomes.get(outcome, 0) + 1
        for other in instances:
            workspace = other.fleet.running(plan.team)
            if workspace is not None:
                await workspace.core.sessions.drain()

    async def uninstall(
        self, instance: Instance, plan: Plan, slack: FakeSlack, http: httpx.AsyncClient
    ) -> float:
        """Milliseconds from POSTing `app_uninstalled` to every row of the tenant gone."""
        fleet = instance.fleet
        assert plan.team in await fleet.root.tenant_ids()
        slack.uninstall(plan.team)
        body = json.dumps(app_uninstalled_payload(plan.team, bot_user_id=slack.team(plan.team).bot_user_id))
        headers = signed_headers(body, SECRET, content_type=JSON_CONTENT_TYPE)
        started = time.perf_counter()
        answer = await http.post(f"{instance.url}/slack/events", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        installations = fleet.slack_stores.installations
        while True:
            bot = await installations.async_find_bot(enterprise_id=None, team_id=plan.team)
            if bot is None and plan.team not in await fleet.root.tenant_ids():
                return (time.perf_counter() - started) * 1000
            if time.perf_counter() - started > 60:
                return float("inf")
            await asyncio.sleep(0.005)

    def count(self, plans: list[Plan], zoho: FakeZoho) -> None:
        figures, tally = self.figures, self.tally
        figures.unanswered = sum(1 for name in self.pending if name not in tally.answered)
        figures.later = len(self.pending)
        figures.auth_tests = tally.auth_tests
        expected = {(plan.team, key): due for plan in plans for key, due in plan.due.items()}
        figures.due = len(expected)
        for (team, key), times in tally.posts.items():
            due = expected.get((team, key))
            if due is None:
                figures.unexpected += 1
                continue
            figures.sent += 1
            figures.duplicated += len(times) - 1
            delay = min(times) - due
            figures.lateness.append(delay)
            figures.late += delay > LATE
        per_org = [most_in_any(sorted(times), 60.0) for times in tally.zoho_calls.values()]
        figures.most_zoho_in_a_minute = max(per_org, default=0)
        figures.zoho_calls = sum(len(times) for times in tally.zoho_calls.values())
        figures.zoho_refused = tally.refused
        figures.locked = sum(1 for org in zoho.organisations if org.locked_until is not None)
        figures.token_requests = sum(tally.token_requests.values())
        figures.token_requests_most = max(tally.token_requests.values(), default=0)
        quiet = set(self.quiet_moments)
        figures.quiet = [asdict(s) for s in self.samples if s.at in quiet]
        leading = [s for s in self.samples if s.leader]
        figures.lead_changes = sum(1 for a, b in itertools.pairwise(leading) if a.instance != b.instance)
        busy = next((s for s in leading if s.at >= DUE.timestamp()), None)
        figures.busy = [asdict(busy)] if busy is not None else []
        start, end = self.span.start.timestamp(), self.span.end.timestamp()
        figures.hour = [asdict(s) for s in leading if start <= s.at < end and s is not busy]


# --------------------------------------------------------------------------- the report


def _ms(seconds: list[float], share: float) -> float:
    return percentile(seconds, share) * 1000


def _ticks(samples: list[dict[str, Any]], leader: bool) -> list[dict[str, Any]]:
    return [s for s in samples if s["leader"] == leader]


def _spread(values: list[int | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    low, high = min(known), max(known)
    middle = f"{statistics.mean(known):.1f}".removesuffix(".0")
    return middle if low == high else f"{middle} ({low}–{high})"


def tick_figures(samples: list[dict[str, Any]]) -> str:
    """Round trips / statements / ms (median) of some ticks."""
    if not samples:
        return "-"
    round_trips = _spread([s["round_trips"] for s in samples])
    statements = _spread([s["statements"] for s in samples])
    return f"{round_trips} / {statements} / {statistics.median(s['ms'] for s in samples):.0f}"


def median_max(samples: list[dict[str, Any]], key: str) -> str:
    values = [s[key] for s in samples if s[key] is not None]
    if not values:
        return "-"
    return f"{statistics.median(values):.0f} / {max(values):.0f}"


def ticks_median_max(samples: list[dict[str, Any]]) -> str:
    return "; ".join(median_max(samples, key) for key in ("round_trips", "statements", "ms"))


def table(runs: list[Figures]) -> str:
    base = {f.instances: f for f in runs if f.tenants == 1}

    def against(f: Figures) -> str:
        one = base.get(f.instances)
        if one is None or not one.acks or not f.acks:
            return "-"
        return (
            f"×{_ms(f.acks, 0.5) / _ms(one.acks, 0.5):.2f} / ×{_ms(f.acks, 0.99) / _ms(one.acks, 0.99):.2f}"
        )

    def zoho_first(f: Figures) -> str:
        return f"{len(f.zoho_acks)}, {_ms(f.zoho_acks, 0.5):.1f} / {_ms(f.zoho_acks, 0.99):.1f}"

    def collected(f: Figures) -> str:
        return f"{len(f.collected_acks)}, {max(f.collected_acks, default=0) * 1000:.0f}"

    def answers(f: Figures) -> str:
        listings = f.outcomes.get("listing", 0)
        reminds = sum(n for outcome, n in f.outcomes.items() if outcome.startswith("remind"))
        other = f.commands - listings - reminds - f.later
        return f"{listings} / {reminds} / {f.later} ({f.unanswered}) / {other}"

    def memory(f: Figures) -> str:
        return f"{f.rss_peak_mb:.0f} / {f.rss_before_mb:.0f} / {f.rss_peak_mb - f.rss_before_mb:.0f}"

    def per_hundred(f: Figures) -> str:
        """The growth's slope from the next smaller size on as many instances."""
        smaller = [g for g in runs if g.instances == f.instances and g.tenants < f.tenants]
        if not smaller:
            return "-"
        g = max(smaller, key=lambda g: g.tenants)
        grown = (f.rss_peak_mb - f.rss_before_mb) - (g.rss_peak_mb - g.rss_before_mb)
        return f"{grown / (f.tenants - g.tenants) * 100:.1f}"

    def busy(f: Figures) -> str:
        if not f.busy:
            return "-"
        late = f.busy[0]["at"] - DUE.timestamp()
        return f"{tick_figures(f.busy)} (its tick due {late:.0f} s after 09:30)"

    def before(f: Figures) -> str:
        return ticks_median_max([s for s in f.hour if s["at"] < DUE.timestamp()])

    def after(f: Figures) -> str:
        return ticks_median_max([s for s in f.hour if s["at"] > DUE.timestamp()])

    def collections(f: Figures) -> str:
        pauses = f.full_collections
        return f"{len(pauses)} / {max(pauses, default=0) * 1000:.0f}"

    def sends(f: Figures) -> str:
        extra = f" (+{f.unexpected} unplanned)" if f.unexpected else ""
        return f"{f.due} / {f.sent} / {f.late} / {f.duplicated}{extra}"

    def delays(f: Figures) -> str:
        if not f.lateness:
            return "-"
        return (
            f"{percentile(f.lateness, 0.5):.1f} / {percentile(f.lateness, 0.99):.1f} / {max(f.lateness):.1f}"
        )

    rows = [
        (
            "minutes of the hour simulated; commands in them (a tenant's an hour)",
            lambda f: f"{f.span_minutes}; {f.commands} ({f.commands / f.tenants * 60 / f.span_minutes:.1f})",
        ),
        ("setup written directly, and the catalogs walked (s)", lambda f: f"{f.setup_seconds:.0f}"),
        ("ack p50 / p99 (ms)", lambda f: f"{_ms(f.acks, 0.5):.1f} / {_ms(f.acks, 0.99):.1f}"),
        ("ack p50 / p99 against 1 tenant (same instances)", against),
        ("  of the commands that asked Zoho before answering: count, p50 / p99 (ms)", zoho_first),
        ("  of the commands during a full garbage collection: count, max (ms)", collected),
        ("answers: listings / remind / placeholder (never answered) / other", answers),
        ("auth.test calls to Slack per command", lambda f: f"{f.auth_tests / max(1, f.commands):.2f}"),
        ("sends due / sent / late (> 1 min) / duplicated", sends),
        ("send after due, p50 / p99 / max (s)", delays),
        (
            f"Zoho calls of one organisation in any 60 s, most (budget {PER_MINUTE})",
            lambda f: str(f.most_zoho_in_a_minute),
        ),
        (
            "Zoho calls / refused (429) / organisations locked",
            lambda f: f"{f.zoho_calls} / {f.zoho_refused} / {f.locked}",
        ),
        (
            "Zoho token requests / per organisation (most)",
            lambda f: f"{f.token_requests} / {f.token_requests / f.tenants:.1f} ({f.token_requests_most})",
        ),
        ("quiet tick, leader: round trips / statements / ms", lambda f: tick_figures(_ticks(f.quiet, True))),
        (
            "quiet tick, other instance: round trips / statements / ms",
            lambda f: tick_figures(_ticks(f.quiet, False)),
        ),
        ("busy tick (the leader's first at or after 09:30): round trips / statements / ms", busy),
        ("  sends in the busy tick", lambda f: str(sum(s["sent"] for s in _ticks(f.busy, True)))),
        ("the span's ticks before 09:30 (leader), median / max: round trips; statements; ms", before),
        ("the span's ticks after the busy tick (leader), the same", after),
        ("leader changes", lambda f: str(f.lead_changes)),
        ("full garbage collections / the longest (ms)", collections),
        ("peak RSS / before the instances / growth (MB)", memory),
        ("  growth per 100 more tenants than the next smaller run (MB)", per_hundred),
        ("`app_uninstalled` to every row of the tenant gone (ms)", lambda f: f"{f.uninstall_ms:.0f}"),
        ("wall-clock time of the run (s)", lambda f: f"{f.run_seconds:.0f}"),
    ]
    lines = ["| | " + " | ".join(f.name for f in runs) + " |", "| --- |" + " --- |" * len(runs)]
    lines += [f"| {label} | " + " | ".join(value(f) for f in runs) + " |" for label, value in rows]
    return "\n".join(lines)


def warnings_seen(runs: list[Figures]) -> str:
    lines = []
    for f in runs:
        for what, count in f.warnings.items():
            lines.append(f"- {f.name}: {count} × {what}")
    return "\n".join(lines) or "- none"


def record(report: str, command: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = (
        f"{SECTION}\n\nMachine: {machine()}, 2 cores. Command: `{command}`. "
        "What is set up directly and how each figure is measured: the docstring of "
        "`bench/tenants.py`.\n\n" + report + "\n"
    )
    head, _, rest = text.partition(SECTION)
    tail = rest.partition("\n## ")[2]
    RESULTS.write_text(head.rstrip() + "\n\n" + section + (f"\n## {tail}" if tail else ""), encoding="utf-8")


# --------------------------------------------------------------------------- running


async def one(
    tenants: int, instances: int, database: str | None, proxied: bool, most: int, full_hour: bool
) -> Figures:
    if database is not None:
        return await Run(tenants, instances, database, proxied, most, full_hour).go()
    reason = postgres.available()
    if reason is not None:
        raise SystemExit(f"PostgreSQL is needed: {reason}")
    server = postgres.acquire()
    try:
        return await Run(tenants, instances, server.fresh_database(), proxied, most, full_hour).go()
    finally:
        postgres.release()


def in_own_processes(runs: list[tuple[int, int]], options: list[str]) -> list[Figures]:
    """Each run in a process of its own (its own peak RSS), one after the other. A SIGTERM
    ends the run under way and stops the PostgreSQL server rather than leave it behind."""
    reason = postgres.available()
    if reason is not None:
        raise SystemExit(f"PostgreSQL is needed: {reason}")
    signal.signal(signal.SIGTERM, _terminated)
    server = postgres.acquire()
    figures = []
    try:
        for tenants, instances in runs:
            database = server.create_database()
            command = [sys.executable, "-m", "bench.tenants", "--run", f"{tenants}:{instances}"]
            command += ["--database", database, "--json", *options]
            print(f"running {tenants} tenant(s) on {instances} instance(s)…", file=sys.stderr, flush=True)
            with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
                try:
                    out, _ = child.communicate()
                finally:
                    if child.poll() is None:
                        child.terminate()
            if child.returncode != 0:
                raise SystemExit(f"a run failed: {' '.join(command)}")
            figures.append(Figures(**json.loads(out.strip().splitlines()[-1])))
    finally:
        postgres.release()
    return figures


def _terminated(*_: object) -> None:
    raise SystemExit(143)


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tenants")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="tenants, comma-separated")
    parser.add_argument(
        "--instances", default=",".join(map(str, INSTANCES)), help="instances, comma-separated"
    )
    parser.add_argument("--max-commands", type=int, default=MOST_COMMANDS, help="commands in a run, at most")
    parser.add_argument("--full-hour", action="store_true", help="the whole hour for every size")
    parser.add_argument(
        "--no-proxy", action="store_true", help="no round trips counted (ticks' ms unproxied)"
    )
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--proxy", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.proxy:
        asyncio.run(serve_proxies(args.proxy, args.count))
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().handlers[0].setLevel(logging.ERROR)  # warnings are counted, not printed
    if args.run:
        tenants, instances = map(int, args.run.split(":"))
        proxied = not args.no_proxy
        figures = asyncio.run(
            one(tenants, instances, args.database, proxied, args.max_commands, args.full_hour)
        )
        print(
            json.dumps(asdict(figures)) if args.json else table([figures]) + "\n\n" + warnings_seen([figures])
        )
        return
    runs = [(size, count) for count in _numbers(args.instances) for size in _numbers(args.sizes)]
    options = ["--max-commands", str(args.max_commands)]
    options += ["--no-proxy"] * args.no_proxy + ["--full-hour"] * args.full_hour
    figures = in_own_processes(runs, options)
    report = (
        table(figures)
        + "\n\nWarnings and errors the bot logged (the most frequent):\n\n"
        + warnings_seen(figures)
    )
    print(report)
    if args.record:
        record(report, "python -m bench.tenants " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
