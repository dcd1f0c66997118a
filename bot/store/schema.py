"""The store's tables (SQLAlchemy Core), and their creation at start-up.

Creation is safe when two instances start at once: each statement is
`IF NOT EXISTS`, and on PostgreSQL the whole upgrade runs under an advisory
lock. `schema_version` records what has been applied, so a later version adds
its steps to `MIGRATIONS` rather than editing these tables in place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    func,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store only takes aware datetimes")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()


def _tenant(primary_key: bool = False) -> Column[str]:
    """The tenant a row belongs to (`Tenant.id`): every table but the leases has one, first in
    its keys, and the store writes and reads it only through a view bound to one tenant."""
    return Column("tenant", String(32), primary_key=primary_key, nullable=False)


digests = Table(
    "digests",
    metadata,
    _tenant(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", String(32), nullable=False),
    Column("module_key", String(200), nullable=False),
    Column("module_name", String(300), nullable=False),
    Column("minute_of_day", Integer, nullable=False),
    Column("weekdays", Integer, nullable=False, doc="bit d set: weekday d (Monday 0) is on"),
    Column("zone", String(64), nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("paused_reason", Text),
    UniqueConstraint("tenant", "channel_id", "module_key", name="uq_digest_tenant_channel_module"),
)

reminder_subscriptions = Table(
    "reminder_subscriptions",
    metadata,
    _tenant(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(32), nullable=False),
    Column("module_key", String(200), nullable=False),
    Column("module_name", String(300), nullable=False),
    Column("session_id", String(64), nullable=False, default="", doc="'' = every session of the module"),
    Column("lead_minutes", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("paused_reason", Text),
    UniqueConstraint(
        "tenant", "user_id", "module_key", "session_id", name="uq_reminder_tenant_user_module_session"
    ),
)

sends = Table(
    "sends",
    metadata,
    _tenant(primary_key=True),
    Column("key", String(300), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("target", String(32), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("state", String(16), nullable=False, doc="claimed, sent, retry, failed, skipped"),
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("last_error", Text),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

session_watch = Table(
    "session_watch",
    metadata,
    _tenant(primary_key=True),
    Column("module_key", String(200), primary_key=True),
    Column("revision", Integer, nullable=False, doc="+1 on every update: the condition of the next one"),
    Column("fetch_id", String(64), nullable=False, doc="the read the known sessions come from"),
    Column("sessions", Text, nullable=False, doc="JSON: the upcoming sessions as last read"),
    Column("read_at", UTCDateTime(), nullable=False),
    Column("vanished_fetch", String(64), doc="a read that lost every upcoming session, awaiting a second"),
)

session_changes = Table(
    "session_changes",
    metadata,
    _tenant(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_key", String(400), nullable=False),
    Column("module_key", String(200), nullable=False),
    Column("module_name", Text, nullable=False),
    Column("session_id", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("before", Text, doc="JSON: the session before the change (none for an added one)"),
    Column("after", Text, doc="JSON: the session after it (none for a cancelled one)"),
    Column("detected_at", UTCDateTime(), nullable=False),
    UniqueConstraint("tenant", "change_key", name="uq_session_change_tenant_key"),
    Index("ix_session_changes_detected_at", "detected_at"),
)

channel_settings = Table(
    "channel_settings",
    metadata,
    _tenant(primary_key=True),
    Column("channel_id", String(32), primary_key=True),
    Column("notices", Boolean, nullable=False, doc="change notices for the channel's digests"),
)

zoho_connections = Table(
    "zoho_connections",
    metadata,
    _tenant(primary_key=True),
    Column("name", String(64), primary_key=True, doc="which connection: the workspace's"),
    Column("refresh_token", Text, nullable=False, doc="sealed with BOT_SECRET_KEY, never in clear"),
    Column("data_centre", String(32), nullable=False),
    Column("accounts_url", String(200), nullable=False),
    Column("people_url", String(200), nullable=False),
    Column("connected_by", String(32), nullable=False),
    Column("connected_at", UTCDateTime(), nullable=False),
    Column("zone", String(64), doc="the organisation's IANA zone, once known"),
    Column("date_format", String(64), doc="strptime format of its dates, once known"),
    Column("company", String(64), doc="Zoho's id of the organisation"),
    Column("settings_source", String(16), doc="zoho (read from it) or person (told in a modal)"),
    Column("settings_at", UTCDateTime(), doc="when the zone and date format were last read or told"),
)

calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    _tenant(),
    Column("token_hash", String(64), primary_key=True, doc="SHA-256 of the feed's secret token, hex"),
    Column("token", Text, nullable=False, doc="the token sealed with BOT_SECRET_KEY, to show it again"),
    Column("kind", String(16), nullable=False, doc="person (their reminders) or channel (its digests)"),
    Column("owner_id", String(32), nullable=False, doc="the Slack user or channel"),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("content_digest", String(64), doc="what the feed last listed, hashed: its ETag"),
    Column("changed_at", UTCDateTime(), doc="when what it lists last changed: its Last-Modified"),
    UniqueConstraint("tenant", "kind", "owner_id", name="uq_calendar_feed_tenant_owner"),
)

session_sequences = Table(
    "session_sequences",
    metadata,
    _tenant(primary_key=True),
    Column("module_key", String(200), primary_key=True),
    Column("session_id", Text, primary_key=True),
    Column("sequence", Integer, nullable=False, doc="+1 for each change found: the event's SEQUENCE"),
    Column("changed_at", UTCDateTime(), nullable=False),
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
)


Migration = Callable[[Connection, str], None]
"""One step of the schema: given the connection and the tenant existing rows belong to."""


def _creating(*tables: Table) -> Migration:
    def create(connection: Connection, _: str = "") -> None:
        for table in tables:
            connection.execute(CreateTable(table, if_not_exists=True))
            for index in table.indexes:
                connection.execute(CreateIndex(index, if_not_exists=True))

    return create


TENANTED = (
    digests,
    reminder_subscriptions,
    sends,
    session_watch,
    session_changes,
    channel_settings,
    zoho_connections,
    calendar_feeds,
    session_sequences,
)
"""Every table whose rows belong to a tenant: all but the leases and the schema's version."""


