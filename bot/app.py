"""Composition root: `build_bot(settings)` creates every part; `serve` runs them. Nothing global."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.clock import Clock
from bot.config import ConfigError, Settings
from bot.core import Core, build_core
from bot.features import router
from bot.features.calendar.feeds import CalendarFeeds
from bot.features.calendar.handlers import CalendarListeners
from bot.features.calendar.limiter import RateLimiter
from bot.features.connect.handlers import ConnectListeners
from bot.features.connect.service import ConnectService
from bot.features.deps import Deps
from bot.features.digests.handlers import DigestCommands
from bot.features.digests.send import DigestSender
from bot.features.forms.handlers import Forms
from bot.features.home.handlers import Home
from bot.features.listing import handlers as listing
from bot.features.notices.detect import ChangeDetector
from bot.features.notices.send import NoticeSender
from bot.features.outbox import Outbox
from bot.features.reminders.handlers import ReminderCommands
from bot.features.reminders.send import ReminderSender
from bot.features.reminders.trainers import TrainerDirectory
from bot.features.subscriptions.service import Subscriptions
from bot.features.workflow.handlers import WorkflowStep
from bot.loop_lag import LoopLag
from bot.scheduler import Scheduler, TenantRound
from bot.secrets import WrongSecretKey
from bot.sessions.people import TrainerEmails
from bot.slack import server
from bot.slack.authorize import SingleWorkspace, ask_identity
from bot.slack.errors import handle_unexpected
from bot.slack.noise import quiet_known_noise
from bot.slack.observe import ObservedApp
from bot.slack.once import events_once
from bot.slack.tenancy import only_tenant
from bot.store.lease import Marks
from bot.store.scoped import TenantStore
from bot.store.store import Store
from bot.tenants.tenant import Tenant

log = logging.getLogger(__name__)

DEFAULT_PORT = 3000
GIL_SWITCH_SECONDS = 0.001
"""How long a worker thread (matching, parsing a long Zoho answer) may keep the interpreter
while the event loop waits for it: Python's 5 ms default, paid at each of the loop's many
hand-backs, adds up to stalls of tens of milliseconds (see bench/RESULTS.md, "Stalls")."""
SLACK_TIMEOUT_SECONDS = 10


@dataclass
class Bot:
    core: Core
    bolt: AsyncApp
    slack: AsyncWebClient
    root: Store
    """The schema, the lease and what crosses tenants."""
    store: TenantStore
    """The workspace's own rows: the only view of the store the features hold."""
    digests: DigestSender
    notices: NoticeSender
    scheduler: Scheduler
    connect: ConnectService | None
    pages: list[web.RouteDef]
    """What people's browsers are sent to (connecting Zoho), served beside `/slack/events`."""
    loop_lag: LoopLag = field(default_factory=LoopLag)

    async def start(self) -> None:
        """Watch the event loop's lag, prepare the database (create or upgrade the schema, the
        rows written before the workspace was named given to it), and take up the Zoho
        connection made from Slack, if any."""
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        self.loop_lag.start()
        await self.root.upgrade(self.store.tenant.id)
        await self.root.adopt(self.store.tenant.id)
        if self.connect is not None:
            try:
                await self.connect.load()
            except WrongSecretKey as exc:
                raise ConfigError(str(exc)) from exc

    async def aclose(self) -> None:
        await self.loop_lag.stop()
        await self.core.aclose()
        await self.root.close()

    def probes(self) -> server.Probes:
        return server.Probes(self.root.answers, self._refresh_gauges)

    async def _refresh_gauges(self) -> None:
        await self._refresh_tenant_gauges()
        await self._refresh_zoho_gauges()

    async def _refresh_tenant_gauges(self) -> None:
        """Counts only, never a label per tenant. The bot's own workspace is installed and, with
        the operator's token, connected, whether or not it has rows yet."""
        summaries = {summary.tenant: summary for summary in await self.root.tenant_summaries()}
        own = self.store.tenant.id
        connected = {tenant for tenant, summary in summaries.items() if summary.data_centre}
        if self.core.connection.connected:
            connected.add(own)
        metrics.TENANTS.labels("installed").set(len(summaries.keys() | {own}))
        metrics.TENANTS.labels("connected").set(len(connected))
        metrics.TENANTS.labels("paused").set(sum(1 for summary in summaries.values() if summary.paused))

    async def _refresh_zoho_gauges(self) -> None:
        minute, day, locked = await self.core.source.budget_left()
        metrics.ZOHO_BUDGET_LEFT.labels("minute").set(minute)
        metrics.ZOHO_BUDGET_LEFT.labels("day").set(day)
        metrics.ZOHO_LOCKED.set(int(locked))


