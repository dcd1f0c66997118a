"""Insert or update in one statement, on SQLite and PostgreSQL alike, optionally only while a
condition holds (a limit), and the lock that makes such a condition safe on PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Table, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

LOCK_NAMESPACE = 0x5E55
"""The first key of the store's advisory locks (PostgreSQL), apart from other applications'."""


async def upsert(
    connection: AsyncConnection,
    table: Table,
    keys: tuple[str, ...],
    identity: dict[str, Any],
    values: dict[str, Any],
    only_if: ColumnElement[bool] | None = None,
) -> RowMapping | None:
    """Insert `identity` and `values`, or update the row with the same `keys` to `values`; returns
    the row as it now stands. One statement: a concurrent delete or insert comes before or after
    it, never between a read and a write. With `only_if`, a new row is inserted only while the
    condition holds (evaluated in the same statement); None when it did not."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    row = {**identity, **values}
    if only_if is None:
        statement = insert(table).values(**row)
    else:
        chosen = select(*(literal(value, table.c[name].type) for name, value in row.items())).where(only_if)
        statement = insert(table).from_select(list(row), chosen)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c[key] for key in keys], set_=values
    ).returning(*table.c)
    return (await connection.execute(statement)).mappings().first()


async def serialize(connection: AsyncConnection, scope: str) -> None:
    """Make the rest of this transaction the only one at a time for `scope` (a channel's digests, a
    person's reminders), so a count read by a later statement cannot be changed meanwhile.

    PostgreSQL: a transaction-scoped advisory lock (READ COMMITTED then gives each following
    statement a snapshot taken after the previous holder committed). SQLite needs none: a
    writing statement holds the database's single write lock from its start."""
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:scope))"),
            {"namespace": LOCK_NAMESPACE, "scope": scope},
        )
