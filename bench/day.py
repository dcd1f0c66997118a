"""A whole working day at real scale, on an injected clock: Zoho calls, freshness, sends, memory.

    .venv/bin/python -m bench.day                   # the three runs; writes bench/RESULTS.md
    .venv/bin/python -m bench.day --runs sqlite     # one instance on SQLite only (prints, writes nothing)
    .venv/bin/python -m bench.day --runs sqlite --lookups 20000   # that run with 10x the lookups

The organisation: 200 modules in 20 batches of 10 courses, each batch holding
60 to 200 sessions from 30 days back to 60 days ahead (Zoho returns past
sessions too). The day, Tuesday 10 March 2026 in Europe/Paris, midnight to
midnight: 2,000 lookups between 09:00 and 18:00, skewed toward a few popular
modules (Zipf, s = 1.1); 50 digest channels (1 to 3 modules each, between 07:30
and 09:30, Monday to Friday); 1,000 reminder subscriptions (15 min, 1 h or 1 day
ahead); every 30 minutes from 08:00 to 17:30 a session of a digest's module changes in
Zoho (moved a day, room changed, cancelled, or a new one added, in turn), so change
notices run at scale. Every instance's scheduler ticks every 30 simulated seconds; lookups go
to the session service as `/sessions` does once the name is resolved (the Slack
HTTP layer is measured by `bench.slack_latency`). Run once with one instance on
SQLite, once with two instances (separate data folders) on one PostgreSQL,
lookups alternating between them, and once more on SQLite with ten times the
lookups (the day's 2,000 and 18,000 more, drawn the same way), to see the
allowance hold when people ask more than it can keep fresh. The runs go in
parallel processes (the clock is simulated, so they do not change each other's
figures; only the wall-clock time). The fake Zoho keeps Zoho's 30-a-minute lock
and records every call; the fake Slack records every post. The bots' own event-loop lag
(`sessions_bot_event_loop_lag_seconds`: how late a wake-up every 50 ms of real time came) is read
before and after the simulated day; the simulation drives the loop without pause and the fakes
share the process (and its interpreter lock), so it is an upper figure of the stalls a day holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import metrics
from bot.app import Bot, build_bot
from bot.config import load_settings
from bot.core import build_core
from bot.loop_lag import LagFigures
from bot.sessions.errors import SessionsError
from bot.sessions.modules import ModuleRef
from bot.sessions.windows import next_days
from bot.zoho.client import RetryPolicy
from tests.clock import FakeClock
from tests.conftest import module_refs
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, large_org
from tests.store import postgres

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 3, 10)
START = datetime.combine(DAY, datetime.min.time(), PARIS)
END = START + timedelta(days=1)
TICK = timedelta(seconds=30)
COMMANDS, CHANNELS, REMINDERS, USERS = 2000, 50, 1000, 400
FRESHNESS_MINUTES, PER_MINUTE, PER_DAY, PAGE = 10, 25, 2500, 25
LEADS = (timedelta(minutes=15), timedelta(hours=1), timedelta(days=1))
RESULTS = Path(__file__).with_name("RESULTS.md")
REMINDER_TEXT = re.compile(r"^Reminder: (Session \d+) starts")
NOTICE_TEXT = "to training sessions ("
"""In a change notice's text: told apart from digests, which go to the same channels."""


CHANGE_KINDS = ("moved", "room", "cancelled", "added")


@dataclass(frozen=True)
class Workload:
    commands: list[tuple[datetime, ModuleRef]]
    digests: list[tuple[str, ModuleRef, datetime]]
    reminders: list[tuple[str, ModuleRef, timedelta]]
    changes: list[tuple[datetime, ModuleRef, str]]
    """When, in which module, and what kind of change Zoho's data undergoes."""


