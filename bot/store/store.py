"""The store: one engine and its tables, the same code on SQLite and PostgreSQL.

`Store` is the root the composition root holds: the schema, the leader lease
(`lease.py`) and the few operations across tenants (`across.py`). Everything a
tenant owns is read and written through `store.tenant(t)`, a `TenantStore`
(`scoped.py`) mixing in one module per table family: `subscriptions.py` (digests and
reminders), `sends.py` (claims and outcomes), `connections.py` (Zoho connected from
Slack, its token sealed), `feeds.py` (calendar feeds' hashed tokens), and `watch.py`
(what change notices keep) as `.watches`. Every write that must happen once (a send,
the lease, a subscription within its limit) is decided inside the database, never by
reading first and writing after, so two instances cannot both win.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engines import open_database
from bot.secrets import Secrets
from bot.store import schema
from bot.store.across import AcrossTenants
from bot.store.errors import AlreadySubscribed, LimitReached, StoreError
from bot.store.lease import Leases
from bot.store.scoped import TenantStore
from bot.tenants.tenant import UNNAMED, Tenant

log = logging.getLogger(__name__)

UPGRADE_ATTEMPTS = 5

__all__ = ["AlreadySubscribed", "LimitReached", "Store", "StoreError", "TenantStore"]


class Store(Leases, AcrossTenants):
    """`Store(url)`, then `await upgrade()` at start-up (`await Store.open(url)` does both)."""

    def __init__(self, url: str, secrets: Secrets | None = None) -> None:
        """Create the engine; nothing is connected until `upgrade` or the first query. `secrets`
        (from BOT_SECRET_KEY) seal the tokens the store keeps."""
        self._secrets = secrets
        self._engine: AsyncEngine = open_database(url)
        self.dialect = self._engine.dialect.name

    def tenant(self, tenant: Tenant) -> TenantStore:
        """The tenant's view: the only way to what it owns."""
        return TenantStore(self._engine, self._secrets, tenant)

    @classmethod
    async def open(cls, url: str, secrets: Secrets | None = None, existing_tenant: str = UNNAMED) -> Store:
        store = cls(url, secrets)
        try:
            await store.upgrade(existing_tenant)
        except StoreError:
            await store.close()
            raise
        return store

    async def upgrade(self, existing_tenant: str = UNNAMED) -> None:
        """Create or upgrade the schema; safe when two instances start together. Rows written
        before there were tenants go to `existing_tenant` (the single workspace's team)."""
        for attempt in range(1, UPGRADE_ATTEMPTS + 1):
            try:
                await schema.upgrade(self._engine, existing_tenant)
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
