"""The Slack-free half of the composition root: Zoho client, catalog and session service.

`python -m bot preview`, `modules` and `check` need only this; the Slack app and
the scheduler are built on top of it in `app.py`. Where several instances may
run (a PostgreSQL `DATABASE_URL`), what must be one per organisation (Zoho's
token, lock and call counts, and the session data fetched) is coordinated
through that database; otherwise through `BOT_DATA_DIR`.

`Shared` is what a process opens once (the HTTP client, the coordination backend, the
caches); a `Core` is one tenant's Zoho parts on top of it. The single-workspace mode has one
`Core`; the distribution mode one per tenant, each seeing the shared state through keys
that carry the tenant (and its organisation's budget through its `Company`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import diskcache
import httpx

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.coordination import Coordination
from bot.coordination.disk import DiskCoordination
from bot.coordination.postgres import PostgresCoordination
from bot.coordination.prefixed import PrefixedCoordination
from bot.secrets import Secrets
from bot.sessions.catalog import Catalog, load_aliases
from bot.sessions.link import REDIRECT_PATH, ZohoLink
from bot.sessions.modules import ModuleRef
from bot.sessions.orgtime import OrgTime
from bot.sessions.planner import RefreshPlanner
from bot.sessions.service import SessionService
from bot.sessions.shared_catalog import SharedCatalog
from bot.sessions.source import ZohoSource
from bot.tenants.cache import TenantCache
from bot.tenants.organisation import OrganisationScope
from bot.tenants.tenant import Tenant
from bot.zoho.auth import TokenSource
from bot.zoho.budget import CallBudget
from bot.zoho.client import RetryPolicy, ZohoClient
from bot.zoho.connection import ZohoConnection
from bot.zoho.consent import DataCentre, Grant
from bot.zoho.state import ZohoState


@dataclass
class Shared:
    """What one process opens once and every tenant's parts use."""

    settings: Settings
    clock: Clock
    http: httpx.AsyncClient
    coordination: Coordination
    secrets: Secrets | None
    """Seal what is kept of tokens (BOT_SECRET_KEY); None without a key."""
    catalogs: diskcache.Cache
    sessions: diskcache.Cache
    people: diskcache.Cache

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.coordination.close()
        for cache in (self.catalogs, self.sessions, self.people):
            cache.close()


@dataclass
class Core:
    """One tenant's long-lived Zoho parts, created once and closed at shutdown."""

    shared: Shared
    tenant: Tenant
    organisation: OrganisationScope
    """Whose call budget and lock this tenant's calls count against."""
    state: ZohoState
    connection: ZohoConnection
    """Which organisation Zoho is read as, and where: the operator's token, or made from Slack."""
    tokens: TokenSource
    zoho: ZohoClient
    source: ZohoSource
    catalog: Catalog
    sessions: SessionService
    planner: RefreshPlanner
    budget: CallBudget
    people_cache: TenantCache
    orgtime: OrgTime
    """The zone and date format Zoho's times and dates are read in."""
    link: ZohoLink
    """Connecting an organisation from a browser (when BOT_PUBLIC_URL is set)."""
    owns_shared: bool = False
    """The single-workspace core closes what it opened; a tenant's core leaves it to the fleet."""

    @property
    def settings(self) -> Settings:
        return self.shared.settings

    @property
    def clock(self) -> Clock:
        return self.shared.clock

    @property
    def http(self) -> httpx.AsyncClient:
        return self.shared.http

    @property
    def coordination(self) -> Coordination:
        return self.shared.coordination

    @property
    def secrets(self) -> Secrets | None:
        return self.shared.secrets

    def forget_zoho_data(self) -> None:
        """What this instance holds of an organisation that was disconnected: its catalog and sessions."""
        self.catalog.forget()
        self.sessions.forget()

    async def aclose(self) -> None:
        await self.sessions.drain()
        if self.owns_shared:
            await self.shared.aclose()


