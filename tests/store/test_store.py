"""The store's contract, on SQLite and PostgreSQL alike: schema, subscriptions, claims, skips, the lease."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import StatementError

from bot.sessions.modules import ModuleId, ModuleRef
from bot.store.records import Claim, Schedule, Slot
from bot.store.schema import (
    MIGRATIONS,
    channel_settings,
    leases,
    schema_version,
    session_changes,
    session_watch,
)
from bot.store.store import LimitReached, Store, StoreError, TenantStore
from bot.tenants import Tenant

NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
TTL = timedelta(seconds=90)
STALE = timedelta(minutes=10)
ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "digests",
    "reminder_subscriptions",
    "sends",
    "leases",
    "schema_version",
    "session_watch",
    "session_changes",
    "channel_settings",
}
EVERY_DAY = frozenset(range(7))
TEAM = Tenant("T1")


def mod(key: str, name: str) -> ModuleRef:
    module = ModuleId.parse(key)
    assert module is not None
    return ModuleRef.named(module, name)


@pytest.fixture
async def root(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url)
    yield opened
    await opened.close()


@pytest.fixture
def store(root: Store) -> TenantStore:
    """One workspace's view, as every feature holds it."""
    return root.tenant(TEAM)


async def _tables(root: Store) -> set[str]:
    async with root._engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def _versions(root: Store) -> list[int]:
    async with root._engine.connect() as connection:
        return [row[0] for row in await connection.execute(select(schema_version.c.version))]


# --------------------------------------------------------------------------- schema


async def test_open_creates_the_schema_and_upgrading_again_changes_nothing(
    root: Store, store: TenantStore, backend: str
) -> None:
    assert root.dialect == backend
    assert await _tables(root) >= TABLES
    await store.save_reminder("U1", mod("c/b/m", "Module"), timedelta(minutes=15), NOW)

    await root.upgrade()
    again = await Store.open(root._engine.url.render_as_string(hide_password=False))
    try:
        assert await _versions(again) == sorted(MIGRATIONS)
        assert len(await again.tenant(TEAM).reminders()) == 1, "a second start keeps what is stored"
    finally:
        await again.close()


async def test_a_database_of_the_first_version_is_upgraded_and_keeps_its_data(
    root: Store, store: TenantStore
) -> None:
    await store.save_reminder("U1", mod("c/b/m", "Module"), timedelta(minutes=15), NOW)
    async with root._engine.begin() as connection:  # back to what version 1 created
        for table in (session_watch, session_changes, channel_settings):
            await connection.run_sync(lambda sync, table=table: table.drop(sync))
        await connection.execute(schema_version.delete().where(schema_version.c.version > 1))

    await root.upgrade()

    assert await _tables(root) >= TABLES
    assert await _versions(root) == sorted(MIGRATIONS)
    assert len(await store.reminders()) == 1
    await store.watches.set_channel_notices("C1", False)
    assert await store.watches.channels_without_notices() == {"C1"}


async def test_two_instances_opening_a_new_database_at_once_both_succeed(database_url: str) -> None:
    first, second = await asyncio.gather(Store.open(database_url), Store.open(database_url))
    try:
        assert await _versions(first) == sorted(MIGRATIONS)
        await first.tenant(TEAM).save_digest(
            "C1", mod("c/b/m", "Module"), time(8), EVERY_DAY, "UTC", "U1", NOW
        )
        assert [d.channel_id for d in await second.tenant(TEAM).digests()] == ["C1"]
    finally:
        await first.close()
        await second.close()