@dataclass
class Figures:
    name: str
    instances: int
    lookups: int = COMMANDS
    seconds: float = 0.0
    calls: int = 0
    most_in_a_minute: int = 0
    locks: int = 0
    token_refreshes: int = 0
    refetched: int = 0
    command_ages: list[float] = field(default_factory=list)
    sentences: Counter[str] = field(default_factory=Counter)
    digests_due: int = 0
    digests_sent: int = 0
    digests_nothing_upcoming: int = 0
    digests_duplicated: int = 0
    reminders_due: int = 0
    reminders_sent: int = 0
    reminders_duplicated: int = 0
    send_ages: list[float] = field(default_factory=list)
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0
    lag_wakeups: int = 0
    lag_p99_ms: float = 0.0
    lag_max_ms: float = 0.0
    lag_worst_ms: float = 0.0
    changes_made: int = 0
    sessions_changed: int = 0
    changes_found: int = 0
    channel_notices_due: int = 0
    channel_notices_sent: int = 0
    notice_dms_sent: int = 0
    notices_duplicated: int = 0
    notice_delays: list[float] = field(default_factory=list)


def starts_of(org: Org) -> dict[str, list[tuple[str, datetime]]]:
    """Module id -> (session name, start) as the org's wall-clock times in Paris."""
    found: dict[str, list[tuple[str, datetime]]] = {}
    for course in org.courses:
        for batch in course.batches:
            for module in batch.modules:
                found[module.module_id] = [
                    (s["sessionName"], _start(s["sessionStartDate"], s["sessionStartTime"]))
                    for s in module.sessions
                ]
    return found


def _start(day: str, at: str) -> datetime:
    return datetime.strptime(f"{day} {at}", "%d-%m-%Y %I:%M %p").replace(tzinfo=PARIS)


def zipf(rng: random.Random, items: list[ModuleRef], s: float = 1.1) -> ModuleRef:
    return rng.choices(items, [1 / rank**s for rank in range(1, len(items) + 1)])[0]


def workload(modules: list[ModuleRef], lookups: int = COMMANDS) -> Workload:
    """The day's subscriptions, changes and `COMMANDS` lookups; lookups past those are drawn the
    same way from another seed, so the rest of the day stays the same."""
    rng = random.Random(20260310)
    popular = modules[:]
    rng.shuffle(popular)
    more = random.Random(20260311)
    commands = sorted(
        [_lookup(rng, popular) for _ in range(min(lookups, COMMANDS))]
        + [_lookup(more, popular) for _ in range(lookups - COMMANDS)]
    )
    digests = []
    for n in range(CHANNELS):
        at = START + timedelta(hours=7, minutes=30 + 15 * rng.randint(0, 8))
        digests += [(f"CDIGEST{n:03d}", module, at) for module in rng.sample(popular, rng.randint(1, 3))]
    reminders: dict[tuple[str, str], tuple[str, ModuleRef, timedelta]] = {}
    while len(reminders) < REMINDERS:
        user, module = f"U{rng.randint(1, USERS):04d}", zipf(rng, popular)
        reminders.setdefault((user, module.key), (user, module, rng.choice(LEADS)))
    digest_modules = sorted({module.key: module for _, module, _ in digests}.values(), key=lambda m: m.key)
    changes = [
        (START + timedelta(hours=8, minutes=30 * n), rng.choice(digest_modules), CHANGE_KINDS[n % 4])
        for n in range(20)
    ]
    return Workload(commands, digests, list(reminders.values()), changes)


def _lookup(rng: random.Random, popular: list[ModuleRef]) -> tuple[datetime, ModuleRef]:
    """A lookup between 09:00 and 18:00 of a module drawn by popularity."""
    at = START + timedelta(hours=9, seconds=rng.uniform(0, 9 * 3600))
    return at, zipf(rng, popular)


