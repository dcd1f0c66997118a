"""The few operations of the store that cross tenants, all here: housekeeping of old rows, which
tenants have rows, giving the unnamed single workspace's rows their team, and forgetting a tenant.

Everything else reads and writes through a view bound to one tenant (`Store.tenant`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, exists, func, literal, select, union, union_all, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.schema import (
    TENANTED,
    calendar_feeds,
    digests,
    reminder_subscriptions,
    sends,
    session_changes,
    session_sequences,
    zoho_connections,
)
from bot.tenants.tenant import UNNAMED

KEEP_SEQUENCES = timedelta(days=365)
"""A session's change count is kept this long after its last change, beyond any session's end."""

UNIQUE_BEYOND_TENANT: dict[str, tuple[str, ...]] = {
    "digests": ("channel_id", "module_key"),
    "reminder_subscriptions": ("user_id", "module_key", "session_id"),
    "sends": ("key",),
    "session_watch": ("module_key",),
    "session_changes": ("change_key",),
    "channel_settings": ("channel_id",),
    "zoho_connections": ("name",),
    "calendar_feeds": ("kind", "owner_id"),
    "session_sequences": ("module_key", "session_id"),
}
"""What makes a row unique within its tenant, table by table (the schema's keys without the tenant)."""


@dataclass
class TenantSummary:
    """What `python -m bot tenants` lists of one tenant."""

    tenant: str
    data_centre: str = ""
    """Of its Zoho connection made from Slack; '' when it has none."""
    connected_at: datetime | None = None
    digests: int = 0
    reminders: int = 0
    paused: dict[str, int] = field(default_factory=dict)
    """How many of its subscriptions are paused, by reason."""


class AcrossTenants:
    """Part of the root `Store`, which provides the engine."""

    _engine: AsyncEngine

    async def forget_before(self, moment: datetime) -> int:
        """Housekeeping, for every tenant: sends whose time has long passed can never be claimed
        again, changes found that long ago are no longer news, and sessions changed a year before
        are over."""
        statements = (
            delete(sends).where(sends.c.due_at < moment),
            delete(session_changes).where(session_changes.c.detected_at < moment),
            delete(session_sequences).where(session_sequences.c.changed_at < moment - KEEP_SEQUENCES),
        )
        async with self._engine.begin() as connection:
            return sum([(await connection.execute(statement)).rowcount for statement in statements])

    async def tenant_ids(self) -> set[str]:
        """Every tenant with a row anywhere (the unnamed single workspace's '' included)."""
        query = union(*(select(table.c.tenant).distinct() for table in TENANTED))
        async with self._engine.connect() as connection:
            return {row[0] for row in await connection.execute(query)}

    async def feed_tenant(self, token_hash: str) -> str | None:
        """The tenant whose calendar feed has this token (a calendar app asks with the address alone)."""
        query = select(calendar_feeds.c.tenant).where(calendar_feeds.c.token_hash == token_hash)
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    async def subscribed_tenants(self) -> set[str]:
        """Every tenant with a digest or a reminder: the ones a scheduler tick has work for."""
        query = union(*(select(table.c.tenant).distinct() for table in (digests, reminder_subscriptions)))
        async with self._engine.connect() as connection:
            return {row[0] for row in await connection.execute(query)}

    async def tenant_summaries(self) -> list[TenantSummary]:
        """Every tenant with a row, with its connection and subscriptions counted: four queries,
        however many tenants there are."""
        found = {tenant: TenantSummary(tenant) for tenant in await self.tenant_ids()}
        both = union_all(
            *(
                select(table.c.tenant, literal_kind, table.c.paused_reason)
                for table, literal_kind in (
                    (digests, _kind("digests")),
                    (reminder_subscriptions, _kind("reminders")),
                )
            )
        ).subquery()
        counts = select(both.c.tenant, both.c.kind, both.c.paused_reason, func.count()).group_by(
            both.c.tenant, both.c.kind, both.c.paused_reason
        )
        connections = select(
            zoho_connections.c.tenant, zoho_connections.c.data_centre, zoho_connections.c.connected_at
        )
        async with self._engine.connect() as connection:
            for tenant, kind, reason, count in await connection.execute(counts):
                summary = found[tenant]
                setattr(summary, kind, getattr(summary, kind) + count)
                if reason is not None:
                    summary.paused[reason] = summary.paused.get(reason, 0) + count
            for tenant, centre, at in await connection.execute(connections):
                found[tenant].data_centre, found[tenant].connected_at = centre, at
        return [found[tenant] for tenant in sorted(found)]

    async def single_tenant_id(self) -> str:
        """The one named tenant with rows (the single workspace, named at an earlier start), or
        '' when there is none or more than one."""
        named = await self.tenant_ids() - {UNNAMED}
        return named.pop() if len(named) == 1 else UNNAMED

    async def adopt(self, tenant_id: str) -> int:
        """Give the rows written before the single workspace was named (tenant '') to its team,
        now that `auth.test` named it; a row the team already has a twin of is dropped (the
        team's own is newer). Returns how many rows were given."""
        if tenant_id == UNNAMED:
            return 0
        given = 0
        async with self._engine.begin() as connection:
            for table in TENANTED:
                await connection.execute(delete(table).where(_unnamed_with_twin(table, tenant_id)))
                result = await connection.execute(
                    update(table).where(table.c.tenant == UNNAMED).values(tenant=tenant_id)
                )
                given += result.rowcount
        return given

    async def forget_tenant(self, tenant_id: str) -> int:
        """Delete every row of the tenant, in every table, at once; returns how many."""
        async with self._engine.begin() as connection:
            results = [
                await connection.execute(delete(table).where(table.c.tenant == tenant_id))
                for table in TENANTED
            ]
        return sum(result.rowcount for result in results)


def _kind(name: str) -> Any:
    return literal(name).label("kind")


def _unnamed_with_twin(table: Table, tenant_id: str) -> object:
    twin = table.alias("twin")
    same = [twin.c[name] == table.c[name] for name in UNIQUE_BEYOND_TENANT[table.name]]
    return (table.c.tenant == UNNAMED) & exists().where(twin.c.tenant == tenant_id, *same)
