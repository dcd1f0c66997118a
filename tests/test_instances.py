"""Several instances, one organisation: Zoho's limits hold however many instances run.

Two bot cores with separate data folders (as on two machines) share one
PostgreSQL database and are driven with cold lookups of more modules than one
minute's budget allows, each module asked from both instances at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from bot.core import Core
from bot.sessions.errors import SessionsError
from bot.sessions.modules import ModuleRef
from bot.sessions.windows import next_days
from bot.slack.errors import sentence_for
from tests.clock import FakeClock
from tests.conftest import TODAY, MakeCore, module_refs
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, large_org
from tests.store.postgres import PostgresServer

PER_MINUTE = 10
ORG = large_org(TODAY, courses=4, batches_per_course=2, modules_per_batch=5, sessions_per_batch=(10, 20))
"""40 modules of a few sessions each: one page per module."""


@pytest.fixture
def org() -> Org:
    return ORG


def all_modules() -> list[ModuleRef]:
    return module_refs(ORG)


@pytest.fixture
def two_instances(make_core: MakeCore, postgres_server: PostgresServer, tmp_path: Path) -> tuple[Core, Core]:
    url = postgres_server.fresh_database()
    return tuple(  # type: ignore[return-value]
        make_core(DATABASE_URL=url, BOT_DATA_DIR=str(tmp_path / name), ZOHO_CALLS_PER_MINUTE=str(PER_MINUTE))
        for name in ("web", "worker")
    )


async def answer(core: Core, module: ModuleRef, clock: FakeClock) -> str:
    """What a person would see: sessions, or the sentence for why not."""
    try:
        listing = await core.sessions.upcoming(
            module, clock.now(), next_days(clock.now(), 90), clock.time() + 20
        )
    except SessionsError as exc:
        return sentence_for(exc)
    return f"{len(listing.sessions)} sessions"


def most_in_any_minute(arrivals: list[float]) -> int:
    arrivals = sorted(arrivals)
    return max((sum(1 for t in arrivals if start <= t < start + 60) for start in arrivals), default=0)


async def test_two_instances_spend_one_budget_one_token_and_fetch_each_module_once(
    two_instances: tuple[Core, Core], fz: FakeZoho, clock: FakeClock
) -> None:
    web, worker = two_instances
    modules = all_modules()
    asks = [answer(instance, module, clock) for module in modules for instance in (web, worker)]

    answers = await asyncio.gather(*asks)

    calls = fz.calls()
    assert most_in_any_minute([c.at for c in calls]) <= PER_MINUTE
    assert len(calls) == PER_MINUTE, "the minute's budget, spent once for both instances"
    assert not fz.is_locked()
    assert len(fz.token_requests()) == 1, "one access token for both instances"
    assert max(Counter(c.path for c in calls).values()) == 1, "no module fetched twice"
    with_sessions = [a for a in answers if a.endswith(" sessions")]
    assert len(with_sessions) >= 2 * PER_MINUTE - 2, "each fetched module answers both instances"
    busy = [a for a in answers if not a.endswith(" sessions")]
    assert busy, "more modules than the minute allows"
    assert all(a.startswith("The bot is at its Zoho call limit right now") for a in busy)

    clock.advance(61)
    paths = {c.path for c in calls}
    fetched = next(m for m in modules if any(p.endswith(f"/modules/{m.module_id}/sessions") for p in paths))
    fz.clear()
    await answer(worker, fetched, clock)
    await answer(web, fetched, clock)
    assert fz.calls() == [], "what one instance fetched, the other answers from"


async def test_a_lock_one_instance_meets_stops_the_other(
    two_instances: tuple[Core, Core], fz: FakeZoho, clock: FakeClock
) -> None:
    web, worker = two_instances
    first, second = all_modules()[:2]
    fz.answer_429_next(1)
    assert (await answer(web, first, clock)).startswith("Zoho has paused the bot's access")
    fz.clear()
    assert (await answer(worker, second, clock)).startswith("Zoho has paused the bot's access")
    assert fz.calls() == [], "nothing reaches Zoho during the lock, from any instance"


async def test_one_instance_walks_the_catalog_and_the_other_matches_against_its_walk(
    two_instances: tuple[Core, Core], fz: FakeZoho, clock: FakeClock
) -> None:
    web, worker = two_instances
    walked = await worker.catalog.walk()
    calls = len(fz.calls())

    assert await web.catalog.take_shared()
    assert not web.catalog.is_due(), "the other instance's walk is recent: no walk of its own"
    assert len(web.catalog.modules()) == walked
    assert {m.key for m in web.catalog.modules()} == {m.key for m in worker.catalog.modules()}
    assert len(fz.calls()) == calls, "no Zoho call for the second instance's catalog"

    web.catalog.forget()  # Zoho reconnected here: the walk shared before is of the last organisation
    assert not await web.catalog.take_shared()
    assert web.catalog.is_due()
