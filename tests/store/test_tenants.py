"""Tenants in the store, on SQLite and PostgreSQL: a view sees and changes its own rows only, a
database written before tenants is upgraded with every row given to the workspace, and the
operations across tenants (adopting the unnamed workspace's rows, forgetting a tenant)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import insert

from bot.secrets import Secrets
from bot.sessions.changes import Change, ChangeKind, Known
from bot.sessions.modules import ModuleId, ModuleRef
from bot.store.feeds import FeedKind
from bot.store.records import Slot
from bot.store.schema import MIGRATIONS, schema_version
from bot.store.store import Store, TenantStore
from bot.tenants import Tenant
from tests.store import schema_v4

NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
KEY = "a-secret-key-of-more-than-thirty-two-characters"
MODULE = ModuleRef.named(ModuleId("c", "b", "m"), "Induction")
EVERY_DAY = frozenset(range(7))
ONE, TWO = Tenant("T1"), Tenant("T2")
SESSION = Known("s1", "Meet the team", NOW + timedelta(hours=5), None)
MOVED = Known("s1", "Meet the team", NOW + timedelta(days=1), None)


@pytest.fixture
async def root(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url, Secrets.from_setting(KEY))
    yield opened
    await opened.close()


async def _fill(store: TenantStore, channel: str = "C1") -> int:
    """One row of every kind the tenant can own; returns its digest's id."""
    digest = await store.save_digest(channel, MODULE, time(8), EVERY_DAY, "UTC", "U1", NOW)
    await store.save_reminder("U1", MODULE, timedelta(hours=1), NOW)
    await store.claim(Slot("digest:C1:2026-03-10", "digest", channel, NOW), "a", NOW, timedelta(minutes=10))
    first = await store.watches.record(MODULE, None, "read-1", [SESSION], [], NOW)
    await store.watches.record(
        MODULE, first, "read-2", [MOVED], [Change(ChangeKind.MOVED, SESSION, MOVED)], NOW
    )
    await store.watches.set_channel_notices(channel, False)
    await store.save_connection("workspace", "1000.token", ("eu", "https://a", "https://p"), "U1", NOW)
    await store.add_feed(
        FeedKind.PERSON, "U1", (f"secret-{store.tenant.id}", f"hash-{store.tenant.id}"), "U1", NOW
    )
    return digest.id


async def _everything(store: TenantStore) -> dict[str, object]:
    """All the tenant's view shows of its rows."""
    connection = await store.connection("workspace")
    feed = await store.feed_of(FeedKind.PERSON, "U1")
    return {
        "digests": [(d.channel_id, d.module.key) for d in await store.digests()],
        "reminders": [(r.user_id, r.module.key) for r in await store.reminders()],
        "sends": [(s.key, s.state) for s in await store.send_records()],
        "watches": sorted(await store.watches.fetches()),
        "changes": [c.change.kind for c in await store.watches.changes_since(NOW - timedelta(days=1))],
        "sequences": await store.watches.sequences([MODULE.key]),
        "quiet channels": await store.watches.channels_without_notices(),
        "connection": connection.refresh_token if connection else None,
        "feed": feed.token_hash if feed else None,
    }


NOTHING = {
    "digests": [],
    "reminders": [],
    "sends": [],
    "watches": [],
    "changes": [],
    "sequences": {},
    "quiet channels": set(),
    "connection": None,
    "feed": None,
}


async def test_a_tenants_view_sees_only_its_own_rows_and_the_same_names_do_not_collide(root: Store) -> None:
    one, two = root.tenant(ONE), root.tenant(TWO)
    await _fill(one)
    assert await _everything(two) == NOTHING

    await _fill(two)  # the same channel, person, module, send key and connection name

    for store in (one, two):
        seen = await _everything(store)
        assert seen["digests"] == [("C1", MODULE.key)]
        assert seen["sends"] == [("digest:C1:2026-03-10", "claimed")]
        assert seen["watches"] == [MODULE.key]
        assert seen["sequences"] == {(MODULE.key, "s1"): 1}
        assert seen["feed"] == f"hash-{store.tenant.id}"


