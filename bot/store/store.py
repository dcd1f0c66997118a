"""The store: one engine and its tables, the same code on SQLite and PostgreSQL.

`Store` is the one object the rest of the bot holds; each table family keeps its
own module and is mixed in here: `subscriptions.py` (digests and reminders),
`sends.py` (claims and outcomes), `lease.py` (the leader lease), `connections.py`
(Zoho connected from Slack, its token sealed), `feeds.py` (calendar feeds' hashed
tokens); `watch.py` (what change notices
keep) is `store.watches`. Every write that must happen once (a send, the lease, a
subscription within its limit) is decided inside the database, never by reading
first and writing after, so two instances cannot both win.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engines import open_engine
from bot.secrets import Secrets
from bot.store import schema
from bot.store.connections import Connections
from bot.store.errors import AlreadySubscribed, LimitReached, StoreError
from bot.store.feeds import Feeds
from bot.store.lease import Leases
from bot.store.sends import Sends
from bot.store.subscriptions import Subscriptions
from bot.store.watch import Watches

log = logging.getLogger(__name__)

UPGRADE_ATTEMPTS = 5
KEEP_SEQUENCES = timedelta(days=365)
"""A session's change count is kept this long after its last change, beyond any session's end."""

__all__ = ["AlreadySubscribed", "LimitReached", "Store", "StoreError"]


class Store(Subscriptions, Sends, Leases, Connections, Feeds):
    """`Store(url)`, then `await upgrade()` at start-up (`await Store.open(url)` does both)."""

    def __init__(self, url: str, secrets: Secrets | None = None) -> None:
        """Create the engine; nothing is connected until `upgrade` or the first query. `secrets`
        (from BOT_SECRET_KEY) seal the tokens the store keeps."""
        self._secrets = secrets
        sqlite = url.startswith("sqlite")
        # Every database call is bounded: SQLite waits at most 30 s for a writer's lock;
        # PostgreSQL gets 10 s to connect and 30 s per statement.
        connect_args: dict[str, Any] = {"timeout": 30} if sqlite else {"timeout": 10, "command_timeout": 30}
        self._engine: AsyncEngine = open_engine(url, connect_args)
        if sqlite:
            event.listen(self._engine.sync_engine, "connect", _sqlite_pragmas)
        self.dialect = self._engine.dialect.name
        self.watches = Watches(self._engine)
        """Change notices' part of the store."""

    @classmethod
    async def open(cls, url: str, secrets: Secrets | None = None) -> Store:
        store = cls(url, secrets)
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

    async def forget_before(self, moment: datetime) -> int:
        """Housekeeping: sends whose time has long passed can never be claimed again, changes
        found that long ago are no longer news, and sessions changed a year before are over."""
        return (
            await self.forget_sends_before(moment)
            + await self.watches.forget_changes_before(moment)
            + await self.watches.forget_sequences_before(moment - KEEP_SEQUENCES)
        )


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    """WAL lets a second process read while one writes; the busy timeout makes writers queue."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
