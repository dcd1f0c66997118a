"""The store's small interface over its tables; the same code serves SQLite and PostgreSQL.

Every write that must happen once (a send, the leader lease) is decided by a
unique key or a conditional UPDATE inside the database, never by reading first
and writing after, so two instances cannot both win.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, and_, delete, event, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.sessions.modules import ModuleId, ModuleRef
from bot.store import schema
from bot.store.records import (
    Claim,
    Digest,
    Reminder,
    SendRecord,
    digest_from_row,
    reminder_from_row,
    stored_name,
    weekday_mask,
)
from bot.store.schema import digests, leases, reminder_subscriptions, sends
from bot.store.upsert import upsert
from bot.store.watch import Watches

log = logging.getLogger(__name__)

UPGRADE_ATTEMPTS = 5


class StoreError(Exception):
    """The database could not be reached or refused a statement."""


class AlreadySubscribed(StoreError):
    """An edit would make a subscription the same as another one (channel and module, or
    person, module and session)."""


class Store:
    """Subscriptions, reminders, sends and leases: `Store(url)`, then `await upgrade()` at start-up
    (`await Store.open(url)` does both)."""

    def __init__(self, url: str) -> None:
        """Create the engine; nothing is connected until `upgrade` or the first query."""
        sqlite = url.startswith("sqlite")
        # Every database call is bounded: SQLite waits at most 30 s for a writer's lock;
        # PostgreSQL gets 10 s to connect and 30 s per statement.
        connect_args: dict[str, Any] = {"timeout": 30} if sqlite else {"timeout": 10, "command_timeout": 30}
        self._engine: AsyncEngine = create_async_engine(url, connect_args=connect_args, pool_pre_ping=True)
        if sqlite:
            event.listen(self._engine.sync_engine, "connect", _sqlite_pragmas)
        self.dialect = self._engine.dialect.name
        self.watches = Watches(self._engine)
        """Change notices' part of the store."""

    @classmethod
    async def open(cls, url: str) -> Store:
        store = cls(url)
        try:
            await store.upgrade()
        except StoreError:
            await store.close()
            raise
        return store

    async def upgrade(self) -> None:
        """Create or upgrade the schema; safe when two instances start together."""
        for attempt in range(1, UPGRADE_ATTEMPTS + 1):
            try:
                await schema.upgrade(self._engine)
                return
            except (IntegrityError, DBAPIError) as exc:
                if attempt == UPGRADE_ATTEMPTS:
                    raise StoreError(f"Could not prepare the database: {exc.orig}") from exc
                await asyncio.sleep(0.2 * attempt)
            except OSError as exc:
                raise StoreError(f"Could not reach the database: {exc}") from exc

    async def close(self) -> None:
        await self._engine.dispose()

    async def answers(self) -> bool:
        """Whether the database answers a trivial query (for `/readyz`, which bounds the wait)."""
        try:
            async with self._engine.connect() as connection:
                await connection.execute(select(1))
        except (DBAPIError, OSError):
            return False
        return True

    # Digests

    async def save_digest(
        self,
        channel_id: str,
        module: ModuleRef,
        at: time,
        weekdays: frozenset[int],
        zone: str,
        created_by: str,
        now: datetime,
    ) -> Digest:
        """Subscribe a channel to a module, or change the time of an existing subscription."""
        values = {
            "module_name": stored_name(module),
            "minute_of_day": at.hour * 60 + at.minute,
            "weekdays": weekday_mask(weekdays),
            "zone": zone,
            "created_by": created_by,
            "paused_reason": None,
        }
        row = await upsert(
            self._engine,
            digests,
            ("channel_id", "module_key"),
            {"channel_id": channel_id, "module_key": module.key, "created_at": now},
            values,
        )
        return digest_from_row(row)

    async def digests(
        self, channel_id: str | None = None, created_by: str | None = None, module: ModuleId | None = None
    ) -> list[Digest]:
        query = select(digests).order_by(digests.c.channel_id, digests.c.minute_of_day, digests.c.module_name)
        for column, value in (
            (digests.c.channel_id, channel_id),
            (digests.c.created_by, created_by),
            (digests.c.module_key, module.key if module else None),
        ):
            if value is not None:
                query = query.where(column == value)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [digest_from_row(row) for row in rows]

    async def remove_digest(self, channel_id: str, module: ModuleId) -> bool:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(digests).where(digests.c.channel_id == channel_id, digests.c.module_key == module.key)
            )
        return result.rowcount > 0

    async def pause_channel_digests(self, channel_id: str, reason: str | None) -> None:
        """Pause every digest of a channel with the reason, or resume them all with None."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(digests).where(digests.c.channel_id == channel_id).values(paused_reason=reason)
            )

    async def pause_module_digests(self, module: ModuleId, reason: str) -> int:
        """Pause the module's active digests in every channel (those paused already keep their
        reason); subscribing again resumes one. Returns how many were paused."""
        return await self._pause_module(digests, module, reason)

    # Reminders

    async def save_reminder(
        self,
        user_id: str,
        module: ModuleRef,
        lead: timedelta,
        now: datetime,
        session_id: str = "",
    ) -> Reminder:
        values = {
            "module_name": stored_name(module),
            "lead_minutes": int(lead.total_seconds() // 60),
            "paused_reason": None,
        }
        row = await upsert(
            self._engine,
            reminder_subscriptions,
            ("user_id", "module_key", "session_id"),
            {"user_id": user_id, "module_key": module.key, "session_id": session_id, "created_at": now},
            values,
        )
        return reminder_from_row(row)

    async def reminders(self, user_id: str | None = None) -> list[Reminder]:
        query = select(reminder_subscriptions).order_by(
            reminder_subscriptions.c.user_id,
            reminder_subscriptions.c.module_name,
            reminder_subscriptions.c.id,
        )
        if user_id is not None:
            query = query.where(reminder_subscriptions.c.user_id == user_id)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [reminder_from_row(row) for row in rows]

    async def remove_reminders(
        self, user_id: str, module: ModuleId | None = None, reminder_id: int | None = None
    ) -> int:
        """Stop a person's reminders: all of them, a module's, or one by id."""
        query = delete(reminder_subscriptions).where(reminder_subscriptions.c.user_id == user_id)
        if module is not None:
            query = query.where(reminder_subscriptions.c.module_key == module.key)
        if reminder_id is not None:
            query = query.where(reminder_subscriptions.c.id == reminder_id)
        async with self._engine.begin() as connection:
            result = await connection.execute(query)
        return result.rowcount

    async def reminder(self, reminder_id: int) -> Reminder | None:
        table = reminder_subscriptions
        row = await self._one(select(table).where(table.c.id == reminder_id))
        return reminder_from_row(row) if row is not None else None

    async def update_reminder(
        self, reminder_id: int, user_id: str, module: ModuleRef, lead: timedelta
    ) -> Reminder | None:
        """Change one of the person's reminders in place; None when they have no such reminder.
        Raises AlreadySubscribed when they already have that reminder."""
        table = reminder_subscriptions
        statement = (
            update(table)
            .where(table.c.id == reminder_id, table.c.user_id == user_id)
            .values(
                module_key=module.key,
                module_name=stored_name(module),
                lead_minutes=int(lead.total_seconds() // 60),
                paused_reason=None,
            )
            .returning(*table.c)
        )
        row = await self._changed(statement)
        return reminder_from_row(row) if row is not None else None

    async def _one(self, query: Any) -> Any:
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).mappings().first()

    async def _changed(self, statement: Any) -> Any:
        try:
            async with self._engine.begin() as connection:
                return (await connection.execute(statement)).mappings().first()
        except IntegrityError as exc:
            raise AlreadySubscribed(str(exc.orig)[:200]) from exc

    async def pause_user_reminders(self, user_id: str, reason: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(reminder_subscriptions)
                .where(reminder_subscriptions.c.user_id == user_id)
                .values(paused_reason=reason)
            )

    async def pause_module_reminders(self, module: ModuleId, reason: str) -> int:
        """Pause everyone's active reminders of the module, as `pause_module_digests` does digests."""
        return await self._pause_module(reminder_subscriptions, module, reason)

    async def _pause_module(self, table: Table, module: ModuleId, reason: str) -> int:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(table)
                .where(table.c.module_key == module.key, table.c.paused_reason.is_(None))
                .values(paused_reason=reason)
            )
        return result.rowcount

    async def digest(self, digest_id: int) -> Digest | None:
        row = await self._one(select(digests).where(digests.c.id == digest_id))
        return digest_from_row(row) if row is not None else None

    async def update_digest(
        self,
        digest_id: int,
        channel_id: str,
        module: ModuleRef,
        at: time,
        weekdays: frozenset[int],
        zone: str,
    ) -> Digest | None:
        """Change a digest in place (its id, creator and send history stay); None when it is gone.
        Raises AlreadySubscribed when the channel already has a digest of that module."""
        statement = (
            update(digests)
            .where(digests.c.id == digest_id)
            .values(
                channel_id=channel_id,
                module_key=module.key,
                module_name=stored_name(module),
                minute_of_day=at.hour * 60 + at.minute,
                weekdays=weekday_mask(weekdays),
                zone=zone,
                paused_reason=None,
            )
            .returning(*digests.c)
        )
        row = await self._changed(statement)
        return digest_from_row(row) if row is not None else None

    async def remove_digest_by_id(self, digest_id: int) -> bool:
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(digests).where(digests.c.id == digest_id))
        return result.rowcount > 0

    # Sends

    async def claim(
        self,
        key: str,
        kind: str,
        target: str,
        due_at: datetime,
        holder: str,
        now: datetime,
        stale_after: timedelta,
    ) -> Claim | None:
        """A `Claim` for one caller only: the first to claim `key`, or one retaking a failed or
        lapsed claim; None for everyone else. A lapsed claim's holder died mid-send, so whether
        the message went out is unknown (`Claim.uncertain`)."""
        if await self._insert_send(key, kind, target, due_at, holder, now, "claimed", None):
            return Claim(uncertain=False)
        retaking = {
            False: sends.c.state == "retry",
            True: and_(sends.c.state == "claimed", sends.c.claimed_at < now - stale_after),
        }
        for uncertain, condition in retaking.items():
            async with self._engine.begin() as connection:
                result = await connection.execute(
                    update(sends)
                    .where(sends.c.key == key, condition)
                    .values(state="claimed", claimed_by=holder, claimed_at=now, attempts=sends.c.attempts + 1)
                )
            if result.rowcount == 1:
                return Claim(uncertain=uncertain)
        return None

    async def finish(self, key: str, state: str, error: str | None = None) -> None:
        """Record how a claimed send ended: sent, retry (a later tick may retake it) or failed."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(sends).where(sends.c.key == key).values(state=state, last_error=error)
            )

    async def record_skip(
        self, key: str, kind: str, target: str, due_at: datetime, holder: str, now: datetime, why: str
    ) -> bool:
        """Mark a send as deliberately skipped; True the first time, so the skip is logged once."""
        return await self._insert_send(key, kind, target, due_at, holder, now, "skipped", why)

    async def _insert_send(
        self,
        key: str,
        kind: str,
        target: str,
        due_at: datetime,
        holder: str,
        now: datetime,
        state: str,
        error: str | None,
    ) -> bool:
        """Insert the row for `key`; False when it already exists (someone else got there first)."""
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    sends.insert().values(
                        key=key,
                        kind=kind,
                        target=target,
                        due_at=due_at,
                        state=state,
                        claimed_by=holder,
                        claimed_at=now,
                        attempts=1 if state == "claimed" else 0,
                        last_error=error,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def finished(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are settled (sent, skipped or failed for good): nothing more to do."""
        wanted = list(keys)
        if not wanted:
            return set()
        query = select(sends.c.key).where(
            sends.c.key.in_(wanted), sends.c.state.in_(("sent", "skipped", "failed"))
        )
        async with self._engine.connect() as connection:
            return {row[0] for row in await connection.execute(query)}

    async def attempts(self, key: str) -> int:
        async with self._engine.connect() as connection:
            value = (await connection.execute(select(sends.c.attempts).where(sends.c.key == key))).scalar()
        return int(value or 0)

    async def send_records(self, kind: str | None = None) -> list[SendRecord]:
        query = select(sends).order_by(sends.c.due_at, sends.c.key)
        if kind is not None:
            query = query.where(sends.c.kind == kind)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            SendRecord(
                r["key"], r["kind"], r["target"], r["due_at"], r["state"], r["attempts"], r["last_error"]
            )
            for r in rows
        ]

    async def forget_before(self, moment: datetime) -> int:
        """Housekeeping: sends whose time has long passed can never be claimed again, and changes
        found that long ago are no longer news."""
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(sends).where(sends.c.due_at < moment))
        return result.rowcount + await self.watches.forget_changes_before(moment)

    # Leader lease

    async def hold_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew `name` for `holder` unless someone else holds it and it has not lapsed."""
        expires = now + ttl
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(leases)
                .where(leases.c.name == name, or_(leases.c.holder == holder, leases.c.expires_at < now))
                .values(holder=holder, expires_at=expires)
            )
            if result.rowcount == 1:
                return True
            exists = (
                await connection.execute(select(func.count()).where(leases.c.name == name))
            ).scalar_one()
        if exists:
            return False
        try:
            async with self._engine.begin() as connection:
                await connection.execute(leases.insert().values(name=name, holder=holder, expires_at=expires))
            return True
        except IntegrityError:
            return False

    async def release_lease(self, name: str, holder: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    """WAL lets a second process read while one writes; the busy timeout makes writers queue."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