async def test_nothing_a_view_does_reaches_another_tenants_rows(root: Store) -> None:
    one, two = root.tenant(ONE), root.tenant(TWO)
    theirs = await _fill(one)
    before = await _everything(one)
    (reminder,) = await one.reminders()

    assert await two.digest(theirs) is None
    assert await two.reminder(reminder.id) is None
    assert await two.remove_digest_by_id(theirs) is False
    assert await two.update_reminder(reminder.id, "U1", MODULE, timedelta(days=1)) is None
    assert await two.update_digest(theirs, "C9", MODULE, time(9), EVERY_DAY, "UTC") is None
    assert await two.remove_reminders("U1") == 0
    assert await two.remove_digest("C1", MODULE) is False
    await two.pause_digest(theirs, "forged")
    await two.pause_channel_digests("C1", "forged")
    await two.pause_user_reminders("U1", "forged")
    assert await two.pause_all("forged") == 0
    assert await two.pause_module_digests(MODULE, "forged") == 0
    await two.finish("digest:C1:2026-03-10", "sent")
    assert await two.finished(["digest:C1:2026-03-10"]) == set()
    assert await two.attempts("digest:C1:2026-03-10") == 0
    assert await two.forget_connection("workspace") is False
    assert await two.feed_by_hash(f"hash-{ONE.id}") is None
    await two.feed_changed(f"hash-{ONE.id}", "digest", NOW)
    assert await two.watches.forget_except([]) == 0
    await two.watches.set_channel_notices("C1", True)

    assert await _everything(one) == before
    assert [d.paused_reason for d in await one.digests()] == [None]
    assert await _everything(two) == NOTHING


async def test_a_database_written_before_tenants_gives_every_row_to_the_workspace(database_url: str) -> None:
    """Today's deployments: a database of version 4, upgraded by a start that named its team."""
    secrets = Secrets.from_setting(KEY)
    old = Store(database_url, secrets)
    async with old._engine.begin() as connection:
        await connection.run_sync(schema_v4.metadata.create_all)
        await connection.run_sync(lambda sync: schema_version.create(sync))
        for version in range(1, 5):
            await connection.execute(schema_version.insert().values(version=version))
        await connection.execute(insert(schema_v4.digests), [_old_digest(7, "C1"), _old_digest(9, "C2")])
        await connection.execute(insert(schema_v4.reminder_subscriptions), [_old_reminder()])
        await connection.execute(insert(schema_v4.sends), [_old_send()])
        await connection.execute(insert(schema_v4.session_watch), [_old_watch()])
        await connection.execute(insert(schema_v4.channel_settings), [{"channel_id": "C1", "notices": False}])
        await connection.execute(insert(schema_v4.zoho_connections), [_old_connection(secrets)])
        await connection.execute(insert(schema_v4.calendar_feeds), [_old_feed(secrets)])
        await connection.execute(insert(schema_v4.session_sequences), [_old_sequence()])
    await old.close()

    root = await Store.open(database_url, secrets, existing_tenant=ONE.id)
    try:
        workspace = root.tenant(ONE)
        seen = await _everything(workspace)
        assert seen["digests"] == [("C1", MODULE.key), ("C2", MODULE.key)]
        assert seen["reminders"] == [("U1", MODULE.key)]
        assert seen["sends"] == [("digest:C1:2026-03-09", "sent")]
        assert seen["watches"] == [MODULE.key]
        assert seen["sequences"] == {(MODULE.key, "s1"): 2}
        assert seen["quiet channels"] == {"C1"}
        assert seen["connection"] == "1000.old-token"
        assert seen["feed"] == "hash-old"
        assert [d.id for d in await workspace.digests()] == [7, 9], "ids kept: buttons already posted work"
        added = await workspace.save_digest("C3", MODULE, time(8), EVERY_DAY, "UTC", "U1", NOW)
        assert added.id == 10, "new ids follow the old ones"
        assert await _everything(root.tenant(TWO)) == NOTHING
        assert await root.tenant_ids() == {ONE.id}
        assert sorted(await _versions(root)) == sorted(MIGRATIONS)
    finally:
        await root.close()


