"""The store's tables as version 4 wrote them (before tenants), frozen: what a database written by
the bot of that day holds, for the test that upgrades one. Never changed with the schema."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.store.schema import UTCDateTime

metadata = MetaData()

digests = Table(
    "digests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", String(32), nullable=False),
    Column("module_key", String(200), nullable=False),
    Column("module_name", String(300), nullable=False),
    Column("minute_of_day", Integer, nullable=False),
    Column("weekdays", Integer, nullable=False),
    Column("zone", String(64), nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("paused_reason", Text),
    UniqueConstraint("channel_id", "module_key", name="uq_digest_channel_module"),
)

reminder_subscriptions = Table(
    "reminder_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(32), nullable=False),
    Column("module_key", String(200), nullable=False),
    Column("module_name", String(300), nullable=False),
    Column("session_id", String(64), nullable=False, default=""),
    Column("lead_minutes", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("paused_reason", Text),
    UniqueConstraint("user_id", "module_key", "session_id", name="uq_reminder_user_module_session"),
)

sends = Table(
    "sends",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("target", String(32), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("state", String(16), nullable=False),
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
    Column("module_key", String(200), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("fetch_id", String(64), nullable=False),
    Column("sessions", Text, nullable=False),
    Column("read_at", UTCDateTime(), nullable=False),
    Column("vanished_fetch", String(64)),
)

session_changes = Table(
    "session_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_key", String(400), nullable=False, unique=True),
    Column("module_key", String(200), nullable=False),
    Column("module_name", Text, nullable=False),
    Column("session_id", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("before", Text),
    Column("after", Text),
    Column("detected_at", UTCDateTime(), nullable=False),
    Index("ix_session_changes_detected_at", "detected_at"),
)

channel_settings = Table(
    "channel_settings",
    metadata,
    Column("channel_id", String(32), primary_key=True),
    Column("notices", Boolean, nullable=False),
)

zoho_connections = Table(
    "zoho_connections",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("refresh_token", Text, nullable=False),
    Column("data_centre", String(32), nullable=False),
    Column("accounts_url", String(200), nullable=False),
    Column("people_url", String(200), nullable=False),
    Column("connected_by", String(32), nullable=False),
    Column("connected_at", UTCDateTime(), nullable=False),
    Column("zone", String(64)),
    Column("date_format", String(64)),
    Column("company", String(64)),
    Column("settings_source", String(16)),
    Column("settings_at", UTCDateTime()),
)

calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("token", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("owner_id", String(32), nullable=False),
    Column("team_id", String(32)),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("content_digest", String(64)),
    Column("changed_at", UTCDateTime()),
    UniqueConstraint("kind", "owner_id", name="uq_calendar_feed_owner"),
)

session_sequences = Table(
    "session_sequences",
    metadata,
    Column("module_key", String(200), primary_key=True),
    Column("session_id", Text, primary_key=True),
    Column("sequence", Integer, nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
)
