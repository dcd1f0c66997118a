"""Pooled connections the database dropped: pinged and replaced once idle, else one failure.

The pool pings a connection only when it sat idle for `IDLE_PING_SECONDS` (`bot/engines.py`):
a quiet tick then costs its one statement, not a ping transaction as well. Here the network
between the bot and PostgreSQL drops every connection (a proxy cut and restored), as a
restart or a firewall would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import engines
from bot.store.store import Store
from bot.tenants import Tenant
from tests.fakes.proxy import TcpProxy
from tests.store.postgres import PostgresServer


@pytest.fixture
async def proxied(postgres_server: PostgresServer) -> AsyncIterator[tuple[Store, TcpProxy]]:
    """A store reaching its (empty) database through a proxy that can drop the connections."""
    url = postgres_server.fresh_database()
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    proxy = await TcpProxy("127.0.0.1", int(host_port.rsplit(":", 1)[1])).start()
    store = await Store.open(url.replace(host_port, f"127.0.0.1:{proxy.port}"))
    try:
        yield store, proxy
    finally:
        await store.close()
        await proxy.close()


async def dropped(store: Store, proxy: TcpProxy) -> None:
    """A pooled connection, then the network drops it while it sits in the pool."""
    assert await store.answers()
    await proxy.cut()
    await proxy.restore()


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    proxied: tuple[Store, TcpProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, proxy = proxied
    await dropped(store, proxy)
    monkeypatch.setattr(engines, "IDLE_PING_SECONDS", 0.0)  # as if it sat there a minute

    assert await store.tenant(Tenant("T1")).digests() == [], (
        "the ping found it dead: a new connection answered"
    )


async def test_a_connection_dropped_just_after_use_fails_one_statement_then_the_pool_recovers(
    proxied: tuple[Store, TcpProxy],
) -> None:
    """What skipping the ping of a connection used within the minute costs: one failure."""
    store, proxy = proxied
    await dropped(store, proxy)

    assert await store.answers() is False, "not pinged: the statement met the dropped connection"
    assert await store.answers() is True
    assert await store.tenant(Tenant("T1")).digests() == []