def make_change(zoho: FakeZoho, module: ModuleRef, kind: str, now: datetime, number: int) -> str | None:
    """Change one session of `module` starting at least three hours after `now`; its id, or None
    when the module has no such session."""
    with zoho.lock:
        raw = next(
            (
                s
                for course in zoho.courses
                for batch in course.batches
                for m in batch.modules
                if m.module_id == module.module_id
                for s in m.sessions
                if _start(s["sessionStartDate"], s["sessionStartTime"]) > now + timedelta(hours=3)
            ),
            None,
        )
        if raw is None:
            return None
        if kind == "moved":
            later = _start(raw["sessionStartDate"], raw["sessionStartTime"]) + timedelta(days=1)
            zoho.update_session(raw["sessionId"], sessionStartDate=f"{later:%d-%m-%Y}")
        elif kind == "room":
            zoho.update_session(raw["sessionId"], sessionRoom=f"Room {number}")
        elif kind == "cancelled":
            zoho.remove_session(raw["sessionId"])
        else:
            added = {**raw, "sessionId": f"added-{number}", "sessionName": f"Added session {number}"}
            zoho.add_session(module.course_id, module.batch_id, module.module_id, added)
            return added["sessionId"]
        return str(raw["sessionId"])


async def start_bot(
    zoho: FakeZoho,
    slack: FakeSlack,
    clock: FakeClock,
    data: Path,
    database: str | None,
    per_day: int = PER_DAY,
    freshness_minutes: int = FRESHNESS_MINUTES,
) -> Bot:
    """A bot of the benchmark's settings on the fakes and the clock, its store ready."""
    environ = {
        **zoho.bot_environment(),
        "BOT_DATA_DIR": str(data),
        "ZOHO_TIMEZONE": "Europe/Paris",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "bench",
        "SLACK_API_URL": slack.api_url,
        "BOT_FRESHNESS_MINUTES": str(freshness_minutes),
        "ZOHO_CALLS_PER_MINUTE": str(PER_MINUTE),
        "ZOHO_CALLS_PER_DAY": str(per_day),
        **({"DATABASE_URL": database} if database else {}),
    }
    settings = load_settings(environ=environ, env_file=None)
    core = build_core(settings, clock=clock, retry=RetryPolicy(base_delay=0, max_delay=0))
    bot = build_bot(settings, clock=clock, core=core)
    await bot.start()
    return bot


async def subscribe(bot: Bot, load: Workload) -> None:
    before = START - timedelta(minutes=1)
    for channel, module, at in load.digests:
        await bot.store.save_digest(
            channel, module, at.time(), frozenset(range(5)), "Europe/Paris", "U0001", before
        )
    for user, module, lead in load.reminders:
        await bot.store.save_reminder(user, module, lead, before)


async def simulate(
    bots: list[Bot], zoho: FakeZoho, clock: FakeClock, load: Workload, figures: Figures
) -> None:
    channel_modules: dict[str, list[ModuleRef]] = {}
    for channel, module, _ in load.digests:
        channel_modules.setdefault(channel, []).append(module)
    commands, changes = list(load.commands), list(load.changes)
    changed: dict[str, list[datetime]] = {}
    """Each changed session's changes (a session may be changed twice, and is told twice)."""
    told: Counter[tuple[str, str]] = Counter()
    turn, moment = 0, START
    while moment < END:
        clock.set(max(moment, clock.now()))  # waits for the budget may have moved it on
        while changes and changes[0][0] <= clock.now():
            _, module, kind = changes.pop(0)
            session_id = make_change(zoho, module, kind, clock.now(), len(changed) + 1)
            if session_id is not None:
                changed.setdefault(session_id[:40], []).append(clock.now())
                figures.channel_notices_due += len({c for c, m in channel_modules.items() if module in m})
        for bot in bots:
            report = await bot.scheduler.tick()
            for key in report.sent:
                if key.startswith("digest:"):
                    ages = [bot.core.sessions.age(m) for m in channel_modules[key.split(":")[1]]]
                    figures.send_ages.append(max(age or 0.0 for age in ages))
                if key.startswith("notice:"):
                    _, target, session_id, *_ = key.split(":")
                    told[(target, session_id)] += 1
                    times = changed.get(session_id, [])
                    if target.startswith("C") and told[(target, session_id)] <= len(times):
                        at = times[told[(target, session_id)] - 1]
                        figures.notice_delays.append((clock.now() - at).total_seconds())
        moment += TICK
        while commands and commands[0][0] < moment:
            at, module = commands.pop(0)
            clock.set(max(at, clock.now()))
            bot = bots[turn % len(bots)]
            turn += 1
            try:
                listing = await bot.core.sessions.upcoming(
                    module, clock.now(), next_days(clock.now()), clock.time() + 20
                )
                figures.command_ages.append((clock.now() - listing.fetched_at).total_seconds())
            except SessionsError as exc:
                figures.sentences[type(exc).__name__] += 1
            await bot.core.sessions.drain()
    figures.changes_made = sum(len(times) for times in changed.values())
    figures.sessions_changed = len(changed)
    owed = {key: len(changed.get(key[1], [])) or 1 for key in told}
    figures.channel_notices_sent = sum(min(n, owed[key]) for key, n in told.items() if key[0].startswith("C"))
    figures.notice_dms_sent = sum(min(n, owed[key]) for key, n in told.items() if key[0].startswith("U"))
    figures.notices_duplicated = sum(max(0, n - owed[key]) for key, n in told.items())


