"""The coordination contract, on both backends: diskcache (one machine) and PostgreSQL (many).

Every operation the bot relies on to share Zoho's limits between instances is
pinned here once and run against each backend, with two handles on the same
backend standing for two instances.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from bot.coordination import CLAIM_LAPSE_SECONDS, Coordination, CoordinationError
from bot.coordination.disk import DiskCoordination
from bot.coordination.postgres import PostgresCoordination
from tests.clock import FakeClock
from tests.conftest import START
from tests.store.postgres import PostgresServer

NOW = 1_800_000_000.0
MINUTE = ((60.0, 3),)

Opener = Callable[[], Coordination]


@pytest.fixture
async def open_instance(database_url: str, tmp_path: Path) -> AsyncIterator[Opener]:
    """Open handles on one shared backend: the database's kind decides which (SQLite: the disk)."""
    opened: list[Coordination] = []

    def open_one() -> Coordination:
        if database_url.startswith("postgresql"):
            handle: Coordination = PostgresCoordination(database_url)
        else:
            handle = DiskCoordination(tmp_path / "shared")
        opened.append(handle)
        return handle

    yield open_one
    for handle in opened:
        await handle.close()


async def test_a_value_is_seen_by_every_instance_until_it_lapses(open_instance: Opener) -> None:
    one, two = open_instance(), open_instance()
    await one.put("k", "v1", expires_at=NOW + 10)
    assert await two.get("k", NOW) == "v1"
    assert two.peek("k", NOW) == "v1", "peek shows what get last saw"
    assert await two.get("k", NOW + 10) is None, "lapsed"
    await two.put("k", "v2")
    assert await one.get("k", NOW + 10_000) == "v2", "no expiry: kept"


async def test_add_is_won_by_one_instance_and_again_once_it_lapses(open_instance: Opener) -> None:
    instances = [open_instance() for _ in range(4)]
    won = await asyncio.gather(*(c.add("mutex", f"owner{i}", NOW, NOW + 30) for i, c in enumerate(instances)))
    assert sorted(won) == [False, False, False, True]
    assert await instances[1].add("mutex", "late", NOW + 29, NOW + 60) is False
    assert await instances[1].add("mutex", "late", NOW + 30, NOW + 60) is True, "the claim lapsed"
    assert await instances[2].get("mutex", NOW + 31) == "late"


async def test_delete_with_a_value_only_deletes_while_it_holds_that_value(open_instance: Opener) -> None:
    one, two = open_instance(), open_instance()
    await one.put("mutex", "owner-a")
    await two.delete("mutex", "owner-b")
    assert await one.get("mutex", NOW) == "owner-a"
    await two.delete("mutex", "owner-a")
    assert await one.get("mutex", NOW) is None


async def test_forgetting_a_prefix_deletes_its_values_and_logs_and_nothing_else(
    open_instance: Opener,
) -> None:
    one, two = open_instance(), open_instance()
    for key in ("tenant:T1:zoho:token", "tenant:T1:snapshot:a/b/c", "tenant:T10:zoho:token", "t_nant:T1:x"):
        await one.put(key, "v")
    await one.take_slot("tenant:T1:zoho:lms", NOW, [(60.0, 5)])
    await one.take_slot("tenant:T10:zoho:lms", NOW, [(60.0, 5)])

    await two.forget_prefix("tenant:T1:")

    assert [await one.get(k, NOW) for k in ("tenant:T1:zoho:token", "tenant:T1:snapshot:a/b/c")] == [
        None,
        None,
    ]
    assert [await one.get(k, NOW) for k in ("tenant:T10:zoho:token", "t_nant:T1:x")] == ["v", "v"]
    assert await one.count_since("tenant:T1:zoho:lms", NOW - 60) == 0
    assert await one.count_since("tenant:T10:zoho:lms", NOW - 60) == 1


async def test_slots_are_shared_and_never_over_the_limit_under_contention(open_instance: Opener) -> None:
    instances = [open_instance() for _ in range(3)]
    results = await asyncio.gather(*(instances[i % 3].take_slot("lms", NOW, MINUTE) for i in range(12)))
    taken = [r for r in results if r == (0.0, 0.0)]
    assert len(taken) == 3, "three instances, twelve callers, three slots"
    assert all(r == (pytest.approx(60.0), 60.0) for r in results if r != (0.0, 0.0))
    assert await instances[0].count_since("lms", NOW - 60) == 3
    assert await instances[1].take_slot("lms", NOW + 60, MINUTE) == (0.0, 0.0), "the window slid"


