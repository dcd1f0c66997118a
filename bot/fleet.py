"""Distribution mode's composition: one deployment serving every workspace that installs the app.

A `Workspace` (app.py's `wire_workspace`) is built for a tenant the first time a request or
the scheduler needs it, on the process's shared parts (HTTP client, coordination, caches) and
its own Zoho `Core`, and kept. The front app (`slack/distribution.py`) authorizes each request
from the installation store and hands it to its tenant's workspace. One scheduler leads for
every instance and runs a round for each installed tenant. A tenant that uninstalls the app
(or whose bot token is revoked) is forgotten at once: its Zoho token is revoked at Zoho, its
installation, rows, cached data and Zoho token deleted, and nothing more is sent to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from bot import metrics
from bot.app import DEFAULT_PORT, Workspace, forever, slack_client, wire_workspace
from bot.clock import Clock
from bot.config import ConfigError, Settings
from bot.core import Shared, build_shared, core_for
from bot.features.calendar.feeds import FEED_PATH, feed_token, token_hash
from bot.features.calendar.handlers import unknown_feed, unknown_session_file
from bot.features.calendar.links import SESSION_PATH, SessionFileLinks
from bot.features.connect.pages import refused
from bot.features.connect.service import CONNECT_PATH
from bot.features.connect.state import BadState, read_state
from bot.logs import tenant_context
from bot.scheduler import Scheduler, TenantRound
from bot.secrets import Secrets
from bot.sessions.errors import SessionsError
from bot.sessions.link import REDIRECT_PATH
from bot.slack import distribution, server
from bot.slack.installations import SlackStores, open_slack_stores, same_install
from bot.slack.noise import quiet_known_noise
from bot.slack.once import events_once
from bot.store.lease import Marks
from bot.store.store import Store
from bot.tenants.tenant import Tenant
from bot.zoho.client import RetryPolicy

log = logging.getLogger(__name__)

FEED_ROUTE = FEED_PATH + "{name}"
SESSION_ROUTE = SESSION_PATH + "{name}"

ROTATE_SECONDS = distribution.ROTATE_MINUTES_BEFORE * 60


@dataclass
class Fleet:
    settings: Settings
    shared: Shared
    root: Store
    slack_stores: SlackStores
    holder: str
    front: AsyncApp = field(init=False)
    scheduler: Scheduler = field(init=False)
    retry: RetryPolicy | None = None
    """How each tenant's Zoho client retries (tests: without waiting)."""
    background: bool = False
    """Keep each workspace's catalog and Zoho connection fresh in tasks of its own (serving)."""
    _workspaces: dict[str, Workspace] = field(default_factory=dict)
    _building: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: dict[str, list[asyncio.Task[None]]] = field(default_factory=dict)
    _subscribed: tuple[str, set[str]] | None = None
    """The tenants with subscriptions, with the lease's mark they were read under."""
    _built_for: dict[str, datetime] = field(default_factory=dict)
    """The installation (when it was made) each workspace was built for."""
    _expires_at: dict[str, float | None] = field(default_factory=dict)
    """When each tenant's bot token expires (None: it does not rotate), as last read."""

    def __post_init__(self) -> None:
        settings = self.settings
        oauth = distribution.oauth_settings(
            settings.slack_client_id,
            settings.slack_client_secret,
            settings.public_url or "",
            settings.slack_authorize_url,
            self.slack_stores.installations,
            self.slack_stores.states,
        )
        self.front = distribution.front_app(
            settings.slack_signing_secret, oauth, slack_client(settings), self._tenant_app, self.leave
        )
        self.front.middleware(events_once(self.shared.coordination, self.shared.clock))
        self.scheduler = Scheduler(self.root, self.rounds, self.shared.clock, self.holder)
        self._links = SessionFileLinks(settings.public_url or "", settings.secret_key)

    # ------------------------------------------------------------------ tenants

    async def workspace(self, tenant: Tenant, token: str, installed: datetime | None = None) -> Workspace:
        """The tenant's workspace, built at its first need; `token`, its bot token now;
        `installed`, when its installation was made (else as the store last found it). A workspace
        built for an earlier installation is of a tenant that left and came back meanwhile
        (through any instance): it is dropped, with what this process held of it, and built anew."""
        installed = installed or self.slack_stores.installations.installed_as_found(tenant.id)
        built_for = self._built_for.get(tenant.id)
        if installed is not None and built_for is not None and not same_install(installed, built_for):
            log.info("tenant %s installed again since its parts were built: built anew", tenant)
            self._forget_here(tenant.id)
        workspace = self._workspaces.get(tenant.id)
        if workspace is None:
            async with self._building:
                workspace = self._workspaces.get(tenant.id)
                if workspace is None:
                    workspace = await self._build(tenant, token)
                    self._workspaces[tenant.id] = workspace
                    self._keep_fresh(tenant, workspace)
        if installed is not None:
            self._built_for.setdefault(tenant.id, installed)
        workspace.slack.token = token  # a rotated token replaces the one the workspace was built with
        return workspace

    async def _build(self, tenant: Tenant, token: str) -> Workspace:
        core = core_for(self.shared, tenant, self.retry)
        slack = slack_client(self.settings, token)

        async def team_id() -> str:
            return tenant.id

        workspace = wire_workspace(
            self.settings,
            core,
            tenant,
            slack,
            distribution.authorize_from_front(),
            self.root,
            team_id,
            self.holder,
            behind_front=True,
        )
        if workspace.connect is not None:
            await workspace.connect.load()
        log.info("workspace ready")
        return workspace

    def _keep_fresh(self, tenant: Tenant, workspace: Workspace) -> None:
        """Serving: the workspace's catalog and Zoho connection kept fresh in tasks of its own."""
        if not self.background:
            return
        work = [(workspace.core.catalog.keep_fresh(), "catalog discovery")]
        if workspace.connect is not None:
            work.append((workspace.connect.keep_fresh(), "zoho connection"))
        with tenant_context(tenant.id):
            self._tasks[tenant.id] = [forever(job, name) for job, name in work]

    def running(self, tenant_id: str) -> Workspace | None:
        """The tenant's workspace if this process has built it."""
        return self._workspaces.get(tenant_id)

    def _forget_here(self, tenant_id: str) -> None:
        """Drop the tenant's parts and what this process's own disk holds of it (a tenant that
        left: the instance it left through deleted the shared rest)."""
        workspace = self._drop(tenant_id)
        if workspace is not None:
            workspace.core.forget_zoho_data()
            workspace.core.people_cache.clear()

    def _drop(self, tenant_id: str) -> Workspace | None:
        self._expires_at.pop(tenant_id, None)
        self._built_for.pop(tenant_id, None)
        for task in self._tasks.pop(tenant_id, []):
            task.cancel()
        return self._workspaces.pop(tenant_id, None)

    async def _tenant_app(self, tenant: Tenant, authorization: AuthorizeResult) -> AsyncApp:
        return (await self.workspace(tenant, authorization.bot_token or "")).bolt

    async def _installed(self, tenant_id: str) -> Workspace | None:
        """The workspace of an installed tenant named by its id (a browser page's state names it)."""
        found = await self.slack_stores.installations.installed_tenants(only=tenant_id)
        if not found:
            return None
        tenant, installed_at = found[0].tenant, found[0].installed_at.replace(tzinfo=None)
        return await self.workspace(tenant, await self._token(tenant), installed_at)

    async def _token(self, tenant: Tenant) -> str:
        bot = await self._find_bot(tenant)
        if bot is None or not bot.bot_token:
            return ""
        self._expires_at[tenant.id] = _expiry(bot)
        return bot.bot_token

    async def _find_bot(self, tenant: Tenant) -> Bot | None:
        return await self.slack_stores.installations.async_find_bot(
            enterprise_id=tenant.enterprise_id or None,
            team_id=None if tenant.org_wide else tenant.team_id,
            is_enterprise_install=tenant.org_wide,
        )

    async def rounds(self, marks: Marks | None) -> list[TenantRound]:
        """A round for every installed tenant with a digest or a reminder (no other has anything
        due or followed); a tenant that left has none. Which tenants have subscriptions is read
        again only when the lease's marks say they moved: a quiet tick asks the store only which
        tenants are installed."""
        if marks is None:
            return [workspace.round for workspace in self._workspaces.values()]
        installed = await self.slack_stores.installations.installed_tenants()
        if self._subscribed is None or self._subscribed[0] != marks.subscriptions:
            self._subscribed = (marks.subscriptions, await self.root.subscribed_tenants())
        subscribed = self._subscribed[1]
        rounds = []
        for entry in installed:
            if entry.tenant_id not in subscribed:
                continue
            installed_at = entry.installed_at.replace(tzinfo=None)
            workspace = self._workspaces.get(entry.tenant_id)
            built_for = self._built_for.get(entry.tenant_id)
            if workspace is None or built_for is None or not same_install(built_for, installed_at):
                token = await self._token(entry.tenant)
                workspace = await self.workspace(entry.tenant, token, installed_at)
            await self._keep_token_fresh(workspace)
            rounds.append(workspace.round)
        for tenant_id in self._workspaces.keys() - {entry.tenant_id for entry in installed}:
            self._forget_here(tenant_id)  # it left, through this instance or another
        return rounds

    async def _keep_token_fresh(self, workspace: Workspace) -> None:
        """With token rotation on, renew a bot token about to expire before the round sends with it
        (a request's authorization renews it too, through Bolt, and the store then has it)."""
        tenant = workspace.store.tenant
        if tenant.id not in self._expires_at:  # built for a request: its expiry not read yet
            workspace.slack.token = await self._token(tenant) or workspace.slack.token
        expires_at = self._expires_at.get(tenant.id)
        # Slack's expiry is a moment on the real clock, the one slack_sdk's rotator reads too.
        if expires_at is None or expires_at - time.time() > ROTATE_SECONDS:
            return
        bot = await self._find_bot(tenant)
        if bot is None:
            return
        rotator = AsyncTokenRotator(
            client_id=self.settings.slack_client_id,
            client_secret=self.settings.slack_client_secret,
            client=slack_client(self.settings),
        )
        try:
            renewed = await rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=distribution.ROTATE_MINUTES_BEFORE
            )
        except SlackApiError as exc:
            why = exc.response.get("error")
            log.warning("tenant %s: its bot token could not be renewed (%s)", tenant, why)
            return
        if renewed is not None:
            await self.slack_stores.installations.async_save_bot(renewed)
            bot = renewed
            log.info("tenant %s: bot token renewed", tenant)
        workspace.slack.token = bot.bot_token
        self._expires_at[tenant.id] = _expiry(bot)

    async def leave(self, tenant: Tenant, why: str) -> None:
        """The tenant uninstalled the app (or its bot token was revoked): forget it everywhere."""
        with tenant_context(tenant.id):
            await self._forget(tenant, why)

    async def _forget(self, tenant: Tenant, why: str) -> None:
        workspace = self._drop(tenant.id) or await self._build(tenant, "")
        core = workspace.core
        try:
            await _revoke_zoho(workspace)
        finally:
            installations = await self.slack_stores.installations.forget_installations(tenant)
            rows = await self.root.forget_tenant(tenant.id)
            core.forget_zoho_data()
            core.people_cache.clear()
            await self.shared.coordination.forget_prefix(core.organisation.tenant_prefix())
            log.info("left (%s): %d installation rows and %d rows deleted", why, installations, rows)

    async def calls_today(self, tenant: Tenant) -> int:
        """The Zoho calls of the last 24 hours counted against the tenant's organisation."""
        workspace = self._workspaces.get(tenant.id) or await self._build(tenant, "")
        return (await workspace.core.budget.usage()).last_day

    async def refresh_gauges(self) -> None:
        """Counts only, never a label per tenant: installed, connected to Zoho, with paused subscriptions."""
        installed = {entry.tenant_id for entry in await self.slack_stores.installations.installed_tenants()}
        summaries = [s for s in await self.root.tenant_summaries() if s.tenant in installed]
        metrics.TENANTS.labels("installed").set(len(installed))
        metrics.TENANTS.labels("connected").set(sum(1 for summary in summaries if summary.data_centre))
        metrics.TENANTS.labels("paused").set(sum(1 for summary in summaries if summary.paused))

    # ------------------------------------------------------------------ browsers

    def pages(self) -> list[web.RouteDef]:
        return [
            web.get(distribution.INSTALL_PATH, self._install),
            web.get(distribution.OAUTH_REDIRECT_PATH, self._oauth_redirect),
            web.get(CONNECT_PATH, self._zoho_page),
            web.get(REDIRECT_PATH, self._zoho_page),
            web.get(FEED_ROUTE, self._calendar_feed),
            web.get(SESSION_ROUTE, self._session_file),
        ]

    async def _install(self, request: web.Request) -> web.StreamResponse:
        flow = self.front.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def _oauth_redirect(self, request: web.Request) -> web.StreamResponse:
        flow = self.front.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    async def _zoho_page(self, request: web.Request) -> web.StreamResponse:
        """The Zoho connect flow's pages, handed to the workspace the signed state names."""
        try:
            now = self.shared.clock.time()
            state = read_state(self.settings.secret_key, request.query.get("state", ""), now)
        except BadState as exc:
            return web.Response(status=400, text=refused(str(exc), ""), content_type="text/html")
        with tenant_context(state.workspace):
            return await self._zoho_page_of(state.workspace, request)

    async def _zoho_page_of(self, tenant_id: str, request: web.Request) -> web.StreamResponse:
        workspace = await self._installed(tenant_id)
        if workspace is None:
            why = "The app is no longer installed in that workspace."
            return web.Response(status=400, text=refused(why, ""), content_type="text/html")
        return await _served_by(workspace, request.path, request)

    async def _calendar_feed(self, request: web.Request) -> web.StreamResponse:
        """A calendar app asks with the feed's address alone: the tenant is the token's."""
        token = feed_token(request.match_info["name"])
        tenant_id = await self.root.feed_tenant(token_hash(token)) if token else None
        workspace = await self._installed(tenant_id) if tenant_id else None
        if workspace is None:
            return unknown_feed()
        with tenant_context(workspace.store.tenant.id):
            return await _served_by(workspace, FEED_ROUTE, request)

    async def _session_file(self, request: web.Request) -> web.StreamResponse:
        """A session link names its tenant under the bot's signature."""
        link = self._links.read(request.match_info["name"])
        workspace = await self._installed(link.tenant) if link is not None and link.tenant else None
        if workspace is None:
            return unknown_session_file()
        with tenant_context(workspace.store.tenant.id):
            return await _served_by(workspace, SESSION_ROUTE, request)

    async def aclose(self) -> None:
        for tasks in self._tasks.values():
            for task in tasks:
                task.cancel()
        for workspace in self._workspaces.values():
            await workspace.core.aclose()
        await self.slack_stores.aclose()
        await self.root.close()
        await self.shared.aclose()


