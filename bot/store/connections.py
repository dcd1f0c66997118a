"""The Zoho connections table: the refresh token made from Slack (sealed), its data centre, who
connected it and when, and the organisation's zone and date format with where they came from.

The token is sealed with BOT_SECRET_KEY before it is written and opened when read,
here and nowhere else, so the database never holds it in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from bot.secrets import Secrets
from bot.store.errors import StoreError
from bot.store.schema import zoho_connections
from bot.store.scope import Scoped
from bot.store.upsert import upsert


@dataclass(frozen=True)
class OrgSettingsRecord:
    zone: str
    date_format: str
    company: str
    source: str
    """zoho (read from the organisation) or person (told in the setup card's modal)."""
    at: datetime


@dataclass(frozen=True)
class StoredConnection:
    name: str
    refresh_token: str
    data_centre: str
    accounts_url: str
    people_url: str
    connected_by: str
    connected_at: datetime
    settings: OrgSettingsRecord | None


class Connections(Scoped):
    """A tenant's Zoho connection; part of `TenantStore`, which provides the secrets."""

    _secrets: Secrets | None

    async def save_connection(
        self,
        name: str,
        refresh_token: str,
        data_centre: tuple[str, str, str],
        connected_by: str,
        now: datetime,
    ) -> None:
        """Connect (or reconnect) `name`: a new token and data centre forget the old settings."""
        centre, accounts, people = data_centre
        values = {
            "refresh_token": self._connection_sealer().seal(refresh_token),
            "data_centre": centre,
            "accounts_url": accounts,
            "people_url": people,
            "connected_by": connected_by,
            "connected_at": now,
            "zone": None,
            "date_format": None,
            "company": None,
            "settings_source": None,
            "settings_at": None,
        }
        async with self._engine.begin() as connection:
            await upsert(
                connection,
                zoho_connections,
                ("tenant", "name"),
                {"tenant": self._tenant, "name": name},
                values,
            )

    async def save_org_settings(self, name: str, settings: OrgSettingsRecord) -> bool:
        """The organisation's zone and date format; False when `name` is no longer connected."""
        statement = (
            update(zoho_connections)
            .where(self._mine(zoho_connections), zoho_connections.c.name == name)
            .values(
                zone=settings.zone,
                date_format=settings.date_format,
                company=settings.company,
                settings_source=settings.source,
                settings_at=settings.at,
            )
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def connection(self, name: str) -> StoredConnection | None:
        query = select(zoho_connections).where(self._mine(zoho_connections), zoho_connections.c.name == name)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return _connection(row, self._connection_sealer()) if row is not None else None

    async def forget_connection(self, name: str) -> bool:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(zoho_connections).where(self._mine(zoho_connections), zoho_connections.c.name == name)
            )
        return result.rowcount == 1

    def _connection_sealer(self) -> Secrets:
        if self._secrets is None:
            raise StoreError("BOT_SECRET_KEY is not set, so no Zoho connection can be kept.")
        return self._secrets


def _connection(row: Any, secrets: Secrets) -> StoredConnection:
    settings = None
    if row["zone"] and row["date_format"] and row["settings_at"] is not None:
        settings = OrgSettingsRecord(
            row["zone"],
            row["date_format"],
            row["company"] or "",
            row["settings_source"] or "",
            row["settings_at"],
        )
    return StoredConnection(
        name=row["name"],
        refresh_token=secrets.open(row["refresh_token"]),
        data_centre=row["data_centre"],
        accounts_url=row["accounts_url"],
        people_url=row["people_url"],
        connected_by=row["connected_by"],
        connected_at=row["connected_at"],
        settings=settings,
    )
