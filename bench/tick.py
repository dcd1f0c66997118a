"""What one scheduler tick costs the database: round trips and milliseconds, quiet and busy.

    .venv/bin/python -m bench.tick                   # SQLite and PostgreSQL; prints a Markdown table
    .venv/bin/python -m bench.tick --runs sqlite     # one backend only

The leader's tick is what every instance pays every 30 s, all day, whether or not
anything happens, so its fixed cost matters more than its busy cost. The
workload is the working day's (`bench.day`): 200 modules in 20 batches, 50
digest channels, and its reminders 15 minutes and an hour ahead (about two
thirds of its 1,000; those a day ahead are left out, as today's sessions would
keep them due, though long sent, all night). The clock starts at 02:00 in
Paris, when nothing is due. Warm-up: ticks until a tick asks Zoho nothing (every followed
module read once, every read compared). Quiet ticks: the next ticks, each 30 s
later, with nothing due and nothing to refresh (checked: no Zoho call, nothing
sent). Busy ticks: the clock then moves past the freshness setting, so every
followed module is stale: a busy tick reads what the minute's budget allows
(the tick after it, finding the minute spent, is not counted) and compares the
new reads.

How round trips are counted:

- PostgreSQL: a TCP proxy between the bot and the server (both the store's and
  the coordination's connections go through it) counts exchanges: bytes from
  the bot after the server last spoke open a new one. A pre-ping, a BEGIN, a
  prepare, a COMMIT each count; statements the driver sends together count once.
- SQLite: every call the store hands to aiosqlite's worker thread and waits for
  (execute, fetch, commit, rollback, cursor open and close). The Zoho state and
  shared session data live in diskcache on this backend, called in-process: not counted.

Statements (SQLAlchemy's `before_cursor_execute`, every engine) are shown
beside them. Milliseconds are measured in a second run without the counting
(no proxy, no wrapper), as the median tick; the fakes run in the same process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite.core
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.day import CHANNELS, DAY, PARIS, USERS, subscribe, workload
from bench.day import start_bot as start_day_bot
from bot.app import Bot
from bot.sessions.modules import ModuleRef
from tests.clock import FakeClock
from tests.conftest import module_refs
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import large_org
from tests.store import postgres

TICK = timedelta(seconds=30)
START = datetime.combine(DAY, datetime.min.time(), PARIS) + timedelta(hours=2)
WARM_UP_TICKS = 60
QUIET_TICKS = 8
BUSY_TICKS = 5
FRESHNESS_MINUTES = 30
"""Long enough for the quiet ticks to follow a warm-up of several minutes' budget (the day's
allowance is set high enough that the hourly pacing does not stretch the warm-up)."""


@dataclass
class Sample:
    """One tick: what it cost, and what it did."""

    round_trips: int = 0
    statements: int = 0
    ms: float = 0.0
    zoho_calls: int = 0
    sent: int = 0


@dataclass
class Run:
    quiet: list[Sample] = field(default_factory=list)
    busy: list[Sample] = field(default_factory=list)
    warm_up_ticks: int = 0


class Counters:
    """Round trips and statements seen since the last `take`."""

    def __init__(self) -> None:
        self.round_trips = 0
        self.statements = 0

    def take(self) -> tuple[int, int]:
        taken = (self.round_trips, self.statements)
        self.round_trips = self.statements = 0
        return taken


class CountingProxy:
    """Forwards TCP to PostgreSQL and counts request/answer exchanges on every connection."""

    def __init__(self, target_port: int, counters: Counters) -> None:
        self._target_port = target_port
        self._counters = counters
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        server_spoke = [True]

        async def requests() -> None:
            while data := await reader.read(65536):
                if server_spoke[0]:
                    self._counters.round_trips += 1
                    server_spoke[0] = False
                up_writer.write(data)
                await up_writer.drain()

        async def answers() -> None:
            while data := await up_reader.read(65536):
                server_spoke[0] = True
                writer.write(data)
                await writer.drain()

        pipes = {asyncio.ensure_future(requests()), asyncio.ensure_future(answers())}
        with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)  # either end closing ends both
        for pipe in pipes:
            pipe.cancel()
        for end in (writer, up_writer):
            end.transport.abort()
        if task is not None:
            self._tasks.discard(task)


@contextlib.contextmanager
def counting_statements(counters: Counters) -> Iterator[None]:
    def count(*_: Any) -> None:
        counters.statements += 1

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", count)


@contextlib.contextmanager
def counting_sqlite_calls(counters: Counters) -> Iterator[None]:
    """Every call aiosqlite hands to its worker thread and waits for."""
    original = aiosqlite.core.Connection._execute

    async def counted(self: aiosqlite.core.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counters.round_trips += 1
        return await original(self, fn, *args, **kwargs)

    aiosqlite.core.Connection._execute = counted  # type: ignore[method-assign]
    try:
        yield
    finally:
        aiosqlite.core.Connection._execute = original  # type: ignore[method-assign]


async def start_bot(
    zoho: FakeZoho, slack: FakeSlack, clock: FakeClock, data: Path, database: str | None
) -> Bot:
    """The working day's bot, with a day's allowance no tick here can spend."""
    return await start_day_bot(
        zoho, slack, clock, data, database, per_day=25000, freshness_minutes=FRESHNESS_MINUTES
    )


async def tick(bot: Bot, zoho: FakeZoho, counters: Counters) -> Sample:
    calls = len(zoho.calls())
    counters.take()
    started = time.perf_counter()
    report = await bot.scheduler.tick()
    ms = (time.perf_counter() - started) * 1000
    round_trips, statements = counters.take()
    return Sample(round_trips, statements, ms, len(zoho.calls()) - calls, len(report.sent))


async def measure(database: str | None, counting: bool) -> Run:
    """One bot on `database` (None: SQLite in its data folder) through warm-up, quiet and busy ticks."""
    org = large_org(DAY)
    day = workload(module_refs(org))
    load = replace(day, reminders=[r for r in day.reminders if r[2] < timedelta(days=1)])
    followed = [module for _, module, _ in load.digests] + [module for _, module, _ in load.reminders]
    clock = FakeClock(START)
    counters = Counters()
    run = Run()
    proxy: CountingProxy | None = None
    with contextlib.ExitStack() as stack:
        zoho = stack.enter_context(FakeZoho(org))
        slack = stack.enter_context(FakeSlack())
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        zoho.clock = clock.time
        for n in range(1, USERS + 1):
            slack.add_user(f"U{n:04d}", f"user{n}", tz="Europe/Paris")
        for n in range(CHANNELS):
            slack.add_channel(f"CDIGEST{n:03d}", f"digest-{n}")
        if counting:
            stack.enter_context(counting_statements(counters))
            if database is None:
                stack.enter_context(counting_sqlite_calls(counters))
        if counting and database is not None:
            host_port = database.split("@", 1)[1].split("/", 1)[0]
            proxy = CountingProxy(int(host_port.rsplit(":", 1)[1]), counters)
            await proxy.start()
            database = database.replace(host_port, f"127.0.0.1:{proxy.port}")
        bot = await start_bot(zoho, slack, clock, Path(folder) / "bot", database)
        try:
            await subscribe(bot, load)
            for _ in range(WARM_UP_TICKS):
                run.warm_up_ticks += 1
                sample = await tick(bot, zoho, counters)
                clock.advance(TICK.total_seconds())
                if sample.zoho_calls == 0 and all_fresh(bot, followed):
                    break
            for _ in range(QUIET_TICKS):
                sample = await tick(bot, zoho, counters)
                clock.advance(TICK.total_seconds())
                if sample.zoho_calls or sample.sent:
                    raise SystemExit(f"a quiet tick was not quiet: {sample}")
                run.quiet.append(sample)
            clock.advance(FRESHNESS_MINUTES * 60)
            for _ in range(BUSY_TICKS * 4):
                sample = await tick(bot, zoho, counters)
                clock.advance(TICK.total_seconds())
                if sample.zoho_calls:
                    run.busy.append(sample)  # the ticks between wait for the minute's budget
                if len(run.busy) == BUSY_TICKS:
                    break
        finally:
            await bot.aclose()
            if proxy is not None:
                await proxy.close()
    return run


def all_fresh(bot: Bot, modules: list[ModuleRef]) -> bool:
    return all(bot.core.sessions.is_fresh(module) for module in modules)


async def backend(kind: str) -> tuple[Run, Run]:
    """(counted run, timed run) on one backend."""
    if kind == "sqlite":
        return await measure(None, counting=True), await measure(None, counting=False)
    reason = postgres.available()
    if reason is not None:
        raise SystemExit(f"PostgreSQL run not possible: {reason}")
    server = postgres.acquire()
    try:
        counted = await measure(server.fresh_database(), counting=True)
        timed = await measure(server.fresh_database(), counting=False)
    finally:
        postgres.release()
    return counted, timed


def mean(values: list[int]) -> str:
    low, high = min(values), max(values)
    figure = f"{statistics.mean(values):.1f}".removesuffix(".0")
    return figure if low == high else f"{figure} ({low}–{high})"


def table(runs: dict[str, tuple[Run, Run]]) -> str:
    names = {"sqlite": "SQLite (1 instance)", "postgres": "PostgreSQL (1 instance)"}
    rows = []
    for label, pick in (("quiet", lambda r: r.quiet), ("busy", lambda r: r.busy)):
        rows += [
            (
                f"{label} tick: round trips",
                [mean([s.round_trips for s in pick(counted)]) for counted, _ in runs.values()],
            ),
            (
                f"{label} tick: statements",
                [mean([s.statements for s in pick(counted)]) for counted, _ in runs.values()],
            ),
            (
                f"{label} tick: ms (median)",
                [f"{statistics.median(s.ms for s in pick(timed)):.1f}" for _, timed in runs.values()],
            ),
        ]
        if label == "busy":
            rows.append(
                (
                    "busy tick: Zoho calls",
                    [mean([s.zoho_calls for s in pick(counted)]) for counted, _ in runs.values()],
                )
            )
    lines = [
        "| per tick | " + " | ".join(names[k] for k in runs) + " |",
        "| --- |" + " --- |" * len(runs),
    ]
    lines += [f"| {label} | " + " | ".join(values) + " |" for label, values in rows]
    warm = ", ".join(f"{names[k]}: {counted.warm_up_ticks}" for k, (counted, _) in runs.items())
    lines += [
        "",
        f"Mean over {QUIET_TICKS} quiet and {BUSY_TICKS} busy ticks (lowest–highest where they differ); "
        f"warm-up ticks: {warm}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tick")
    parser.add_argument("--runs", choices=("both", "sqlite", "postgres"), default="both")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    kinds = ("sqlite", "postgres") if args.runs == "both" else (args.runs,)
    runs = {kind: asyncio.run(backend(kind)) for kind in kinds}
    print(table(runs))


if __name__ == "__main__":
    main()
