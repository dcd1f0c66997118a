"""The bot's SQLAlchemy engines (the store's, the Slack installations', the shared coordination's):
how the bot's database is opened, and when a pooled connection is worth a ping before use.

SQLAlchemy's `pool_pre_ping` checks every connection at every checkout; on asyncpg that check
is a transaction of its own (BEGIN, `;`, ROLLBACK), three round trips before every query, most
of what a quiet scheduler tick cost. A connection used moments ago is alive: only one that sat
in the pool longer than `IDLE_PING_SECONDS` (a server, a proxy or a firewall may have closed it
meanwhile) is pinged, and replaced if dead, before the caller gets it. The pool hands out the
most recently used connection first, so a steady caller (the scheduler, every 30 s) keeps one
that needs no ping. What this gives up: when the database restarts within a minute of a
connection's last use, the first statement on it fails (a tick, or one command) and SQLAlchemy,
seeing the disconnect, replaces every pooled connection; the next one works.

Idleness is measured on the real clock, not the injected one: it is a property of a socket.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

IDLE_PING_SECONDS = 60.0
_USED_AT = "sessions_bot_used_at"


def open_engine(url: str, connect_args: dict[str, Any], **options: Any) -> AsyncEngine:
    """An engine whose pool pings only connections idle for `IDLE_PING_SECONDS` or more (none on
    SQLite: a file does not hang up)."""
    if url.startswith("sqlite"):
        return create_async_engine(url, connect_args=connect_args, **options)
    engine = create_async_engine(
        url, connect_args=connect_args, pool_pre_ping=False, pool_use_lifo=True, **options
    )
    sync = engine.sync_engine

    def used(_: Any, record: ConnectionPoolEntry) -> None:
        record.info[_USED_AT] = time.monotonic()

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _: Any) -> None:
        if time.monotonic() - record.info.get(_USED_AT, 0.0) < IDLE_PING_SECONDS:
            return
        try:
            sync.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # whatever the driver raised: the pool connects afresh
            raise DisconnectionError(f"an idle pooled connection failed its ping: {exc}") from exc

    event.listen(sync, "connect", used)
    event.listen(sync, "checkin", used)
    event.listen(sync, "checkout", checkout)
    return engine


def open_database(url: str) -> AsyncEngine:
    """The engine of the bot's own database at `url` (the store's tables, Slack's installations), as
    every part opening it must: each call bounded (SQLite waits at most 30 s for a writer's lock;
    PostgreSQL gets 10 s to connect and 30 s per statement), and SQLite's connections in WAL mode."""
    sqlite = url.startswith("sqlite")
    connect_args: dict[str, Any] = {"timeout": 30} if sqlite else {"timeout": 10, "command_timeout": 30}
    engine = open_engine(url, connect_args)
    if sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    """WAL lets a second process read while one writes; the busy timeout makes writers queue."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
