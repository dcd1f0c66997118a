"""Insert or update in one statement, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine


async def upsert(
    engine: AsyncEngine, table: Table, keys: tuple[str, ...], identity: dict[str, Any], values: dict[str, Any]
) -> RowMapping:
    """Insert `identity` and `values`, or update the row with the same `keys` to `values`; returns
    the row as it now stands. One statement: a concurrent delete or insert comes before or after
    it, never between a read and a write."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(**identity, **values)
        .on_conflict_do_update(index_elements=[table.c[key] for key in keys], set_=values)
        .returning(*table.c)
    )
    async with engine.begin() as connection:
        return (await connection.execute(statement)).mappings().one()
