"""Calendar feeds' tokens and sessions' change counts in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.secrets import Secrets
from bot.sessions.changes import Change, ChangeKind, Known
from bot.sessions.modules import ModuleRef
from bot.store.feeds import FeedKind
from bot.store.schema import calendar_feeds
from bot.store.store import Store, TenantStore
from bot.tenants import Tenant

NOW = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
MODULE = ModuleRef("c1", "b1", "m1", "Induction")


@pytest.fixture
async def root(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(
        database_url, Secrets.from_setting("a-secret-key-of-more-than-thirty-two-characters")
    )
    yield opened
    await opened.close()


@pytest.fixture
def store(root: Store) -> TenantStore:
    return root.tenant(Tenant("T1"))


async def test_a_feed_is_one_per_owner_kept_hashed_and_a_reset_replaces_it(
    root: Store, store: TenantStore
) -> None:
    first = await store.add_feed(FeedKind.PERSON, "U1", ("token-one", "hash-one"), "U1", NOW)
    again = await store.add_feed(FeedKind.PERSON, "U1", ("token-two", "hash-two"), "U1", NOW)
    assert (again.token, again.token_hash) == (first.token, first.token_hash) == ("token-one", "hash-one")
    async with root._engine.connect() as connection:
        (kept,) = (await connection.execute(select(calendar_feeds.c.token))).all()
    assert "token-one" not in kept[0], "the token is kept sealed, never in clear"

    await store.replace_feed(FeedKind.PERSON, "U1", ("token-three", "hash-three"), "U1", NOW)

    assert await store.feed_by_hash("hash-one") is None
    found = await store.feed_by_hash("hash-three")
    assert found is not None
    assert (found.kind, found.owner_id, found.token) == (FeedKind.PERSON, "U1", "token-three")
    assert await store.feed_of(FeedKind.CHANNEL, "U1") is None, "a person's feed is not a channel's"


async def test_a_sessions_change_count_grows_with_each_change_recorded(
    root: Store, store: TenantStore
) -> None:
    before = Known("s1", "Meet the team", NOW + timedelta(hours=5), None)
    moved = Known("s1", "Meet the team", NOW + timedelta(days=2), None)
    first = await store.watches.record(MODULE, None, "read-1", [before], [], NOW)
    second = await store.watches.record(
        MODULE, first, "read-2", [moved], [Change(ChangeKind.MOVED, before, moved)], NOW
    )
    await store.watches.record(MODULE, second, "read-3", [], [Change(ChangeKind.CANCELLED, moved, None)], NOW)

    assert await store.watches.sequences([MODULE.key]) == {(MODULE.key, "s1"): 2}
    assert await root.forget_before(NOW + timedelta(days=366)) >= 1
    assert await store.watches.sequences([MODULE.key]) == {}, "forgotten a year after its last change"