async def test_the_unnamed_workspaces_rows_are_given_to_its_team_once_slack_names_it(root: Store) -> None:
    unnamed, one = root.tenant(Tenant.unnamed()), root.tenant(ONE)
    await _fill(unnamed, "C1")
    await one.save_digest("C1", MODULE, time(9), EVERY_DAY, "UTC", "U2", NOW)  # a twin, written since

    assert await root.adopt(ONE.id) > 0

    assert await _everything(unnamed) == NOTHING
    seen = await _everything(one)
    assert seen["reminders"] == [("U1", MODULE.key)]
    assert seen["connection"] == "1000.token"
    assert [(d.channel_id, d.at) for d in await one.digests()] == [("C1", time(9))], (
        "the team's own twin kept"
    )
    assert await root.single_tenant_id() == ONE.id


async def test_forgetting_a_tenant_deletes_every_row_of_it_and_nothing_else(root: Store) -> None:
    one, two = root.tenant(ONE), root.tenant(TWO)
    await _fill(one)
    await _fill(two)
    kept = await _everything(two)

    assert await root.forget_tenant(ONE.id) >= 9

    assert await _everything(one) == NOTHING
    assert await _everything(two) == kept
    assert await root.tenant_ids() == {TWO.id}


async def _versions(root: Store) -> list[int]:
    async with root._engine.connect() as connection:
        return [row[0] for row in await connection.execute(schema_version.select())]


def _old_digest(ident: int, channel: str) -> dict[str, object]:
    return {
        "id": ident,
        "channel_id": channel,
        "module_key": MODULE.key,
        "module_name": MODULE.title,
        "minute_of_day": 480,
        "weekdays": 127,
        "zone": "UTC",
        "created_by": "U1",
        "created_at": NOW,
    }


def _old_reminder() -> dict[str, object]:
    return {
        "user_id": "U1",
        "module_key": MODULE.key,
        "module_name": MODULE.title,
        "session_id": "",
        "lead_minutes": 60,
        "created_at": NOW,
    }


def _old_send() -> dict[str, object]:
    return {
        "key": "digest:C1:2026-03-09",
        "kind": "digest",
        "target": "C1",
        "due_at": NOW - timedelta(days=1),
        "state": "sent",
        "claimed_by": "a",
        "claimed_at": NOW - timedelta(days=1),
        "attempts": 1,
    }


def _old_watch() -> dict[str, object]:
    sessions = json.dumps([SESSION.to_dict()])
    return {
        "module_key": MODULE.key,
        "revision": 3,
        "fetch_id": "read-3",
        "sessions": sessions,
        "read_at": NOW,
    }


def _old_connection(secrets: Secrets) -> dict[str, object]:
    return {
        "name": "workspace",
        "refresh_token": secrets.seal("1000.old-token"),
        "data_centre": "eu",
        "accounts_url": "https://a",
        "people_url": "https://p",
        "connected_by": "U1",
        "connected_at": NOW,
    }


def _old_feed(secrets: Secrets) -> dict[str, object]:
    """A feed made before its team was recorded (the column was new and optional)."""
    return {
        "token_hash": "hash-old",
        "token": secrets.seal("secret-old"),
        "kind": "person",
        "owner_id": "U1",
        "team_id": None,
        "created_by": "U1",
        "created_at": NOW,
    }


def _old_sequence() -> dict[str, object]:
    return {"module_key": MODULE.key, "session_id": "s1", "sequence": 2, "changed_at": NOW}