def most_in_any(arrivals: list[float], window: float) -> int:
    best, first = 0, 0
    for last, at in enumerate(arrivals):
        while arrivals[first] <= at - window:
            first += 1
        best = max(best, last - first + 1)
    return best


def tally(figures: Figures, zoho: FakeZoho, slack: FakeSlack, load: Workload, starts: dict) -> None:
    calls = sorted(zoho.calls(), key=lambda c: c.at)
    figures.calls = len(calls)
    figures.most_in_a_minute = most_in_any([c.at for c in calls], 60.0)
    figures.locks = sum(1 for c in calls if c.status == 429) + int(zoho.is_locked())
    figures.token_refreshes = len(zoho.token_requests())
    last: dict[str, float] = {}
    for call in calls:
        if call.path.endswith("/sessions") and call.query.get("startIndex", "0") == "0":
            if call.at - last.get(call.path, -1e12) < FRESHNESS_MINUTES * 60:
                figures.refetched += 1
            last[call.path] = call.at
    posts = [
        c for c in slack.calls_to("chat.postMessage", ok=True) if NOTICE_TEXT not in str(c.args.get("text"))
    ]
    first_parts = Counter(
        str(c.args["channel"])
        for c in posts
        if (str(c.args["channel"]).startswith("CDIGEST") and "(part " not in str(c.args.get("text")))
        or "(part 1 of" in str(c.args.get("text"))
    )
    figures.digests_due = len({channel for channel, _, _ in load.digests})
    figures.digests_sent = len(first_parts)
    figures.digests_duplicated = sum(n - 1 for n in first_parts.values())
    reminded: Counter[tuple[str, str]] = Counter()
    for call in posts:
        match = REMINDER_TEXT.match(str(call.args.get("text") or ""))
        if match:
            reminded[(str(call.args["channel"]), match.group(1))] += 1
    due = {
        (user, name)
        for user, module, lead in load.reminders
        for name, start in starts[module.module_id]
        if start - lead >= START and start <= END - TICK
    }
    figures.reminders_due = len(due)
    figures.reminders_sent = len(due & set(reminded))
    figures.reminders_duplicated = sum(n - 1 for n in reminded.values())