def _giving_tenants(connection: Connection, existing: str) -> None:
    """Version 5: a tenant column in every table, first in its keys, and every existing row given
    to `existing` (the single workspace's team; a calendar feed keeps the team it recorded).

    Neither SQLite nor a portable ALTER changes a table's keys, so each table is rebuilt: its
    rows copied aside, the table made again in its new shape, the rows put back with their ids.
    A table made by an earlier step of this same upgrade is already in its new shape: left alone."""
    for table in TENANTED:
        had = {found["name"] for found in inspect(connection).get_columns(table.name)}
        if "tenant" in had:
            continue
        aside = f"{table.name}_before_tenants"
        connection.execute(text(f"CREATE TABLE {aside} AS SELECT * FROM {table.name}"))
        connection.execute(text(f"DROP TABLE {table.name}"))
        _creating(table)(connection)
        kept = [own.name for own in table.columns if own.name in had]
        owner: Any = literal(existing)
        if "team_id" in had:  # calendar feeds recorded their team before there were tenants
            owner = func.coalesce(func.nullif(column("team_id"), ""), owner)
        rows = select(*(column(name) for name in kept), owner).select_from(text(aside))
        connection.execute(table.insert().from_select([*kept, "tenant"], rows))
        connection.execute(text(f"DROP TABLE {aside}"))
        if "id" in table.c and connection.dialect.name == "postgresql":
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce(max(id), 0) + 1, false) FROM {table.name}"
                )
            )


MIGRATIONS: dict[int, Migration] = {
    1: _creating(digests, reminder_subscriptions, sends, leases),
    2: _creating(session_watch, session_changes, channel_settings),  # change notices
    3: _creating(zoho_connections),  # Zoho connected from Slack
    4: _creating(calendar_feeds, session_sequences),  # calendar feeds
    5: _giving_tenants,  # many workspaces, one deployment
}
ADVISORY_LOCK_ID = 0x5E5510B0


async def upgrade(engine: AsyncEngine, existing_tenant: str = "") -> int:
    """Bring the schema to the newest version; returns it. Rows written before there were
    tenants are given to `existing_tenant` (the single workspace's team, '' when not known)."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_ID})"))
        await connection.run_sync(_upgrade, existing_tenant)
    return max(MIGRATIONS)


def _upgrade(connection: Connection, existing_tenant: str) -> None:
    connection.execute(CreateTable(schema_version, if_not_exists=True))
    applied = {row[0] for row in connection.execute(select(schema_version.c.version))}
    for version in sorted(MIGRATIONS):
        if version not in applied:
            MIGRATIONS[version](connection, existing_tenant)
            connection.execute(schema_version.insert().values(version=version))


__all__ = [
    "TENANTED",
    "calendar_feeds",
    "channel_settings",
    "digests",
    "leases",
    "metadata",
    "reminder_subscriptions",
    "sends",
    "session_changes",
    "session_sequences",
    "session_watch",
    "upgrade",
    "zoho_connections",
]
