"""What a scheduler tick asks the database, counted statement by statement, on SQLite and PostgreSQL.

Every instance pays its tick every 30 s all day, so a tick in which nothing is due and nothing
is stale (a quiet tick) must cost one statement: the lease's renewal, which also says whether
the subscriptions or the changes found moved. The statements are every one SQLAlchemy sends to
either database (the store's and, on PostgreSQL, the shared coordination's); what the bench
(`bench/tick.py`) measures in round trips and milliseconds, this pins in statements.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.sessions.modules import ModuleRef
from tests.clock import FakeClock
from tests.conftest import StartBot, module_refs
from tests.fakes.zoho_data import Org
from tests.slack.harness import CHANNEL, USER, SlackBot

TICK = 30.0


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement any engine of this process sends while the block runs."""
    sent: list[str] = []

    def record(_: Any, __: Any, statement: str, *___: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def session_reads(harness: SlackBot) -> list[str]:
    return [call.path for call in harness.zoho.calls() if call.path.endswith("/sessions")]


async def following(start_bot: StartBot, modules: list[ModuleRef], clock: FakeClock) -> SlackBot:
    """A bot whose channel has a digest of each module at 23:00 (nothing due today at 10:00),
    after one tick has read the subscriptions, fetched the modules and compared the reads."""
    harness = await start_bot()
    store = harness.bot.store
    for module in modules:
        await store.save_digest(CHANNEL, module, time(23, 0), frozenset(range(7)), "UTC", USER, clock.now())
    first = await harness.bot.scheduler.tick()
    assert first.leader
    assert len(session_reads(harness)) == len({(m.course_id, m.batch_id) for m in modules})
    return harness


async def test_a_quiet_tick_is_one_statement(start_bot: StartBot, clock: FakeClock, org: Org) -> None:
    modules = module_refs(org)[:3]
    harness = await following(start_bot, modules, clock)
    reads = len(session_reads(harness))

    for _ in range(3):
        clock.advance(TICK)
        with statements() as sent:
            report = await harness.bot.scheduler.tick()
        assert report.leader
        assert len(sent) == 1, sent
        assert sent[0].startswith("INSERT INTO leases")
    assert len(session_reads(harness)) == reads, "nothing was stale: Zoho was not asked"


async def test_a_subscription_saved_by_another_instance_is_followed_at_the_next_tick(
    start_bot: StartBot, clock: FakeClock, org: Org
) -> None:
    """The subscriptions are not read again while unchanged; a change anywhere moves their mark."""
    first, second, third = module_refs(org)[:3]
    harness = await following(start_bot, [first], clock)
    other = await start_bot()  # another instance on the same database: a web process
    clock.advance(TICK)
    await harness.bot.scheduler.tick()

    await other.bot.store.save_digest(
        CHANNEL, third, time(23, 0), frozenset(range(7)), "UTC", USER, clock.now()
    )
    clock.advance(TICK)
    await harness.bot.scheduler.tick()

    assert session_reads(harness)[-1].endswith(f"/modules/{third.module_id}/sessions")
    assert second.module_id not in " ".join(session_reads(harness))


async def test_the_planner_reads_the_budget_once_a_tick(
    start_bot: StartBot, clock: FakeClock, org: Org, backend: str
) -> None:
    """However many fetches a tick plans, the minute's, the hour's and the day's calls and Zoho's
    lock are one read of the shared state (on SQLite that state is diskcache: no statement)."""
    modules = module_refs(org)
    harness = await following(start_bot, modules, clock)
    clock.advance(harness.bot.core.sessions.ttl)
    reads = len(session_reads(harness))

    with statements() as sent:
        await harness.bot.scheduler.tick()

    assert len(session_reads(harness)) - reads >= 3, "several fetches in this tick"
    budget = [s for s in sent if s.startswith("SELECT count(*) FILTER")]
    assert len(budget) == (1 if backend == "postgresql" else 0)
