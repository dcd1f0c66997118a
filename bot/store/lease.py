"""The leases table: which instance leads (sends and plans refreshes), until its lease lapses."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.schema import leases


class Leases:
    """Named leases; part of `Store`, which provides the engine."""

    _engine: AsyncEngine

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