async def _served_by(workspace: Workspace, route: str, request: web.Request) -> web.StreamResponse:
    """The tenant's own page for `route` answers the request."""
    for page in workspace.pages:
        if isinstance(page, web.RouteDef) and page.path == route:
            response: web.StreamResponse = await page.handler(request)
            return response
    raise web.HTTPNotFound


async def _revoke_zoho(workspace: Workspace) -> None:
    """Revoke the tenant's Zoho token at Zoho; out of reach, it is forgotten here all the same."""
    if not workspace.core.connection.connected:
        return
    try:
        await workspace.core.link.revoke()
    except SessionsError as exc:
        log.warning("tenant %s left: its Zoho token could not be revoked (%s)", workspace.store.tenant, exc)
    await workspace.core.link.use(None)


def _expiry(bot: Bot) -> float | None:
    return float(bot.bot_token_expires_at) if bot.bot_token_expires_at else None


async def open_fleet(
    settings: Settings, clock: Clock | None = None, retry: RetryPolicy | None = None
) -> Fleet:
    """The distribution mode's parts, its database prepared."""
    if not settings.distribution:
        raise ConfigError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are not set.")
    quiet_known_noise()
    shared = build_shared(settings, clock)
    secrets = shared.secrets or Secrets.from_setting(settings.secret_key)
    root = Store(settings.database, secrets)
    try:
        await root.upgrade()
        stores = await open_slack_stores(settings.database, settings.slack_client_id, secrets)
    except BaseException:
        await root.close()
        await shared.aclose()
        raise
    return Fleet(settings, shared, root, stores, f"scheduler-{uuid.uuid4().hex[:12]}", retry)


async def serve_fleet(settings: Settings, stop: asyncio.Event) -> None:
    """Serve every installed workspace over HTTP until `stop`: `/slack/events`, the install and
    connect pages, the operator's endpoints; and the scheduler."""
    fleet = await open_fleet(settings)
    fleet.background = True
    runner = None
    scheduler = forever(fleet.scheduler.run(stop), "scheduler")
    try:
        probes = server.Probes(fleet.root.answers, fleet.refresh_gauges)
        app = server.web_app(fleet.front, settings.slack_signing_secret, probes, fleet.pages())
        runner = await server.start_http(app, settings.port or DEFAULT_PORT)
        await stop.wait()
    finally:
        scheduler.cancel()
        await asyncio.gather(scheduler, return_exceptions=True)
        if runner is not None:
            await runner.cleanup()
        await fleet.aclose()
