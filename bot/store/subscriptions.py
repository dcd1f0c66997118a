"""The subscriptions' tables: channels' digests and people's reminders.

A limit (modules a channel's digests follow, reminders a person has) is checked
by the database in the statement that saves, under a lock on the channel or the
person (`upsert.serialize`), so concurrent saves can never pass it together.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.sessions.modules import ModuleId, ModuleRef
from bot.store.errors import AlreadySubscribed, LimitReached
from bot.store.records import (
    Digest,
    Reminder,
    Schedule,
    digest_from_row,
    reminder_from_row,
    stored_name,
    weekday_mask,
)
from bot.store.schema import digests, reminder_subscriptions
from bot.store.scope import Scoped
from bot.store.upsert import serialize, upsert


class Subscriptions(Scoped):
    """A tenant's digests and reminders; part of `TenantStore`."""

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
        limit: int | None = None,
    ) -> Digest:
        """Subscribe a channel to a module, or change the time of an existing subscription."""
        saved = await self.save_digests(
            channel_id, [module], Schedule(at, weekdays, zone), created_by, now, limit
        )
        return saved[0]

    async def save_digests(
        self,
        channel_id: str,
        modules: Sequence[ModuleRef],
        schedule: Schedule,
        created_by: str,
        now: datetime,
        limit: int | None = None,
    ) -> list[Digest]:
        """Subscribe a channel to each module (or change an existing one's time), all or none;
        raises LimitReached when the channel would follow more than `limit` modules."""
        at, weekdays, zone = schedule
        values = {
            "minute_of_day": at.hour * 60 + at.minute,
            "weekdays": weekday_mask(weekdays),
            "zone": zone,
            "created_by": created_by,
            "paused_reason": None,
        }
        saved = []
        async with self._engine.begin() as connection:
            await serialize(connection, self._scope(f"digests:{channel_id}"))
            for module in modules:
                row = await upsert(
                    connection,
                    digests,
                    ("tenant", "channel_id", "module_key"),
                    {
                        "tenant": self._tenant,
                        "channel_id": channel_id,
                        "module_key": module.key,
                        "created_at": now,
                    },
                    {"module_name": stored_name(module), **values},
                    _within(digests, self._channel(channel_id), module, limit),
                )
                if row is None:
                    raise LimitReached(f"channel {channel_id} follows {limit} modules")
                saved.append(digest_from_row(row))
        return saved

    async def digests(
        self, channel_id: str | None = None, created_by: str | None = None, module: ModuleId | None = None
    ) -> list[Digest]:
        query = (
            select(digests)
            .where(self._mine(digests))
            .order_by(digests.c.channel_id, digests.c.minute_of_day, digests.c.module_name)
        )
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

    async def digest(self, digest_id: int) -> Digest | None:
        row = await self._one(select(digests).where(self._mine(digests), digests.c.id == digest_id))
        return digest_from_row(row) if row is not None else None

    async def update_digest(
        self,
        digest_id: int,
        channel_id: str,
        module: ModuleRef,
        at: time,
        weekdays: frozenset[int],
        zone: str,
        limit: int | None = None,
    ) -> Digest | None:
        """Change a digest in place (its id, creator and send history stay); None when it is gone.
        Raises AlreadySubscribed when the channel already has a digest of that module, and
        LimitReached when a move to another channel would pass that channel's `limit`."""
        condition = self._mine(digests) & (digests.c.id == digest_id)
        if limit is not None:
            there = select(func.count()).select_from(digests).where(self._channel(channel_id))
            condition &= or_(digests.c.channel_id == channel_id, there.scalar_subquery() < limit)
        statement = (
            update(digests)
            .where(condition)
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
        async with self._changing() as connection:
            await serialize(connection, self._scope(f"digests:{channel_id}"))
            row = (await connection.execute(statement)).mappings().first()
            if row is None and await self._exists(connection, digests, digest_id):
                raise LimitReached(f"channel {channel_id} follows {limit} modules")
        return digest_from_row(row) if row is not None else None

    async def remove_digest(self, channel_id: str, module: ModuleId) -> bool:
        where = (self._channel(channel_id), digests.c.module_key == module.key)
        return await self._deleted(delete(digests).where(*where)) > 0

    async def remove_digest_by_id(self, digest_id: int) -> bool:
        return await self._deleted(delete(digests).where(self._mine(digests), digests.c.id == digest_id)) > 0

    async def pause_channel_digests(self, channel_id: str, reason: str | None) -> None:
        """Pause every digest of a channel with the reason, or resume them all with None."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(digests).where(self._channel(channel_id)).values(paused_reason=reason)
            )

    async def resume_channel_digests(self, channel_id: str, except_for: Sequence[str]) -> int:
        """Resume a channel's digests paused for the channel's sake (the bot can post there again);
        those paused for another reason (`except_for`) stay paused."""
        statement = (
            update(digests)
            .where(
                self._channel(channel_id),
                digests.c.paused_reason.is_not(None),
                digests.c.paused_reason.not_in(list(except_for)),
            )
            .values(paused_reason=None)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount

    async def pause_digest(self, digest_id: int, reason: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(digests)
                .where(self._mine(digests), digests.c.id == digest_id)
                .values(paused_reason=reason)
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
        limit: int | None = None,
    ) -> Reminder:
        """A person's reminder of a module (or of one session), or a new lead for the one they have;
        raises LimitReached when they would have more than `limit` reminders."""
        table = reminder_subscriptions
        same = (table.c.module_key == module.key, table.c.session_id == session_id)
        async with self._engine.begin() as connection:
            await serialize(connection, self._scope(f"reminders:{user_id}"))
            row = await upsert(
                connection,
                table,
                ("tenant", "user_id", "module_key", "session_id"),
                {
                    "tenant": self._tenant,
                    "user_id": user_id,
                    "module_key": module.key,
                    "session_id": session_id,
                    "created_at": now,
                },
                {
                    "module_name": stored_name(module),
                    "lead_minutes": int(lead.total_seconds() // 60),
                    "paused_reason": None,
                },
                _within(table, self._person(user_id), module, limit, *same),
            )
        if row is None:
            raise LimitReached(f"{user_id} has {limit} reminders")
        return reminder_from_row(row)

    async def reminders(self, user_id: str | None = None) -> list[Reminder]:
        table = reminder_subscriptions
        query = (
            select(table).where(self._mine(table)).order_by(table.c.user_id, table.c.module_name, table.c.id)
        )
        if user_id is not None:
            query = query.where(table.c.user_id == user_id)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [reminder_from_row(row) for row in rows]

    async def reminder(self, reminder_id: int) -> Reminder | None:
        table = reminder_subscriptions
        row = await self._one(select(table).where(self._mine(table), table.c.id == reminder_id))
        return reminder_from_row(row) if row is not None else None

    async def update_reminder(
        self, reminder_id: int, user_id: str, module: ModuleRef, lead: timedelta
    ) -> Reminder | None:
        """Change one of the person's reminders in place; None when they have no such reminder.
        Raises AlreadySubscribed when they already have that reminder."""
        table = reminder_subscriptions
        statement = (
            update(table)
            .where(self._person(user_id), table.c.id == reminder_id)
            .values(
                module_key=module.key,
                module_name=stored_name(module),
                lead_minutes=int(lead.total_seconds() // 60),
                paused_reason=None,
            )
            .returning(*table.c)
        )
        async with self._changing() as connection:
            row = (await connection.execute(statement)).mappings().first()
        return reminder_from_row(row) if row is not None else None

    async def remove_reminders(
        self, user_id: str, module: ModuleId | None = None, reminder_id: int | None = None
    ) -> int:
        """Stop a person's reminders: all of them, a module's, or one by id."""
        table = reminder_subscriptions
        query = delete(table).where(self._person(user_id))
        if module is not None:
            query = query.where(table.c.module_key == module.key)
        if reminder_id is not None:
            query = query.where(table.c.id == reminder_id)
        return await self._deleted(query)

    async def pause_user_reminders(self, user_id: str, reason: str) -> None:
        table = reminder_subscriptions
        async with self._engine.begin() as connection:
            await connection.execute(update(table).where(self._person(user_id)).values(paused_reason=reason))

    async def pause_module_reminders(self, module: ModuleId, reason: str) -> int:
        """Pause everyone's active reminders of the module, as `pause_module_digests` does digests."""
        return await self._pause_module(reminder_subscriptions, module, reason)

    # Both

    async def pause_all(self, reason: str) -> int:
        """Pause every active digest and reminder with `reason` (those paused already keep theirs)."""
        async with self._engine.begin() as connection:
            paused = 0
            for table in (digests, reminder_subscriptions):
                result = await connection.execute(
                    update(table)
                    .where(self._mine(table), table.c.paused_reason.is_(None))
                    .values(paused_reason=reason)
                )
                paused += result.rowcount
        return paused

    async def resume_paused(self, reason: str) -> int:
        """Resume every digest and reminder paused with exactly `reason`."""
        async with self._engine.begin() as connection:
            resumed = 0
            for table in (digests, reminder_subscriptions):
                result = await connection.execute(
                    update(table)
                    .where(self._mine(table), table.c.paused_reason == reason)
                    .values(paused_reason=None)
                )
                resumed += result.rowcount
        return resumed

    # Shared

    async def _pause_module(self, table: Table, module: ModuleId, reason: str) -> int:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(table)
                .where(self._mine(table), table.c.module_key == module.key, table.c.paused_reason.is_(None))
                .values(paused_reason=reason)
            )
        return result.rowcount

    async def _one(self, query: Any) -> Any:
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).mappings().first()

    async def _deleted(self, statement: Any) -> int:
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount

    @contextlib.asynccontextmanager
    async def _changing(self) -> AsyncIterator[AsyncConnection]:
        """A transaction for an edit in place: a unique key it breaks becomes AlreadySubscribed."""
        try:
            async with self._engine.begin() as connection:
                yield connection
        except IntegrityError as error:
            raise AlreadySubscribed(str(error.orig)[:200]) from error

    async def _exists(self, connection: AsyncConnection, table: Table, ident: int) -> bool:
        found = select(exists().where(self._mine(table), table.c.id == ident))
        return bool((await connection.execute(found)).scalar())

    def _channel(self, channel_id: str) -> Any:
        return self._mine(digests) & (digests.c.channel_id == channel_id)

    def _person(self, user_id: str) -> Any:
        table = reminder_subscriptions
        return self._mine(table) & (table.c.user_id == user_id)


def _within(table: Table, owner: Any, module: ModuleRef, limit: int | None, *same: Any) -> Any:
    """The condition under which a new row may be inserted: the owner has fewer than `limit` rows,
    or already has this one (then the save is a change, never refused)."""
    if limit is None:
        return None
    count = select(func.count()).select_from(table).where(owner).scalar_subquery()
    mine = exists().where(owner, table.c.module_key == module.key, *same)
    return or_(count < limit, mine)