async def run(name: str, database: str | None, instances: int, lookups: int = COMMANDS) -> Figures:
    figures = Figures(name, instances, lookups)
    org = large_org(DAY)
    load = workload(module_refs(org), lookups)
    clock = FakeClock(START)
    figures.rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with FakeZoho(org) as zoho, FakeSlack() as slack, tempfile.TemporaryDirectory() as folder:
        zoho.clock = clock.time
        for n in range(1, USERS + 1):
            slack.add_user(f"U{n:04d}", f"user{n}", tz="Europe/Paris")
        for n in range(CHANNELS):
            slack.add_channel(f"CDIGEST{n:03d}", f"digest-{n}")
        bots = [
            await start_bot(zoho, slack, clock, Path(folder) / f"i{n}", database) for n in range(instances)
        ]
        try:
            await subscribe(bots[0], load)
            lag_before = LagFigures.read(metrics.exposition()[0].decode())
            for bot in bots:
                bot.loop_lag.worst = 0.0
            started = time.perf_counter()
            await simulate(bots, zoho, clock, load, figures)
            figures.seconds = time.perf_counter() - started
            lag = LagFigures.read(metrics.exposition()[0].decode()).since(lag_before)
            figures.lag_wakeups = lag.count
            figures.lag_p99_ms, figures.lag_max_ms = lag.p99 * 1e3, lag.max * 1e3
            figures.lag_worst_ms = max(bot.loop_lag.worst for bot in bots) * 1e3
            records = await bots[0].store.send_records("digest")
            figures.digests_nothing_upcoming = sum(1 for r in records if r.last_error == "nothing upcoming")
            figures.changes_found = len(await bots[0].store.watches.changes_since(START - TICK))
        finally:
            for bot in bots:
                await bot.aclose()
        figures.rss_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tally(figures, zoho, slack, load, starts_of(org))
    return figures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


def p50_max(seconds: list[float]) -> str:
    return ages(seconds, (0.5, 1.0))


def ages(seconds: list[float], shares: tuple[float, ...]) -> str:
    return " / ".join(minutes(percentile(seconds, share)) for share in shares)


def per(calls: int, count: int) -> str:
    return f"{calls / count:.2f}" if count else "-"


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def table(runs: list[Figures]) -> str:
    """One row per figure, one column per run (a row is a label and how to say it of a run)."""
    rows = [
        ("Zoho calls in the day", lambda f: f"{f.calls} (allowance {PER_DAY}; {PER_DAY - f.calls} unused)"),
        (
            "Zoho calls per lookup / per send / per change found (the day's calls over each)",
            lambda f: (
                f"{per(f.calls, len(f.command_ages) + sum(f.sentences.values()))} / "
                f"{per(f.calls, f.digests_sent + f.reminders_sent)} / {per(f.calls, f.changes_found)}"
            ),
        ),
        ("most calls in any 60 s", lambda f: f"{f.most_in_a_minute} (budget {PER_MINUTE})"),
        ("locks hit", lambda f: str(f.locks)),
        ("token refreshes", lambda f: str(f.token_refreshes)),
        ("same module or batch re-read within 10 min", lambda f: str(f.refetched)),
        ("lookups answered", lambda f: f"{len(f.command_ages) + sum(f.sentences.values())} of {f.lookups}"),
        ("  with sessions / with a sentence", lambda f: f"{len(f.command_ages)} / {dict(f.sentences) or 0}"),
        ("  age of their data p50 / p90 / p99 / max", lambda f: ages(f.command_ages, (0.5, 0.9, 0.99, 1.0))),
        (
            "digests due / sent (+ nothing upcoming, none posted) / duplicated / missed",
            lambda f: (
                f"{f.digests_due} / {f.digests_sent} (+{f.digests_nothing_upcoming}) / "
                f"{f.digests_duplicated} / {f.digests_due - f.digests_sent - f.digests_nothing_upcoming}"
            ),
        ),
        (
            "reminders due / sent / duplicated / missed",
            lambda f: (
                f"{f.reminders_due} / {f.reminders_sent} / {f.reminders_duplicated} / "
                f"{f.reminders_due - f.reminders_sent}"
            ),
        ),
        ("age of digest data at sending p50 / max", lambda f: p50_max(f.send_ages)),
        (
            "changes made in Zoho (sessions) / changes found",
            lambda f: f"{f.changes_made} ({f.sessions_changed or f.changes_made}) / {f.changes_found}",
        ),
        (
            "channel notices due / sent / duplicated; DMs sent",
            lambda f: (
                f"{f.channel_notices_due} / {f.channel_notices_sent} / {f.notices_duplicated}; "
                f"{f.notice_dms_sent}"
            ),
        ),
        (
            "change in Zoho to channel notice p50 / p90 / max",
            lambda f: ages(f.notice_delays, (0.5, 0.9, 1.0)),
        ),
        (
            "peak resident memory (process: instances + fakes)",
            lambda f: f"{f.rss_peak_mb:.0f} MB (before the bots: {f.rss_before_mb:.0f} MB)",
        ),
        (
            "event loop lag over the day, p99 / max (bucket bounds; exact worst) / wake-ups",
            lambda f: (
                f"≤ {f.lag_p99_ms:.1f} ms / ≤ {f.lag_max_ms:.0f} ms ({f.lag_worst_ms:.0f} ms) "
                f"/ {f.lag_wakeups}"
            ),
        ),
        ("wall-clock time of the simulated day", lambda f: f"{f.seconds:.0f} s"),
    ]
    lines = ["| | " + " | ".join(f"{f.name}" for f in runs) + " |", "| --- |" + " --- |" * len(runs)]
    lines += [f"| {label} | " + " | ".join(value(f) for f in runs) + " |" for label, value in rows]
    return "\n".join(lines)


