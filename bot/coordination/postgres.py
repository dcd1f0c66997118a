"""Coordination through the shared PostgreSQL database, for instances on any number of machines.

Two tables of their own, created on first use (`IF NOT EXISTS`, under an
advisory lock, so instances starting together agree): `shared_values` (a key,
its value and when it lapses) and `call_log` (one row per event of a named
log). Each decision is the database's: `add` is a conditional upsert, and
`take_slot` counts and inserts inside one transaction holding an advisory lock
on the log's name, so two instances can never both take the last slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from bot.coordination import CoordinationError, Limits, wait_for_room

metadata = MetaData()

shared_values = Table(
    "shared_values",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", Float, doc="clock seconds; NULL: never lapses"),
)

call_log = Table(
    "call_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_call_log_name_at", "name", "at"),
)

CREATE_LOCK_ID = 0x5E5510B1
CLAIM_LAPSE_SECONDS = 60.0
CLAIM_POLL_SECONDS = 0.02
CONNECT_SECONDS = 10
STATEMENT_SECONDS = 30


class PostgresCoordination:
    def __init__(self, url: str) -> None:
        self._engine: AsyncEngine = create_async_engine(
            url,
            connect_args={"timeout": CONNECT_SECONDS, "command_timeout": STATEMENT_SECONDS},
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            pool_timeout=STATEMENT_SECONDS,
        )
        self._ready = False
        self._creating = asyncio.Lock()
        self._seen: dict[str, tuple[str, float | None]] = {}
        """What `get` and `put` last saw of each key, for `peek`."""

    async def get(self, key: str, now: float) -> str | None:
        async with self._connect() as connection:
            row = (
                await connection.execute(
                    select(shared_values.c.value, shared_values.c.expires_at).where(
                        shared_values.c.key == key
                    )
                )
            ).first()
        if row is None:
            self._seen.pop(key, None)
            return None
        self._seen[key] = (row.value, row.expires_at)
        return self.peek(key, now)

    def peek(self, key: str, now: float) -> str | None:
        value, expires_at = self._seen.get(key, (None, None))
        return value if value is not None and (expires_at is None or expires_at > now) else None

    async def put(self, key: str, value: str, expires_at: float | None = None) -> None:
        statement = insert(shared_values).values(key=key, value=value, expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=[shared_values.c.key], set_={"value": value, "expires_at": expires_at}
        )
        async with self._connect(write=True) as connection:
            await connection.execute(statement)
        self._seen[key] = (value, expires_at)

    async def add(self, key: str, value: str, now: float, expires_at: float) -> bool:
        statement = insert(shared_values).values(key=key, value=value, expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=[shared_values.c.key],
            set_={"value": value, "expires_at": expires_at},
            where=shared_values.c.expires_at.is_not(None) & (shared_values.c.expires_at <= now),
        )
        async with self._connect(write=True) as connection:
            result = await connection.execute(statement)
        return result.rowcount == 1

    async def delete(self, key: str, value: str | None = None) -> None:
        statement = delete(shared_values).where(shared_values.c.key == key)
        if value is not None:
            statement = statement.where(shared_values.c.value == value)
        async with self._connect(write=True) as connection:
            await connection.execute(statement)
        self._seen.pop(key, None)

    async def take_slot(self, name: str, now: float, limits: Limits) -> tuple[float, float]:
        longest = max(window for window, _ in limits)
        async with self._connect(write=True) as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
            await connection.execute(
                delete(call_log).where(call_log.c.name == name, call_log.c.at <= now - longest)
            )
            times = list(
                (
                    await connection.execute(
                        select(call_log.c.at).where(call_log.c.name == name).order_by(call_log.c.at)
                    )
                ).scalars()
            )
            blocked = wait_for_room(times, now, limits)
            if blocked[0] <= 0:
                await connection.execute(call_log.insert().values(name=name, at=now))
        return blocked

    async def count_since(self, name: str, since: float) -> int:
        async with self._connect() as connection:
            query = select(func.count()).where(call_log.c.name == name, call_log.c.at > since)
            return int((await connection.execute(query)).scalar_one())

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str, now: float, seconds: float) -> AsyncIterator[None]:
        """A claim row held for the body (no connection is held meanwhile). Another instance's
        progress is real time, as for any I/O, so the wait is bounded by the real clock; a
        claim whose instance died lapses `CLAIM_LAPSE_SECONDS` after `now`."""
        owner = uuid.uuid4().hex
        give_up = time.monotonic() + seconds
        while not await self.add(name, owner, now, now + CLAIM_LAPSE_SECONDS):
            if time.monotonic() >= give_up:
                raise CoordinationError(f"{name} stayed held by another instance for {seconds:g} s")
            await asyncio.sleep(CLAIM_POLL_SECONDS)
        try:
            yield
        finally:
            await self.delete(name, owner)

    async def close(self) -> None:
        await self._engine.dispose()

    @contextlib.asynccontextmanager
    async def _connect(self, write: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection (a transaction when writing), once the tables exist; failures become
        CoordinationError, so callers see one typed error whatever the driver raised."""
        try:
            if not self._ready:
                await self._create_tables()
            opener = self._engine.begin if write else self._engine.connect
            async with opener() as connection:
                yield connection
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise CoordinationError(f"the shared database did not answer: {exc}") from exc

    async def _create_tables(self) -> None:
        async with self._creating:
            if self._ready:
                return
            async with self._engine.begin() as connection:
                await connection.execute(text(f"SELECT pg_advisory_xact_lock({CREATE_LOCK_ID})"))
                for table in (shared_values, call_log):
                    await connection.execute(CreateTable(table, if_not_exists=True))
                    for index in table.indexes:
                        await connection.execute(CreateIndex(index, if_not_exists=True))
            self._ready = True