async def test_the_fullest_of_several_windows_says_how_long_to_wait(open_instance: Opener) -> None:
    one = open_instance()
    day = ((60.0, 10), (86_400.0, 2))
    assert await one.take_slot("lms", NOW, day) == (0.0, 0.0)
    assert await one.take_slot("lms", NOW + 1, day) == (0.0, 0.0)
    wait, window = await one.take_slot("lms", NOW + 100, day)
    assert (wait, window) == (pytest.approx(86_400.0 - 100), 86_400.0)
    assert await one.count_since("lms", NOW - 1) == 2, "a refused slot records nothing"
    assert await one.count_since("other", NOW - 1) == 0, "logs are kept apart by name"


async def test_exclusive_is_held_by_one_instance_at_a_time(open_instance: Opener, backend: str) -> None:
    one, two = open_instance(), open_instance()
    inside: list[str] = []

    async def hold(handle: Coordination, name: str) -> None:
        async with handle.exclusive("fetching:batch", FakeClock(START), seconds=10):
            inside.append(f"{name} in")
            await asyncio.sleep(0.05)
            inside.append(f"{name} out")

    await asyncio.gather(hold(one, "a"), hold(two, "b"))
    if backend == "postgresql":
        assert inside in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    else:
        assert sorted(inside) == ["a in", "a out", "b in", "b out"], "one machine holds nothing"


async def enter_while_time_passes(
    claim: AbstractAsyncContextManager[None], clock: FakeClock, seconds: float
) -> None:
    """Start entering `claim` (leaving it at once), move `clock` on by `seconds` while it waits,
    and wait for it to get the claim or give up."""

    async def enter() -> None:
        async with claim:
            pass

    waiter = asyncio.ensure_future(enter())
    await asyncio.sleep(0)  # the waiter reads the clock and asks for the claim
    clock.advance(seconds)
    await asyncio.wait_for(waiter, timeout=30)


async def test_waiting_too_long_for_exclusive_is_a_typed_error_on_the_injected_clock(
    postgres_server: PostgresServer,
) -> None:
    """The wait is measured on the clock the bot is given: 45 s of it pass at once here, and the
    waiter gives up (on the real clock it would still be waiting when the test gives up, at 30 s);
    the holder's claim, taken 45 s before, has not lapsed."""
    url = postgres_server.fresh_database()
    one, two = PostgresCoordination(url), PostgresCoordination(url)
    clock = FakeClock(START)
    try:
        async with one.exclusive("fetching:m", clock, seconds=1):
            with pytest.raises(CoordinationError):
                await enter_while_time_passes(two.exclusive("fetching:m", clock, seconds=45), clock, 45)
    finally:
        await one.close()
        await two.close()


async def test_a_dead_holders_claim_lapses_on_the_injected_clock(open_instance: Opener, backend: str) -> None:
    """A holder killed mid-fetch never lets go: its claim lapses `CLAIM_LAPSE_SECONDS` of the
    injected clock after it was taken, and a waiter then gets it."""
    if backend != "postgresql":
        pytest.skip("one machine holds nothing")
    one, two = open_instance(), open_instance()
    clock = FakeClock(START)
    # The claim an instance took just before it died, as `exclusive` takes it:
    assert await one.add("fetching:m", "dead-owner", clock.time(), clock.time() + CLAIM_LAPSE_SECONDS)
    claim = two.exclusive("fetching:m", clock, seconds=CLAIM_LAPSE_SECONDS + 10)
    await enter_while_time_passes(claim, clock, CLAIM_LAPSE_SECONDS)  # got it: no error


async def test_a_tally_counts_each_window_and_reads_a_value_at_once(open_instance: Opener) -> None:
    one, two = open_instance(), open_instance()
    for at in (NOW - 7200, NOW - 1800, NOW - 30, NOW - 10):
        assert await one.take_slot("lms", at, ((60.0, 10), (86_400.0, 100))) == (0.0, 0.0)
    await one.put("lock", "until", expires_at=NOW + 5)
    assert await two.tally("lms", (NOW - 60, NOW - 3600, NOW - 86_400), "lock", NOW) == ([2, 3, 4], "until")
    assert await two.tally("lms", (NOW - 60,), "lock", NOW + 5) == ([2], None), "the value lapsed"
    assert two.peek("lock", NOW) == "until", "peek shows what the tally saw"
    assert await two.tally("other", (NOW - 60,), "nothing", NOW) == ([0], None)


async def test_an_unreachable_database_is_a_typed_error() -> None:
    handle = PostgresCoordination("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(CoordinationError):
            await handle.get("k", NOW)
    finally:
        await handle.close()