def machine() -> str:
    return (
        f"{platform.machine()}, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


RUNS = (("sqlite", COMMANDS), ("postgres", COMMANDS), ("sqlite", 10 * COMMANDS))
"""What `both` runs: one instance, two, and one with ten times the lookups."""


async def one(kind: str, lookups: int) -> Figures:
    more = "" if lookups == COMMANDS else f", {lookups:,} lookups"
    if kind == "sqlite":
        return await run(f"1 instance, SQLite{more}", None, 1, lookups)
    reason = postgres.available()
    if reason is not None:
        raise SystemExit(f"PostgreSQL run not possible: {reason}")
    server = postgres.acquire()
    try:
        return await run(f"2 instances, one PostgreSQL{more}", server.fresh_database(), 2, lookups)
    finally:
        postgres.release()


def in_own_processes(runs: tuple[tuple[str, int], ...]) -> list[Figures]:
    """Each run in a fresh process, so its peak resident memory is its own; all at once."""
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.day", "--runs", kind, "--lookups", str(lookups), "--json"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind, lookups in runs
    ]
    figures = []
    for process in started:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a run failed: {process.args}")
        data = json.loads(out.strip().splitlines()[-1])
        data["sentences"] = Counter(data["sentences"])
        figures.append(Figures(**data))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.day")
    parser.add_argument("--runs", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--lookups", type=int, default=COMMANDS, help="lookups in the day (one run only)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for `both`)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    if args.runs != "both":
        figures = asyncio.run(one(args.runs, args.lookups))
        # asdict rebuilds a Counter from (key, count) pairs, so the sentences go as a plain dict
        plain = {**asdict(figures), "sentences": dict(figures.sentences)}
        print(json.dumps(plain) if args.json else table([figures]))
        return
    report = table(in_own_processes(RUNS))
    print(report)
    write_results(report)


def write_results(report: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = (
        f"## The working day (`python -m bench.day`)\n\nMachine: {machine()}, 2 cores. "
        "The day is simulated on an injected clock; the fakes run in the same process.\n\n" + report + "\n"
    )
    head, _, rest = text.partition("## The working day")
    tail = rest.partition("\n## ")[2]
    RESULTS.write_text(head.rstrip() + "\n\n" + section + (f"\n## {tail}" if tail else ""), encoding="utf-8")


if __name__ == "__main__":
    main()