def test_two_processes_opening_a_new_sqlite_file_at_once_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    script = (
        "import asyncio, sys\n"
        "from bot.store.store import Store\n"
        "async def main():\n"
        "    store = await Store.open(sys.argv[1])\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen([sys.executable, "-c", script, url], env=env, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    errors = [process.communicate(timeout=60)[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], errors


async def test_opening_an_unreachable_database_raises_a_store_error() -> None:
    with pytest.raises(StoreError, match="database"):
        await Store.open("postgresql+asyncpg://postgres@127.0.0.1:9/nothing")


# --------------------------------------------------------------------------- digests


async def test_digests_are_saved_listed_filtered_and_removed(store: TenantStore) -> None:
    weekdays = frozenset(range(5))
    saved = await store.save_digest(
        "C1", mod("c/b/m1", "Induction"), time(8, 30), weekdays, "Europe/Paris", "U1", NOW
    )
    await store.save_digest("C1", mod("c/b/m2", "Safety"), time(8), EVERY_DAY, "Europe/Paris", "U2", NOW)
    await store.save_digest("C2", mod("c/b/m1", "Induction"), time(9), EVERY_DAY, "UTC", "U1", NOW)

    assert (saved.channel_id, saved.module, saved.at, saved.weekdays) == (
        "C1",
        mod("c/b/m1", "Induction"),
        time(8, 30),
        weekdays,
    )
    assert (saved.zone, saved.created_by, saved.paused_reason) == ("Europe/Paris", "U1", None)
    assert [(d.channel_id, d.module.name) for d in await store.digests()] == [
        ("C1", "Safety"),
        ("C1", "Induction"),
        ("C2", "Induction"),
    ], "ordered by channel, then time of day"
    assert [d.module.name for d in await store.digests(channel_id="C2")] == ["Induction"]
    assert [d.channel_id for d in await store.digests(created_by="U1")] == ["C1", "C2"]

    assert await store.remove_digest("C1", ModuleId("c", "b", "m1")) is True
    assert await store.remove_digest("C1", ModuleId("c", "b", "m1")) is False
    assert [d.module.name for d in await store.digests(channel_id="C1")] == ["Safety"]

    other = (await store.digests(channel_id="C2"))[0]
    assert await store.remove_digest_by_id(other.id) is True
    assert await store.remove_digest_by_id(other.id) is False, "already gone"
    assert [d.channel_id for d in await store.digests()] == ["C1"]


async def test_saving_a_digest_again_changes_its_time_and_unpauses_it(store: TenantStore) -> None:
    first = await store.save_digest("C1", mod("c/b/m", "Induction"), time(8), EVERY_DAY, "UTC", "U1", NOW)
    await store.pause_channel_digests("C1", "the bot is not in this channel")
    assert (await store.digests())[0].paused_reason == "the bot is not in this channel"

    later = NOW + timedelta(days=1)
    again = await store.save_digest(
        "C1", mod("c/b/m", "Induction"), time(9, 15), frozenset({0}), "Europe/Paris", "U2", later
    )

    assert again.id == first.id
    assert (again.at, again.weekdays, again.zone, again.paused_reason) == (
        time(9, 15),
        frozenset({0}),
        "Europe/Paris",
        None,
    )
    assert len(await store.digests()) == 1


async def test_pausing_a_channel_pauses_only_that_channel(store: TenantStore) -> None:
    await store.save_digest("C1", mod("c/b/m", "Induction"), time(8), EVERY_DAY, "UTC", "U1", NOW)
    await store.save_digest("C2", mod("c/b/m", "Induction"), time(8), EVERY_DAY, "UTC", "U1", NOW)
    await store.pause_channel_digests("C1", "gone")
    assert {d.channel_id: d.paused_reason for d in await store.digests()} == {"C1": "gone", "C2": None}


# --------------------------------------------------------------------------- reminders


async def test_reminders_are_saved_listed_and_removed(store: TenantStore) -> None:
    hour = timedelta(hours=1)
    module = await store.save_reminder("U1", mod("c/b/m1", "Induction"), hour, NOW)
    one = await store.save_reminder("U1", mod("c/b/m1", "Induction"), timedelta(minutes=15), NOW, "S1")
    await store.save_reminder("U1", mod("c/b/m2", "Safety"), timedelta(days=1), NOW)
    await store.save_reminder("U2", mod("c/b/m1", "Induction"), hour, NOW)

    assert (module.session_id, module.lead, module.paused_reason) == ("", hour, None)
    assert (one.session_id, one.lead) == ("S1", timedelta(minutes=15))
    assert [(r.module.name, r.session_id) for r in await store.reminders(user_id="U1")] == [
        ("Induction", ""),
        ("Induction", "S1"),
        ("Safety", ""),
    ]

    assert await store.remove_reminders("U1", reminder_id=one.id) == 1
    assert await store.remove_reminders("U1", module=ModuleId("c", "b", "m1")) == 1
    assert [r.module.name for r in await store.reminders(user_id="U1")] == ["Safety"]
    assert await store.remove_reminders("U1") == 1
    assert await store.reminders(user_id="U1") == []
    assert [r.user_id for r in await store.reminders()] == ["U2"], "another person's are kept"


async def test_saving_a_reminder_again_changes_its_lead_and_unpauses_it(store: TenantStore) -> None:
    first = await store.save_reminder("U1", mod("c/b/m", "Induction"), timedelta(minutes=15), NOW)
    await store.pause_user_reminders("U1", "direct messages are turned off")
    assert (await store.reminders())[0].paused_reason == "direct messages are turned off"

    again = await store.save_reminder("U1", mod("c/b/m", "Induction"), timedelta(hours=1), NOW)

    assert (again.id, again.lead, again.paused_reason) == (first.id, timedelta(hours=1), None)
    assert len(await store.reminders()) == 1


# --------------------------------------------------------------------------- sends


async def _claim(store: TenantStore, key: str, holder: str, now: datetime = NOW) -> bool:
    return await store.claim(Slot(key, "reminder", "U1", NOW), holder, now, STALE) is not None


async def test_a_send_is_claimed_once(store: TenantStore) -> None:
    assert await _claim(store, "k", "a") is True
    assert await _claim(store, "k", "b") is False
    assert await _claim(store, "k", "a") is False, "not even by the same holder"


async def test_two_stores_claiming_at_once_give_exactly_one_winner(
    database_url: str, store: TenantStore
) -> None:
    other_root = await Store.open(database_url)
    other = other_root.tenant(TEAM)
    try:
        for n in range(10):
            wins = await asyncio.gather(_claim(store, f"k{n}", "a"), _claim(other, f"k{n}", "b"))
            assert sorted(wins) == [False, True]
    finally:
        await other_root.close()


async def test_a_send_left_for_retry_is_claimed_again_once(store: TenantStore) -> None:
    await _claim(store, "k", "a")
    await store.finish("k", "retry", "internal_error")
    assert await store.finished(["k"]) == set()

    assert await store.claim(Slot("k", "reminder", "U1", NOW), "b", NOW, STALE) == Claim(uncertain=False)
    assert await _claim(store, "k", "a") is False
    assert await store.attempts("k") == 2


async def test_a_lapsed_claim_is_taken_over_but_a_live_one_is_not(store: TenantStore) -> None:
    await _claim(store, "k", "crashed")
    assert await _claim(store, "k", "b", NOW + STALE) is False, "not yet lapsed"
    retaken = await store.claim(
        Slot("k", "reminder", "U1", NOW), "b", NOW + STALE + timedelta(seconds=1), STALE
    )
    assert retaken == Claim(uncertain=True), "the crashed holder may have posted it"


async def test_sent_and_failed_sends_are_never_claimed_again(store: TenantStore) -> None:
    for key, state in (("sent", "sent"), ("failed", "failed")):
        await _claim(store, key, "a")
        await store.finish(key, state)
        assert await _claim(store, key, "b", NOW + timedelta(days=1)) is False
    assert await store.finished(["sent", "failed", "unknown"]) == {"sent", "failed"}
    assert await store.finished([]) == set()


async def test_a_skip_is_recorded_once_and_settles_the_send(store: TenantStore) -> None:
    slot = Slot("digest:C1:2026-03-10", "digest", "C1", NOW)
    assert await store.record_skip(slot, "a", NOW, "missed: bot was down") is True
    assert await store.record_skip(slot, "b", NOW, "missed: bot was down") is False
    assert await store.finished([slot.key]) == {slot.key}
    assert await store.claim(slot, "b", NOW, STALE) is None
    (record,) = await store.send_records("digest")
    assert (record.state, record.last_error, record.attempts) == ("skipped", "missed: bot was down", 0)


async def test_send_records_keep_aware_utc_times_and_old_ones_can_be_forgotten(
    root: Store, store: TenantStore
) -> None:
    paris = datetime(2026, 3, 10, 8, 0, tzinfo=ZoneInfo("Europe/Paris"))
    await store.claim(Slot("old", "digest", "C1", paris - timedelta(days=30)), "a", NOW, STALE)
    await store.claim(Slot("new", "reminder", "U1", paris), "a", NOW, STALE)
    await store.finish("new", "sent")

    records = {r.key: r for r in await store.send_records()}
    assert records["new"].due_at == paris
    assert records["new"].due_at.tzinfo == UTC
    assert records["new"].due_at.hour == 7
    assert (records["new"].state, records["new"].attempts) == ("sent", 1)
    assert [r.key for r in await store.send_records("reminder")] == ["new"]

    assert await root.forget_before(NOW - timedelta(days=7)) == 1
    assert [r.key for r in await store.send_records()] == ["new"]


async def test_created_at_round_trips_as_aware_utc(store: TenantStore) -> None:
    tokyo = datetime(2026, 3, 10, 16, 0, 0, 123000, tzinfo=ZoneInfo("Asia/Tokyo"))
    saved = await store.save_digest("C1", mod("c/b/m", "Induction"), time(8), EVERY_DAY, "UTC", "U1", tokyo)
    assert saved.created_at == tokyo
    assert saved.created_at is not None
    assert saved.created_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(store: TenantStore) -> None:
    with pytest.raises(StatementError, match="aware"):
        await store.save_digest(
            "C1", mod("c/b/m", "Induction"), time(8), EVERY_DAY, "UTC", "U1", datetime(2026, 3, 10, 7)
        )


# --------------------------------------------------------------------------- lease


async def test_the_lease_has_one_holder_renewed_by_it_and_taken_over_after_its_ttl(root: Store) -> None:
    assert await root.hold_lease("scheduler", "a", NOW, TTL) is True
    assert await root.hold_lease("scheduler", "b", NOW, TTL) is False

    renewed = NOW + timedelta(seconds=60)
    assert await root.hold_lease("scheduler", "a", renewed, TTL) is True
    assert await root.hold_lease("scheduler", "b", NOW + TTL + timedelta(seconds=1), TTL) is False, (
        "a renewed lease runs from the renewal"
    )
    assert await root.hold_lease("scheduler", "b", renewed + TTL, TTL) is False, "not before it lapses"

    lapsed = renewed + TTL + timedelta(seconds=1)
    assert await root.hold_lease("scheduler", "b", lapsed, TTL) is True
    assert await root.hold_lease("scheduler", "a", lapsed, TTL) is False


async def test_a_released_lease_is_free_at_once_and_only_its_holder_releases_it(root: Store) -> None:
    await root.hold_lease("scheduler", "a", NOW, TTL)
    await root.release_lease("scheduler", "b")
    assert await root.hold_lease("scheduler", "b", NOW, TTL) is False
    await root.release_lease("scheduler", "a")
    assert await root.hold_lease("scheduler", "b", NOW, TTL) is True


async def test_two_stores_taking_a_new_lease_at_once_give_one_holder(database_url: str, root: Store) -> None:
    other = await Store.open(database_url)
    try:
        for n in range(10):
            wins = await asyncio.gather(
                root.hold_lease(f"lease{n}", "a", NOW, TTL), other.hold_lease(f"lease{n}", "b", NOW, TTL)
            )
            assert sorted(wins) == [False, True]
        async with root._engine.connect() as connection:
            count = (await connection.execute(select(func.count()).select_from(leases))).scalar_one()
        assert count == 10
    finally:
        await other.close()


async def test_subscribing_and_stopping_at_the_same_time_always_answers(store: TenantStore) -> None:
    """Found by a probe: 100 pairs of `remind … 1h` and `remind off` at once, or `digest … at 9:00`
    and `digest off …` in one channel, failed with IndexError and NoResultFound. Each save is one
    statement whose answer is the row as it stands, whichever came first."""
    module = mod("c/b/m", "Module")

    async def remind_pair() -> None:
        await asyncio.gather(
            store.save_reminder("U1", module, timedelta(hours=1), NOW),
            store.remove_reminders("U1", module.id),
        )

    async def digest_pair() -> None:
        await asyncio.gather(
            store.save_digest("C1", module, time(9), EVERY_DAY, "UTC", "U1", NOW),
            store.remove_digest("C1", module.id),
        )

    outcomes = await asyncio.gather(*[remind_pair() for _ in range(100)], return_exceptions=True)
    outcomes += await asyncio.gather(*[digest_pair() for _ in range(100)], return_exceptions=True)
    assert [o for o in outcomes if o is not None] == []
    saved = await store.save_reminder("U1", module, timedelta(hours=2), NOW)
    assert saved.lead == timedelta(hours=2)
    assert len(await store.reminders("U1")) == 1


async def test_fifty_concurrent_digests_from_two_instances_never_pass_the_channel_limit(
    database_url: str, store: TenantStore
) -> None:
    """Found from outside: a channel holding 48 digests took 50 concurrent adds and ended with 90.
    The limit is checked by the statement that saves, so whoever comes third is refused."""
    for n in range(48):
        await store.save_digest("C1", mod(f"c/b/m{n}", f"Module {n}"), time(9), EVERY_DAY, "UTC", "U1", NOW)
    other_root = await Store.open(database_url)
    other = other_root.tenant(TEAM)

    async def add(instance: TenantStore, n: int) -> bool:
        module = mod(f"c/b/new{n}", f"New {n}")
        try:
            await instance.save_digest("C1", module, time(9), EVERY_DAY, "UTC", "U2", NOW, limit=50)
        except LimitReached:
            return False
        return True

    try:
        saved = await asyncio.gather(*[add(store if n % 2 else other, n) for n in range(50)])
    finally:
        await other_root.close()
    assert sum(saved) == 2
    assert len(await store.digests(channel_id="C1")) == 50
    again = await store.save_digest("C1", mod("c/b/m0", "Module 0"), time(8), EVERY_DAY, "UTC", "U1", NOW, 50)
    assert again.at == time(8), "changing the time of a digest the channel has is never refused"


async def test_fifty_concurrent_reminders_never_pass_the_persons_limit(
    database_url: str, store: TenantStore
) -> None:
    for n in range(48):
        await store.save_reminder("U1", mod(f"c/b/m{n}", f"Module {n}"), timedelta(hours=1), NOW)
    other_root = await Store.open(database_url)
    other = other_root.tenant(TEAM)

    async def add(instance: TenantStore, n: int) -> bool:
        try:
            await instance.save_reminder("U1", mod(f"c/b/new{n}", "New"), timedelta(hours=1), NOW, limit=50)
        except LimitReached:
            return False
        return True

    try:
        saved = await asyncio.gather(*[add(store if n % 2 else other, n) for n in range(50)])
    finally:
        await other_root.close()
    assert sum(saved) == 2
    assert len(await store.reminders("U1")) == 50
    changed = await store.save_reminder("U1", mod("c/b/m0", "Module 0"), timedelta(hours=2), NOW, limit=50)
    assert changed.lead == timedelta(hours=2)


async def test_a_digest_form_of_several_modules_is_saved_whole_or_not_at_all(store: TenantStore) -> None:
    for n in range(49):
        await store.save_digest("C1", mod(f"c/b/m{n}", f"Module {n}"), time(9), EVERY_DAY, "UTC", "U1", NOW)
    two = [mod("c/b/x", "X"), mod("c/b/y", "Y")]
    with pytest.raises(LimitReached):
        await store.save_digests("C1", two, Schedule(time(9), EVERY_DAY, "UTC"), "U1", NOW, limit=50)
    assert len(await store.digests(channel_id="C1")) == 49, "the first of the two was not kept"


async def test_moving_a_digest_into_a_full_channel_is_refused_and_changes_nothing(store: TenantStore) -> None:
    for n in range(50):
        await store.save_digest("FULL", mod(f"c/b/m{n}", f"M {n}"), time(9), EVERY_DAY, "UTC", "U1", NOW)
    mine = await store.save_digest("C1", mod("c/b/x", "X"), time(9), EVERY_DAY, "UTC", "U1", NOW)
    with pytest.raises(LimitReached):
        await store.update_digest(mine.id, "FULL", mine.module, time(10), EVERY_DAY, "UTC", limit=50)
    assert await store.digest(mine.id) == mine
    assert (
        await store.update_digest(mine.id + 1000, "C1", mine.module, time(10), EVERY_DAY, "UTC", 50) is None
    )


async def test_a_modules_subscriptions_pause_everywhere_and_keep_an_earlier_reason(
    store: TenantStore,
) -> None:
    gone, kept = mod("c/b/gone", "Gone"), mod("c/b/kept", "Kept")
    for channel in ("C1", "C2"):
        await store.save_digest(channel, gone, time(9), EVERY_DAY, "UTC", "U1", NOW)
    await store.save_digest("C3", kept, time(9), EVERY_DAY, "UTC", "U1", NOW)
    await store.pause_channel_digests("C2", "the channel is archived")
    await store.save_reminder("U1", gone, timedelta(hours=1), NOW)
    await store.save_reminder("U2", kept, timedelta(hours=1), NOW)

    assert await store.pause_module_digests(gone.id, "Zoho no longer has the module") == 1
    assert await store.pause_module_reminders(gone.id, "Zoho no longer has the module") == 1

    reasons = {d.channel_id: d.paused_reason for d in await store.digests()}
    assert reasons == {"C1": "Zoho no longer has the module", "C2": "the channel is archived", "C3": None}
    assert {r.user_id: r.paused_reason for r in await store.reminders()} == {
        "U1": "Zoho no longer has the module",
        "U2": None,
    }


async def test_pausing_everything_for_a_reason_and_resuming_only_that_reason(store: TenantStore) -> None:
    """Zoho disconnected: every active subscription waits; reconnecting resumes those, and only those."""
    await store.save_digest("C1", mod("c/b/a", "A"), time(9), EVERY_DAY, "UTC", "U1", NOW)
    await store.save_digest("C2", mod("c/b/a", "A"), time(9), EVERY_DAY, "UTC", "U1", NOW)
    await store.pause_channel_digests("C2", "the channel is archived")
    await store.save_reminder("U1", mod("c/b/a", "A"), timedelta(hours=1), NOW)

    assert await store.pause_all("not connected") == 2
    assert {d.channel_id: d.paused_reason for d in await store.digests()} == {
        "C1": "not connected",
        "C2": "the channel is archived",
    }
    assert await store.resume_paused("not connected") == 2
    assert {d.channel_id: d.paused_reason for d in await store.digests()} == {
        "C1": None,
        "C2": "the channel is archived",
    }
    assert [r.paused_reason for r in await store.reminders()] == [None]