def slack_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """One Web API client (the configured bot token's unless `token`); 429s wait for Retry-After,
    at most twice."""
    kwargs: dict[str, Any] = {"token": token or settings.slack_bot_token, "timeout": SLACK_TIMEOUT_SECONDS}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    client = AsyncWebClient(**kwargs)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


async def open_bot(settings: Settings, clock: Clock | None = None, core: Core | None = None) -> Bot:
    """`build_bot` for the workspace `auth.test` names, started. When Slack does not answer, the
    workspace named at an earlier start (the one tenant in the store) is taken, or, on a new
    database, the unnamed one, whose rows a later start gives to the team."""
    _require_bot_token(settings)
    identity = await ask_identity(slack_client(settings))
    tenant = tenant_of(identity) if identity else await _tenant_in_store(settings)
    bot = build_bot(settings, clock, core, tenant, identity)
    try:
        await bot.start()
    except BaseException:
        await bot.aclose()
        raise
    return bot


def tenant_of(identity: dict[str, Any]) -> Tenant:
    """The tenant an `auth.test` answer names: the team, or the enterprise for an org-wide install."""
    return Tenant(
        str(identity.get("team_id") or ""),
        str(identity.get("enterprise_id") or ""),
        bool(identity.get("is_enterprise_install")),
    )


async def _tenant_in_store(settings: Settings) -> Tenant:
    store = Store(settings.database)
    try:
        await store.upgrade()
        return Tenant(await store.single_tenant_id())
    finally:
        await store.close()


def _require_bot_token(settings: Settings) -> None:
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your Slack app."
        )


def build_bot(
    settings: Settings,
    clock: Clock | None = None,
    core: Core | None = None,
    tenant: Tenant | None = None,
    identity: dict[str, Any] | None = None,
) -> Bot:
    """The bot of one workspace, `tenant` (the unnamed one when not given: `open_bot` names it);
    `identity`, what `auth.test` said of the token, when asked already."""
    _require_bot_token(settings)
    core = core or build_core(settings, clock)
    slack = slack_client(settings)
    quiet_known_noise()
    single = SingleWorkspace(slack, identity)
    root = Store(settings.database, core.secrets)
    holder = f"scheduler-{uuid.uuid4().hex[:12]}"
    workspace = wire_workspace(
        settings, core, tenant or Tenant.unnamed(), slack, single.for_bolt(), root, single.team_id, holder
    )
    workspace.bolt.middleware(events_once(core.coordination, core.clock))

    async def rounds(_: Marks | None) -> list[TenantRound]:
        return [workspace.round]

    scheduler = Scheduler(root, rounds, core.clock, holder)
    return Bot(
        core,
        workspace.bolt,
        slack,
        root,
        workspace.store,
        workspace.digests,
        workspace.notices,
        scheduler,
        workspace.connect,
        workspace.pages,
    )


@dataclass
class Workspace:
    """One tenant's bot: its Zoho parts, its rows, its Slack client and listeners, its senders."""

    core: Core
    bolt: AsyncApp
    slack: AsyncWebClient
    store: TenantStore
    connect: ConnectService | None
    pages: list[web.RouteDef]
    digests: DigestSender
    notices: NoticeSender
    round: TenantRound


def wire_workspace(
    settings: Settings,
    core: Core,
    tenant: Tenant,
    slack: AsyncWebClient,
    authorize: Callable[..., Awaitable[AuthorizeResult]],
    root: Store,
    team_id: Callable[[], Awaitable[str]],
    holder: str,
    *,
    behind_front: bool = False,
) -> Workspace:
    """Every part of one tenant's bot on its Zoho `core`: its Bolt app (Bolt `authorize`s each of
    its requests), its listeners, its senders; `team_id` names the workspace a Zoho connection
    made from Slack belongs to. `behind_front`: one of many tenants, whose requests the front app
    verified, logged and authorized already (distribution mode)."""
    app_class = AsyncApp if behind_front else ObservedApp
    bolt = app_class(
        client=slack,
        authorize=authorize,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=not behind_front and not settings.slack_app_token,
        process_before_response=False,
    )
    bolt.error(handle_unexpected)
    bolt.middleware(only_tenant(tenant))
    store = root.tenant(tenant)
    connect = None
    if connects_from_slack(settings):
        connect = ConnectService(
            store,
            core.link,
            core.orgtime,
            core.forget_zoho_data,
            core.catalog.wake,
            team_id,
            core.coordination,
            core.clock,
            settings.public_url,
            settings.secret_key,
            settings.admins,
            core.organisation,
        )
    calendar = None
    if settings.public_url:
        calendar = CalendarFeeds(
            store,
            core.catalog,
            core.sessions,
            core.orgtime,
            core.clock,
            settings.public_url,
            settings.secret_key,
            tenant.id if behind_front else "",
        )
    deps = Deps(
        core.clock, core.catalog, core.sessions, core.orgtime, store, calendar.links if calendar else None
    )
    pages = register_features(bolt, deps, slack, connect, calendar)
    outbox = Outbox(store, slack, holder)
    catch_up = timedelta(hours=settings.digest_catch_up_hours)
    digests = DigestSender(store, core.sessions, outbox, core.clock, catch_up)
    trainers = None
    if settings.remind_trainers:
        trainers = TrainerDirectory(TrainerEmails(core.source, core.people_cache, core.clock), slack)
    reminders = ReminderSender(store, core.sessions, outbox, core.orgtime, trainers)
    detector = ChangeDetector(store.watches, core.sessions)
    notices = NoticeSender(store, detector, outbox, core.orgtime, trainers)
    tenant_round = TenantRound(store, core.planner, digests, reminders, notices, core.sessions.age)
    return Workspace(core, bolt, slack, store, connect, pages, digests, notices, tenant_round)


