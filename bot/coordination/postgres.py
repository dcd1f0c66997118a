"""Coordination through the shared PostgreSQL database, for instances on any number of machines.

Two tables of their own, created on first use (`IF NOT EXISTS`, under an
advisory lock, so instances starting together agree): `shared_values` (a key,
its value and when it lapses) and `call_log` (one row per event of a named
log). Each decision is the database's: `add` is a conditional upsert, and
`take_slot` inserts only while every window has room, in a transaction holding
an advisory lock on the log's name, so two instances can never both take the
last slot. Every other operation is one statement run on its own (autocommit):
one round trip, where a transaction would add a BEGIN and a COMMIT.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import CreateIndex, CreateTable

from bot.clock import Clock
from bot.coordination import (
    CLAIM_LAPSE_SECONDS,
    CLAIM_POLL_SECONDS,
    CoordinationError,
    Limits,
    wait_for_room,
)
from bot.engines import open_engine

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
CONNECT_SECONDS = 10
STATEMENT_SECONDS = 30


class PostgresCoordination:
    def __init__(self, url: str) -> None:
        self._engine: AsyncEngine = open_engine(
            url,
            {"timeout": CONNECT_SECONDS, "command_timeout": STATEMENT_SECONDS},
            pool_size=10,
            max_overflow=20,
            pool_timeout=STATEMENT_SECONDS,
        )
        self._alone = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        """For one statement: atomic by itself, no BEGIN and COMMIT around it."""
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
        async with self._connect() as connection:
            await connection.execute(statement)
        self._seen[key] = (value, expires_at)

    async def add(self, key: str, value: str, now: float, expires_at: float) -> bool:
        statement = insert(shared_values).values(key=key, value=value, expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=[shared_values.c.key],
            set_={"value": value, "expires_at": expires_at},
            where=shared_values.c.expires_at.is_not(None) & (shared_values.c.expires_at <= now),
        )
        async with self._connect() as connection:
            result = await connection.execute(statement)
        return result.rowcount == 1

    async def delete(self, key: str, value: str | None = None) -> None:
        statement = delete(shared_values).where(shared_values.c.key == key)
        if value is not None:
            statement = statement.where(shared_values.c.value == value)
        async with self._connect() as connection:
            await connection.execute(statement)
        self._seen.pop(key, None)

    async def forget_prefix(self, prefix: str) -> None:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        async with self._connect() as connection:
            await connection.execute(
                delete(shared_values).where(shared_values.c.key.like(pattern, escape="\\"))
            )
            await connection.execute(delete(call_log).where(call_log.c.name.like(pattern, escape="\\")))
        self._seen = {key: seen for key, seen in self._seen.items() if not key.startswith(prefix)}

    async def take_slot(self, name: str, now: float, limits: Limits) -> tuple[float, float]:
        """Under the log's advisory lock, one statement inserts the event only while every window
        has room (and forgets events older than the longest); a refusal then reads the times to
        say how long to wait. The lock comes first, in a statement of its own, so the insert's
        snapshot sees whatever the previous holder committed."""
        longest = max(window for window, _ in limits)
        mine = call_log.c.name == name
        room = and_(
            *(
                select(func.count()).where(mine, call_log.c.at > now - window).scalar_subquery() < limit
                for window, limit in limits
            )
        )
        forgotten = delete(call_log).where(mine, call_log.c.at <= now - longest).returning(call_log.c.id)
        insert = (
            call_log.insert()
            .from_select(["name", "at"], select(literal(name), literal(now)).where(room))
            .returning(call_log.c.id)
            .add_cte(forgotten.cte("forgotten"))
        )
        async with self._connect(transaction=True) as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
            if (await connection.execute(insert)).first() is not None:
                return (0.0, 0.0)
            query = select(call_log.c.at).where(mine, call_log.c.at > now - longest).order_by(call_log.c.at)
            times = list((await connection.execute(query)).scalars())
        return wait_for_room(times, now, limits)

    async def count_since(self, name: str, since: float) -> int:
        async with self._connect() as connection:
            query = select(func.count()).where(call_log.c.name == name, call_log.c.at > since)
            return int((await connection.execute(query)).scalar_one())

    async def tally(
        self, name: str, since: Sequence[float], key: str, now: float
    ) -> tuple[list[int], str | None]:
        counts = [func.count().filter(call_log.c.at > moment) for moment in since]
        held = shared_values.c.key == key
        query = (
            select(
                *counts,
                select(shared_values.c.value).where(held).scalar_subquery(),
                select(shared_values.c.expires_at).where(held).scalar_subquery(),
            )
            .select_from(call_log)
            .where(call_log.c.name == name, call_log.c.at > min(since))
        )
        async with self._connect() as connection:
            row = (await connection.execute(query)).one()
        *found, value, expires_at = row
        if value is None:
            self._seen.pop(key, None)
        else:
            self._seen[key] = (value, expires_at)
        return [int(count) for count in found], self.peek(key, now)

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str, clock: Clock, seconds: float) -> AsyncIterator[None]:
        """A claim row held for the body (no connection is held meanwhile).

        How long to wait, and when a dead holder's claim lapses, are the injected clock's. How
        often to look again is not: the holder's progress is real I/O, and a test's clock, which
        moves on every `sleep`, would run simulated time away (tens of seconds of it while a few
        instances wait out each other's real fetches). So the waiter looks every
        `CLAIM_POLL_SECONDS` of real time, and gives up once the injected clock says so.
        """
        owner = uuid.uuid4().hex
        give_up = clock.time() + seconds
        while not await self.add(name, owner, clock.time(), clock.time() + CLAIM_LAPSE_SECONDS):
            if clock.time() >= give_up:
                raise CoordinationError(f"{name} stayed held by another instance for {seconds:g} s")
            await asyncio.sleep(CLAIM_POLL_SECONDS)
        try:
            yield
        finally:
            await self.delete(name, owner)

    async def close(self) -> None:
        await self._engine.dispose()

    @contextlib.asynccontextmanager
    async def _connect(self, transaction: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection for one statement (or a transaction), once the tables exist; failures
        become CoordinationError, so callers see one typed error whatever the driver raised."""
        try:
            if not self._ready:
                await self._create_tables()
            opener = self._engine.begin if transaction else self._alone.connect
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
