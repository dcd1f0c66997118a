"""Slack's installations of the bot, kept in the bot's database with their tokens sealed.

When the bot is installed in many workspaces, each installation's tokens (bot and user
tokens, their refresh tokens, the incoming webhook's URL, which posts without any other
credential) are what Bolt answers requests with. A copy of the database must not be enough
to use them, so they are sealed with BOT_SECRET_KEY (`bot.secrets`) like the Zoho tokens.

slack_sdk's `AsyncSQLAlchemyInstallationStore` does the rest: saving, finding the newest
installation of a workspace or an enterprise, deleting. It builds its rows from
`to_dict()` in both save paths and reads them through `SQLAlchemyInstallationStore`'s
entity builders, called by class name (so overriding them changes nothing); the one place
every write and every read goes through is the column's type. `SealedInstallationStore`
gives the token columns a type that seals on the way in and opens on the way out, and none
of slack_sdk's queries is rewritten: token rotation's updates, org-wide installs and the
comparison of an installation's token with its bot's all see plain tokens. The columns
become TEXT: a sealed token is longer than the String(200) slack_sdk declares, which
PostgreSQL enforces. No query filters on a token's value, which sealing would defeat.

A value no key of BOT_SECRET_KEY opens raises `WrongSecretKey` rather than reading as no
installation: a key dropped from BOT_SECRET_KEY too early locks every installation at once,
and Bolt, given None, would tell each workspace to reinstall, while the remedy is to put
the old secret back, which the error says.

The tables sit beside the store's, named `slack_installations`, `slack_bots` and
`slack_oauth_states` (the OAuth flow's single-use states, valid `STATE_SECONDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import Column, Table, and_, case, delete, func, select, text, true
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Text, TypeDecorator

from bot.engines import open_database
from bot.secrets import Secrets
from bot.store.schema import ADVISORY_LOCK_ID
from bot.tenants.tenant import Tenant

__all__ = [
    "BOTS_TABLE",
    "BOT_SECRETS",
    "INSTALLATIONS_TABLE",
    "INSTALLATION_SECRETS",
    "STATES_TABLE",
    "STATE_SECONDS",
    "InstalledTenant",
    "SealedInstallationStore",
    "SlackStores",
    "open_slack_stores",
]

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
STATES_TABLE = "slack_oauth_states"
STATE_SECONDS = 600
"""How long a state issued for the OAuth flow may come back: 10 minutes to click Allow."""

BOT_SECRETS = ("bot_token", "bot_refresh_token")
"""The columns of `slack_bots` holding a credential."""
INSTALLATION_SECRETS = (*BOT_SECRETS, "user_token", "user_refresh_token", "incoming_webhook_url")
"""The columns of `slack_installations` holding a credential."""


class SealedText(TypeDecorator[str]):
    """TEXT holding a value sealed with `secrets`; plain text to and from SQLAlchemy."""

    impl = Text
    cache_ok = True

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        # Public and named as the argument: SQLAlchemy's statement cache keys on it, so a statement
        # compiled for one key is never reused with another.
        self.secrets = secrets

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.secrets.seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.secrets.open(value)


@dataclass(frozen=True)
class InstalledTenant:
    """A tenant with a bot installed, as of its newest installation."""

    tenant_id: str
    """The enterprise for an org-wide install, else the team (`Tenant.id`)."""
    team_id: str | None
    enterprise_id: str | None
    org_wide: bool
    installed_at: datetime

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.team_id or "", self.enterprise_id or "", self.org_wide)


class SealedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy installation store with every credential sealed at rest."""

    def __init__(self, client_id: str, engine: AsyncEngine, secrets: Secrets) -> None:
        super().__init__(
            client_id, engine, bots_table_name=BOTS_TABLE, installations_table_name=INSTALLATIONS_TABLE
        )
        for table, names in ((self.installations, INSTALLATION_SECRETS), (self.bots, BOT_SECRETS)):
            for name in names:  # in place: same name, same position, now sealed TEXT
                table.append_column(Column(name, SealedText(secrets)), replace_existing=True)
        self._found: dict[str, datetime] = {}

    async def async_save(self, installation: Installation) -> None:
        """slack_sdk's save, then the tenant's older installs deleted: a second install into a
        workspace replaces the first (its new token is the one used) rather than adding a row
        beside it. A rotation saves with the same `installed_at` and updates in place."""
        await super().async_save(installation)
        if not installation.bot_token:
            return  # a person's own install: the bot's stays
        tenant = Tenant(
            installation.team_id or "",
            installation.enterprise_id or "",
            bool(installation.is_enterprise_install),
        )
        newest = datetime.fromtimestamp(installation.installed_at, UTC).replace(tzinfo=None)
        async with self.engine.begin() as connection:
            for table in (self.installations, self.bots):
                older = and_(self._of(table, tenant), table.c.installed_at < newest)
                await connection.execute(delete(table).where(older))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """slack_sdk's find, remembering when the bot found was installed (`installed_as_found`)."""
        bot = await super().async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        if bot is not None:
            tenant = Tenant(bot.team_id or "", bot.enterprise_id or "", bool(bot.is_enterprise_install))
            self._found[tenant.id] = _stored(bot.installed_at)
        return bot

    def installed_as_found(self, tenant_id: str) -> datetime | None:
        """When the tenant's bot was installed, as this process last found it (Bolt finds it for
        every request): a later install than a workspace was built for means it left and came
        back meanwhile, perhaps through another instance."""
        return self._found.get(tenant_id)

    async def forget_installations(self, tenant: Tenant) -> int:
        """Delete every installation and bot row of `tenant` (a workspace, or an enterprise
        installed org-wide, not its workspaces installed one by one); returns how many went."""
        async with self.engine.begin() as connection:
            deleted = 0
            for table in (self.installations, self.bots):
                result = await connection.execute(delete(table).where(self._of(table, tenant)))
                deleted += result.rowcount
        return deleted

    async def installed_tenants(self, only: str | None = None) -> list[InstalledTenant]:
        """Every tenant with a bot token (or only the tenant `only`), as its newest bot row says,
        by tenant id. Reads no token, so it needs no key."""
        c = self.bots.c
        tenant_id = case((c.is_enterprise_install, c.enterprise_id), else_=c.team_id)
        newest_first = func.row_number().over(
            partition_by=tenant_id, order_by=(c.installed_at.desc(), c.id.desc())
        )
        ranked = (
            select(
                tenant_id.label("tenant_id"),
                c.team_id,
                c.enterprise_id,
                c.is_enterprise_install,
                c.installed_at,
                newest_first.label("rank"),
            )
            .where(c.client_id == self.client_id, c.bot_token.is_not(None))
            .where(tenant_id == only if only is not None else true())
            .subquery()
        )
        query = select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.tenant_id)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            InstalledTenant(
                row.tenant_id,
                row.team_id,
                row.enterprise_id,
                bool(row.is_enterprise_install),
                row.installed_at.replace(tzinfo=UTC),  # slack_sdk writes naive UTC
            )
            for row in rows
        ]

    def _of(self, table: Table, tenant: Tenant) -> ColumnElement[bool]:
        c = table.c
        if tenant.org_wide:
            owner = and_(c.is_enterprise_install.is_(True), c.enterprise_id == tenant.id)
        else:
            owner = and_(c.is_enterprise_install.is_(False), c.team_id == tenant.id)
        return and_(c.client_id == self.client_id, owner)


