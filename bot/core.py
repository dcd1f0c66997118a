"""The Slack-free half of the composition root: Zoho client, catalog and session service.

`python -m bot preview`, `modules` and `check` need only this; the Slack app and
the scheduler are built on top of it in `app.py`. Where several instances may
run (a PostgreSQL `DATABASE_URL`), what must be one per organisation (Zoho's
token, lock and call counts, and the session data fetched) is coordinated
through that database; otherwise through `BOT_DATA_DIR`.
"""

from __future__ import annotations

from dataclasses import dataclass

import diskcache
import httpx

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.coordination import Coordination
from bot.coordination.disk import DiskCoordination
from bot.coordination.postgres import PostgresCoordination
from bot.secrets import Secrets
from bot.sessions.catalog import Catalog, load_aliases
from bot.sessions.link import REDIRECT_PATH, ZohoLink
from bot.sessions.orgtime import OrgTime
from bot.sessions.planner import RefreshPlanner
from bot.sessions.service import SessionService
from bot.sessions.source import ZohoSource
from bot.zoho.auth import TokenSource
from bot.zoho.budget import CallBudget
from bot.zoho.client import RetryPolicy, ZohoClient
from bot.zoho.connection import ZohoConnection
from bot.zoho.consent import DataCentre, Grant
from bot.zoho.state import ZohoState


@dataclass
class Core:
    """Long-lived parts, created once at start-up and closed at shutdown."""

    settings: Settings
    clock: Clock
    http: httpx.AsyncClient
    coordination: Coordination
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
    people_cache: diskcache.Cache
    orgtime: OrgTime
    """The zone and date format Zoho's times and dates are read in."""
    link: ZohoLink
    """Connecting an organisation from a browser (when BOT_PUBLIC_URL is set)."""
    secrets: Secrets | None
    """Seal what is kept of tokens (BOT_SECRET_KEY); None without a key."""
    _caches: tuple[diskcache.Cache, ...]

    def forget_zoho_data(self) -> None:
        """What this instance holds of an organisation that was disconnected: its catalog and sessions."""
        self.catalog.forget()
        self.sessions.forget()

    async def aclose(self) -> None:
        await self.sessions.drain()
        await self.http.aclose()
        await self.coordination.close()
        for cache in self._caches:
            cache.close()


def coordination_for(settings: Settings) -> Coordination:
    if settings.shared_database:
        return PostgresCoordination(settings.database)
    return DiskCoordination(settings.data_dir / "zoho-state")


def build_core(
    settings: Settings,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> Core:
    """Create every Zoho-facing part; nothing here talks to the network yet."""
    clock = clock or SystemClock()
    # Settings errors first, before anything is opened that would then be left open.
    credentials = settings.zoho_credentials()
    home = DataCentre(settings.zoho_dc, settings.zoho_accounts_url, settings.zoho_people_url)
    grant = Grant(credentials.refresh_token, home) if credentials.refresh_token else None
    connection = ZohoConnection(credentials.client_id, credentials.client_secret, home, grant)
    aliases = load_aliases(settings.modules_file)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    http = httpx.AsyncClient(transport=transport, headers={"User-Agent": "sessions-bot"})
    coordination = coordination_for(settings)
    secrets = Secrets.from_setting(settings.secret_key) if settings.secret_key else None
    state = ZohoState(coordination, secrets)
    budget = CallBudget(state, clock, settings.zoho_calls_per_minute, settings.zoho_calls_per_day)
    tokens = TokenSource(http, connection, state, clock)
    zoho = ZohoClient(http, connection, tokens, budget, state, clock, retry)
    redirect = f"{settings.public_url}{REDIRECT_PATH}" if settings.public_url else ""
    link = ZohoLink(http, connection, tokens, zoho, clock, redirect)
    orgtime = OrgTime(
        settings.zoho_timezone,
        settings.zoho_date_format,
        settings.zoho_timezone_set,
        settings.zoho_date_format_set,
    )
    source = ZohoSource(zoho, state, budget, clock, orgtime)
    catalog_cache = diskcache.Cache(str(settings.data_dir / "catalog"))
    session_cache = diskcache.Cache(str(settings.data_dir / "sessions"))
    people_cache = diskcache.Cache(str(settings.data_dir / "people"))
    catalog = Catalog(source, catalog_cache, clock, aliases)
    sessions = SessionService(
        source,
        session_cache,
        clock,
        orgtime,
        ttl=settings.freshness_minutes * 60.0,
        shared=coordination if settings.shared_database else None,
    )
    planner = RefreshPlanner(sessions, source, clock)
    caches = (catalog_cache, session_cache, people_cache)
    return Core(
        settings,
        clock,
        http,
        coordination,
        state,
        connection,
        tokens,
        zoho,
        source,
        catalog,
        sessions,
        planner,
        budget,
        people_cache,
        orgtime,
        link,
        secrets,
        caches,
    )