def coordination_for(settings: Settings) -> Coordination:
    if settings.shared_database:
        return PostgresCoordination(settings.database)
    return DiskCoordination(settings.data_dir / "zoho-state")


def build_shared(
    settings: Settings, clock: Clock | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> Shared:
    """Open what every tenant's parts share; nothing here talks to the network yet."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Shared(
        settings,
        clock or SystemClock(),
        httpx.AsyncClient(transport=transport, headers={"User-Agent": "sessions-bot"}),
        coordination_for(settings),
        Secrets.from_setting(settings.secret_key) if settings.secret_key else None,
        diskcache.Cache(str(settings.data_dir / "catalog"), tag_index=True),
        diskcache.Cache(str(settings.data_dir / "sessions"), tag_index=True),
        diskcache.Cache(str(settings.data_dir / "people"), tag_index=True),
    )


def build_core(
    settings: Settings,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> Core:
    """The single workspace's Zoho parts, on shared parts of their own; nothing talks to the network yet."""
    # Settings errors first, before anything is opened that would then be left open.
    credentials = settings.zoho_credentials()
    aliases = load_aliases(settings.modules_file)
    shared = build_shared(settings, clock, transport)
    core = core_for(shared, Tenant.unnamed(), retry, many=False, aliases=aliases)
    core.owns_shared = True
    home = core.connection.home
    if credentials.refresh_token:
        core.connection.use(Grant(credentials.refresh_token, home))
    return core


def core_for(
    shared: Shared,
    tenant: Tenant,
    retry: RetryPolicy | None = None,
    *,
    many: bool = True,
    aliases: Iterable[ModuleRef] = (),
) -> Core:
    """One tenant's Zoho parts on `shared`. `many`: one of many tenants (distribution mode), whose
    keys and cache entries carry its id; the single workspace's keep their names."""
    settings, clock = shared.settings, shared.clock
    credentials = settings.zoho_credentials()
    home = DataCentre(settings.zoho_dc, settings.zoho_accounts_url, settings.zoho_people_url)
    connection = ZohoConnection(credentials.client_id, credentials.client_secret, home, None)
    organisation = OrganisationScope(tenant.id, many)
    own = PrefixedCoordination(shared.coordination, organisation.tenant_prefix())
    state = ZohoState(own, shared.secrets, PrefixedCoordination(shared.coordination, organisation.prefix))
    budget = CallBudget(state, clock, settings.zoho_calls_per_minute, settings.zoho_calls_per_day)
    tokens = TokenSource(shared.http, connection, state, clock)
    zoho = ZohoClient(shared.http, connection, tokens, budget, state, clock, retry)
    redirect = f"{settings.public_url}{REDIRECT_PATH}" if settings.public_url else ""
    link = ZohoLink(shared.http, connection, tokens, zoho, clock, redirect)
    if many:
        orgtime = OrgTime(settings.zoho_timezone, settings.zoho_date_format, False, False)
    else:
        orgtime = OrgTime(
            settings.zoho_timezone,
            settings.zoho_date_format,
            settings.zoho_timezone_set,
            settings.zoho_date_format_set,
        )
    source = ZohoSource(zoho, state, budget, clock, orgtime)
    scope = tenant.id if many else ""
    shared_catalog = SharedCatalog(own, clock) if settings.shared_database else None
    catalog = Catalog(source, TenantCache(shared.catalogs, scope), clock, aliases, shared=shared_catalog)
    sessions = SessionService(
        source,
        TenantCache(shared.sessions, scope),
        clock,
        orgtime,
        ttl=settings.freshness_minutes * 60.0,
        shared=own if settings.shared_database else None,
    )
    planner = RefreshPlanner(sessions, source, clock)
    return Core(
        shared,
        tenant,
        organisation,
        state,
        connection,
        tokens,
        zoho,
        source,
        catalog,
        sessions,
        planner,
        budget,
        TenantCache(shared.people, scope),
        orgtime,
        link,
    )