def _stored(installed_at: float) -> datetime:
    """The moment as the table holds it (naive UTC): slack_sdk reads the stored naive value with
    `datetime.timestamp()`, as local time, and this undoes that (to a microsecond: compare
    with `same_install`)."""
    return datetime.fromtimestamp(installed_at)


def same_install(one: datetime, other: datetime) -> bool:
    """Two readings of one install's moment (naive UTC), through a float and back or not."""
    return abs((one - other).total_seconds()) < 0.001


@dataclass
class SlackStores:
    """What Bolt's OAuth flow needs, on the bot's database: installations and states."""

    installations: SealedInstallationStore
    states: AsyncSQLAlchemyOAuthStateStore
    engine: AsyncEngine

    async def create_tables(self) -> None:
        """Create the three tables unless they exist; safe when two instances start together."""
        tables = [*self.installations.metadata.sorted_tables, *self.states.metadata.sorted_tables]
        async with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":  # the store's schema lock: one creator at a time
                await connection.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_ID})"))
            await connection.run_sync(_create, tables)

    async def aclose(self) -> None:
        await self.engine.dispose()


async def open_slack_stores(database_url: str, client_id: str, secrets: Secrets) -> SlackStores:
    """The installation and state stores of the app `client_id` on the bot's database at
    `database_url` (opened as the store opens it), their tables created."""
    engine = open_database(database_url)
    stores = SlackStores(
        SealedInstallationStore(client_id, engine, secrets),
        AsyncSQLAlchemyOAuthStateStore(STATE_SECONDS, engine, table_name=STATES_TABLE),
        engine,
    )
    try:
        await stores.create_tables()
    except BaseException:
        await stores.aclose()
        raise
    return stores


def _create(connection: Connection, tables: list[Table]) -> None:
    """IF NOT EXISTS, so a table another process created meanwhile is no error (create_all's
    look-then-create is)."""
    for table in tables:
        connection.execute(CreateTable(table, if_not_exists=True))
        for index in table.indexes:
            connection.execute(CreateIndex(index, if_not_exists=True))
