"""How long each heavy piece of work holds the event loop, with a large organisation.

    .venv/bin/python -m bench.stalls [--rounds 5] [--drive 40]

A bot started as in the tests (Bolt behind its aiohttp server on 127.0.0.1, fake Zoho and fake
Slack HTTP servers in their own threads, the bot's clock injected so Zoho's minute budget costs
no real time) serving a large organisation: 5,000 modules (large_org, 250 courses), one module
whose Zoho answer is 5,000 sessions (200 pages), a channel whose digest follows 40 modules
(that one among them), and a person with 200 reminders and 40 digests.

Each step runs on the bot's event loop while a probe asks to be woken every millisecond: the
probe's worst lateness is the longest the loop was held during the step (to within a
millisecond; other threads holding the GIL count too, as they would in production). Steps that
can be repeated run `--rounds` times: the table shows the median time of the whole step and
the worst hold of any round. Then `--drive` menu answers, typed names and App Home openings go
over HTTP at once, and the bot's own `sessions_bot_event_loop_lag_seconds` (read from
`/metrics` before and after) gives the p99 and maximum lag of that drive, with the exact
worst of the bot's 50 ms watcher since it started. The fakes' data is frozen out of the
garbage collector (`gc.freeze`) before the bot starts: a full collection would otherwise walk
the 70,000 sessions of fake Zoho, which the bot alone does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from prometheus_client import CollectorRegistry, Histogram

from bot.app import build_bot
from bot.config import load_settings
from bot.core import build_core
from bot.features.digests.due import digest_at
from bot.features.digests.render import digest_messages
from bot.features.forms.ids import FormAction
from bot.loop_lag import LagFigures, LoopLag
from bot.sessions.modules import ModuleRef
from bot.sessions.urgency import Need, Urgency
from bot.sessions.windows import next_days
from bot.slack.server import start_http, web_app
from bot.store.scoped import TenantStore
from bot.zoho.client import RetryPolicy
from tests.clock import FakeClock
from tests.conftest import module_refs
from tests.fakes.signing import JSON_CONTENT_TYPE, event_body, signed_headers
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, large_org, make_session, zoho_id
from tests.slack.harness import SECRET, SlackBot

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
COURSES = 250
"""large_org's courses: 20 modules each, so 5,000 modules."""
LONG_SESSIONS = 5_000
"""Sessions of the long module: 200 pages of Zoho's 25."""
REMINDERS, DIGESTS = 200, 40
USER, CHANNEL = "U1", "C1"
PROBE_SECONDS = 0.001
SHORT_NAME = "modul 07.2 05"
LONG_NAME = ("onboarding safety " * 20)[:300]


@dataclass
class Row:
    step: str
    seconds: list[float]
    held: float

    def line(self) -> str:
        return f"| {self.step} | {statistics.median(self.seconds) * 1000:.1f} | {self.held * 1000:.1f} |"


def big_org(today: date) -> Org:
    """large_org at 5,000 modules, its first module holding `LONG_SESSIONS` sessions spread from
    30 days back to 60 ahead (Zoho answers past sessions too)."""
    org = large_org(today, courses=COURSES, sessions_per_batch=(10, 30))
    long_module = org.courses[0].batches[0].modules[0]
    for n in range(LONG_SESSIONS):
        start = datetime.combine(today + timedelta(days=n % 90 - 30), datetime.min.time())
        start += timedelta(hours=8 + n % 10, minutes=30 * (n % 2))
        long_module.sessions.append(
            make_session(zoho_id(900000 + n), long_module.module_id, f"Long session {n}", start)
        )
    return org


