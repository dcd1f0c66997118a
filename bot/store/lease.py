"""The leases table: which instance leads (sends and plans refreshes), until its lease lapses.

The leader renews its lease every tick, so the renewal also reads, in the same
statement, what tells it whether anything it keeps between ticks has changed
(`Marks`): one round trip for a tick in which nothing happens, where reading
every subscription again would cost more and say nothing new. The marks are
fingerprints of the tables' rows (every column, in id order), computed by the
database: any insert, update or delete anywhere, by any instance, changes them,
without triggers or a version column that every writer would have to bump.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.schema import digests, leases, reminder_subscriptions, session_changes


@dataclass(frozen=True)
class Marks:
    """Read with the lease: equal marks on two ticks mean the rows behind them did not change."""

    subscriptions: str
    """The digests and reminders."""
    changes: str
    """The session changes found (their ids: a change, once recorded, is never edited)."""


class Leases:
    """Named leases; part of `Store`, which provides the engine."""

    _engine: AsyncEngine

    async def hold_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew `name` for `holder` unless someone else holds it and it has not lapsed."""
        return await self.lead(name, holder, now, ttl) is not None

    async def lead(self, name: str, holder: str, now: datetime, ttl: timedelta) -> Marks | None:
        """`hold_lease`, returning the `Marks` when `holder` leads (None when it does not), in one
        statement: an upsert that changes the row only for its holder or once it has lapsed."""
        dialect = self._engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(leases).values(name=name, holder=holder, expires_at=now + ttl)
        statement = statement.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
            where=(leases.c.holder == holder) | (leases.c.expires_at < now),
        ).returning(
            _fingerprint(digests, dialect).label("digests"),
            _fingerprint(reminder_subscriptions, dialect).label("reminders"),
            _fingerprint(session_changes, dialect, "id").label("changes"),
        )
        async with self._engine.connect() as connection:
            alone = await connection.execution_options(isolation_level="AUTOCOMMIT")
            row = (await alone.execute(statement)).first()
        if row is None:
            return None
        return Marks(_digest(row.digests) + _digest(row.reminders), _digest(row.changes))

    async def release_lease(self, name: str, holder: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


def _fingerprint(table: Table, dialect: str, *columns: str) -> ColumnElement[str]:
    """A scalar subquery over every row of `table` (or just `columns`) in id order.

    PostgreSQL hashes it in the database (md5 of the rows as text), so 32 characters cross the
    wire; SQLite, in-process, returns the rows joined (each value `quote`d, so no two different
    tables join alike). The names are the schema's own, never input."""
    name = table.name
    if dialect == "postgresql":
        row = "t::text" if not columns else "||','||".join(f"t.{c}::text" for c in columns)
        return literal_column(
            f"(SELECT md5(coalesce(string_agg({row}, '|' ORDER BY t.id), '')) FROM {name} AS t)"
        )
    row = "||','||".join(f"quote({c})" for c in (columns or [c.name for c in table.c]))
    rows = f"SELECT {row} AS r FROM {name} ORDER BY id"
    return literal_column(f"(SELECT coalesce(group_concat(r, '|'), '') FROM ({rows}))")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