def connects_from_slack(settings: Settings) -> bool:
    """Zoho is connected from App Home: a public address, and no operator's token (which takes
    precedence)."""
    return bool(settings.public_url and not settings.zoho_refresh_token)


def register_features(
    bolt: AsyncApp,
    deps: Deps,
    slack: AsyncWebClient,
    connect: ConnectService | None = None,
    calendar: CalendarFeeds | None = None,
) -> list[web.RouteDef]:
    """Every listener, in plain view: the listing, App Home, reminders, the forms, the
    `/sessions` router, the Workflow Builder step, with a public address the calendar feeds and,
    when Zoho is connected from Slack, the setup card; returns the pages browsers and calendar
    apps are sent to."""
    home = Home(deps, connect, calendar)
    subscriptions = Subscriptions(deps)
    digests = DigestCommands(deps, subscriptions, on_change=home.publish, calendar=calendar)
    reminders = ReminderCommands(deps, subscriptions, on_change=home.publish)
    listing.register(bolt, deps)
    home.register(bolt)
    reminders.register(bolt)
    Forms(deps, subscriptions, on_change=home.publish).register(bolt)
    router.register(bolt, deps, subcommands={**digests.handlers(), **reminders.handlers()})
    WorkflowStep(deps).register(bolt)
    pages: list[web.RouteDef] = []
    if calendar is not None:
        feeds = CalendarListeners(calendar, RateLimiter(deps.clock), home.publish)
        feeds.register(bolt)
        pages += feeds.routes()
    if connect is not None:
        listeners = ConnectListeners(connect, home.publish, slack)
        listeners.register(bolt)
        pages += listeners.routes()
    return pages


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the Slack app on its transport, with discovery behind it, until `stop` or a signal."""
    socket_mode = bool(settings.slack_app_token)
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests "
            "(or set SLACK_APP_TOKEN to use Socket Mode)."
        )
    stop = stop or _stop_on_signals()
    if settings.distribution:
        from bot.fleet import serve_fleet  # the fleet is built on this module's parts

        await serve_fleet(settings, stop)
        return
    bot = await open_bot(settings)
    background: list[asyncio.Task[None]] = []
    runner = None
    try:
        background += [
            forever(bot.core.catalog.keep_fresh(), "catalog discovery"),
            forever(bot.scheduler.run(stop), "scheduler"),
        ]
        if bot.connect is not None:
            background.append(forever(bot.connect.keep_fresh(), "zoho connection"))
        port = settings.port or (None if socket_mode and not bot.pages else DEFAULT_PORT)
        if port is not None:
            runner = await server.start_http(
                server.web_app(
                    None if socket_mode else bot.bolt, settings.slack_signing_secret, bot.probes(), bot.pages
                ),
                port,
            )
        if socket_mode:
            await server.run_socket_mode(bot.bolt, settings.slack_app_token, stop)
        else:
            await stop.wait()
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        if runner is not None:
            await runner.cleanup()
        await bot.aclose()


async def run_scheduler(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """The scheduler alone, for a separate worker process (`python -m bot scheduler`)."""
    stop = stop or _stop_on_signals()
    bot = await open_bot(settings)
    try:
        await bot.scheduler.run(stop)
    finally:
        await bot.aclose()


def forever(work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    async def guarded() -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s stopped", name)

    return asyncio.create_task(guarded(), name=name)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return stop