async def held(step: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(seconds the step took, the longest the loop was held meanwhile)."""
    probe = LoopLag(Histogram("probe", "probe", registry=CollectorRegistry()), PROBE_SECONDS)
    probe.start()
    await asyncio.sleep(PROBE_SECONDS * 3)  # the probe is waiting before the step starts
    started = time.perf_counter()
    await step()
    seconds = time.perf_counter() - started
    await asyncio.sleep(PROBE_SECONDS * 3)  # and wakes once after its last hold
    await probe.stop()
    return seconds, probe.worst


async def measure(step: str, rounds: int, work: Callable[[], Awaitable[Any]]) -> Row:
    row = Row(step, [], 0.0)
    for _ in range(rounds):
        seconds, longest = await held(work)
        row.seconds.append(seconds)
        row.held = max(row.held, longest)
    print(row.line(), flush=True)
    return row


async def start(zoho: FakeZoho, slack: FakeSlack, clock: FakeClock, data: Path) -> SlackBot:
    """The bot as the tests' `make_bot` starts it, on both fakes and the injected clock."""
    environ = {
        **zoho.bot_environment(),
        "BOT_DATA_DIR": str(data),
        "ZOHO_TIMEZONE": "Europe/Paris",
        "ZOHO_CALLS_PER_DAY": "10000000",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
    }
    settings = load_settings(environ=environ, env_file=None)
    core = build_core(settings, clock=clock, retry=RetryPolicy(base_delay=0, max_delay=0))
    bot = build_bot(settings, clock=clock, core=core)
    await bot.start()
    runner = await start_http(web_app(bot.bolt, SECRET, bot.probes(), bot.pages), 0, "127.0.0.1")
    return SlackBot(bot, runner, httpx.AsyncClient(timeout=60), slack, zoho, clock)


async def subscribe(store: TenantStore, modules: list[ModuleRef], now: datetime, at: dt_time) -> None:
    """`REMINDERS` reminders and `DIGESTS` digests of `USER`, the digests all in `CHANNEL` at `at`
    (Paris) every day."""
    for module in modules[:REMINDERS]:
        await store.save_reminder(USER, module, timedelta(hours=1), now)
    for module in modules[:DIGESTS]:
        await store.save_digest(CHANNEL, module, at, frozenset(range(7)), "Europe/Paris", USER, now)


async def open_home(sb: SlackBot) -> None:
    before = len(sb.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": USER, "channel": f"D{USER}", "tab": "home", "event_ts": "1.2"}
    body = event_body(event)
    await sb.post(body, signed_headers(body, SECRET, content_type=JSON_CONTENT_TYPE))
    await sb.slack.wait_for_calls_async("views.publish", before + 1)


async def render_digest(sb: SlackBot) -> int:
    """The channel's digest rendered from the listings held: how many sessions it shows."""
    now = sb.clock.now()
    entry = digest_at(CHANNEL, await sb.bot.store.digests(channel_id=CHANNEL), now)
    window = next_days(now)
    listings = [sb.bot.core.sessions.cached_listing(d.module, now, window) for d in entry.digests]
    held_listings = [listing for listing in listings if listing is not None]
    digest_messages(held_listings, entry.days(), entry.zone)
    return sum(len(listing.sessions) for listing in held_listings)


async def drive(sb: SlackBot, count: int) -> None:
    """`count` menu answers, typed names (short and long) and App Home openings at once."""
    work: list[Awaitable[Any]] = []
    for n in range(count):
        work.append(sb.suggest(FormAction.MODULE, ("modul 07.2 05", "course 03", "mod")[n % 3]))
        if n % 2 == 0:
            work.append(sb.command(SHORT_NAME if n % 4 == 0 else LONG_NAME))
        if n % 8 == 0:
            work.append(open_home(sb))
    await asyncio.gather(*work)


async def lag(sb: SlackBot) -> LagFigures:
    response = await sb.http.get(f"http://127.0.0.1:{sb.port}/metrics")
    return LagFigures.read(response.text)


async def run(rounds: int, count: int) -> None:
    org = big_org(START.date())
    modules = module_refs(org)
    long_module = modules[0]
    clock = FakeClock(START)
    with FakeZoho(org) as zoho, FakeSlack() as slack, tempfile.TemporaryDirectory() as folder:
        zoho.clock = clock.time
        slack.add_user(USER, "ada", tz="Europe/Paris")
        slack.add_channel(CHANNEL, "general")
        gc.freeze()  # the fakes' data (70,000 sessions) is left out of the bot's garbage collections
        sb = await start(zoho, slack, clock, Path(folder))
        catalog, sessions = sb.bot.core.catalog, sb.bot.core.sessions
        try:
            print("| step | time (ms, median) | longest hold of the loop (ms) |")
            print("| --- | --- | --- |")
            await measure(f"catalog walk ({len(modules):,} modules)", 1, catalog.walk)
            await measure(
                "first typed name after the walk (index built)", 1, lambda: catalog.lookup("x", None)
            )
            need = Need(Urgency.PERSON_WAITING)
            await measure(
                f"read a module of {LONG_SESSIONS:,} sessions (200 pages)",
                1,
                lambda: sessions.refresh([long_module], need),
            )
            now, window = clock.now(), next_days(clock.now())
            await measure(
                "its first listing (records parsed)", 1, lambda: sessions.upcoming(long_module, now, window)
            )
            await sessions.refresh(modules[:REMINDERS], need)
            await subscribe(sb.bot.store, modules, clock.now(), START.time())
            shown = await render_digest(sb)
            await measure(
                f"render a digest of {DIGESTS} modules ({shown} sessions)", rounds, lambda: render_digest(sb)
            )
            await measure(
                f"App Home: {REMINDERS} reminders, {DIGESTS} digests (HTTP)", rounds, lambda: open_home(sb)
            )
            for typed in ("mod", "modul 07.2 05"):
                await measure(
                    f"menu answer {typed!r} (HTTP)", rounds, lambda t=typed: sb.suggest(FormAction.MODULE, t)
                )
            await measure(f"typed name {SHORT_NAME!r} (HTTP)", rounds, lambda: sb.command(SHORT_NAME))
            await measure(
                "typed name, 300 characters of nonsense (HTTP)", rounds, lambda: sb.command(LONG_NAME)
            )
            before = await lag(sb)
            seconds, longest = await held(lambda: drive(sb, count))
            during = (await lag(sb)).since(before)
            print(
                f"\nDriven over HTTP at once ({count} menus, {count // 2} typed names, {count // 8 + 1} Home "
                f"openings): {seconds * 1000:.0f} ms; loop lag (/metrics, {during.count} wake-ups) "
                f"p99 <= {during.p99 * 1000:g} ms, max <= {during.max * 1000:g} ms; longest hold "
                f"{longest * 1000:.1f} ms; worst 50 ms wake-up since start "
                f"{sb.bot.loop_lag.worst * 1000:.1f} ms"
            )
        finally:
            await sb.http.aclose()
            await sb.runner.cleanup()
            await sb.bot.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stalls")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--drive", type=int, default=40, help="menu answers driven at once")
    args = parser.parse_args()
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores; load {load}")
    asyncio.run(run(args.rounds, args.drive))
    print(f"load average after: {', '.join(f'{n:.2f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
