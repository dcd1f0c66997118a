"""Many workspaces, one deployment: Bolt's OAuth flow, and each request handed to its tenant.

The front app verifies nothing itself (the HTTP server checked the signature) but does
what Bolt does for a distributed app: it authorizes each request from the installation
store, so a team with no installation gets Bolt's "please reinstall" sentence and nothing
runs. It then hands the request, with the installation's token, to the app of the tenant it
came from (the enterprise for an org-wide install, else the team): that app's listeners
see only that tenant's rows, its Zoho and its Slack client. `app_uninstalled` and
`tokens_revoked` are answered by the front app itself: the tenant is leaving.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import tenant_context
from bot.slack.errors import handle_unexpected
from bot.slack.observe import ObservedApp
from bot.tenants.tenant import Tenant

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:history",
    "channels:read",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "users:read",
    "users:read.email",
)
"""What the app asks a workspace for; the manifest's `oauth_config.scopes.bot` (a test holds them equal)."""
ROTATE_MINUTES_BEFORE = 120
"""With token rotation on, a bot token this close to expiring is renewed before it is used."""
STATES_SECONDS = 600
FRONT_AUTHORIZATION = "front_authorization"
"""The context key the tenant's app finds the front app's authorization under."""
LEAVING_EVENTS = ("app_uninstalled", "tokens_revoked")

TenantApp = Callable[[Tenant, AuthorizeResult], Awaitable[AsyncApp]]
Leaving = Callable[[Tenant, str], Awaitable[None]]


class RecentAuthorizations(dict[str, Any]):
    """Bolt's cache of what `auth.test` said of each bot token (Bolt otherwise asks Slack before
    every request), bounded: tokens rotate every 12 hours, so an unbounded cache would grow."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self._most = most

    def __setitem__(self, token: str, result: Any) -> None:
        if len(self) >= self._most:
            del self[next(iter(self))]  # the oldest
        super().__setitem__(token, result)


AUTHORIZATIONS_KEPT = 10_000
"""Tokens whose `auth.test` answer is kept: more than the workspaces one deployment serves."""


def oauth_settings(
    client_id: str,
    client_secret: str,
    public_url: str,
    authorization_url: str,
    installations: AsyncInstallationStore,
    states: AsyncOAuthStateStore,
) -> AsyncOAuthSettings:
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installations,
        installation_store_bot_only=True,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE,
        state_store=states,
        state_expiration_seconds=STATES_SECONDS,
        install_path=INSTALL_PATH,
        redirect_uri_path=OAUTH_REDIRECT_PATH,
        redirect_uri=f"{public_url}{OAUTH_REDIRECT_PATH}",
        authorization_url=authorization_url,
    )
    settings.authorize.cache_enabled = True  # a token's bot and team do not change: ask once
    settings.authorize.authorize_result_cache = RecentAuthorizations(AUTHORIZATIONS_KEPT)
    return settings


def tenant_of(context: AsyncBoltContext) -> Tenant:
    return Tenant(
        str(context.team_id or ""), str(context.enterprise_id or ""), bool(context.is_enterprise_install)
    )


def front_app(
    signing_secret: str,
    oauth: AsyncOAuthSettings,
    client: AsyncWebClient,
    tenant_app: TenantApp,
    leaving: Leaving,
) -> AsyncApp:
    """The app `/slack/events` dispatches to: authorize from the installation, then hand over."""
    front = ObservedApp(
        client=client,
        signing_secret=signing_secret,
        oauth_settings=oauth,
        process_before_response=False,
    )
    front.error(handle_unexpected)

    async def hand_over(
        req: AsyncBoltRequest,
        body: dict[str, Any],
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        if body.get("type") == "event_callback" and event.get("type") in LEAVING_EVENTS:
            return await next()
        authorization = context.authorize_result
        if authorization is None:
            return await next()
        tenant = tenant_of(context)
        with tenant_context(tenant.id):
            app = await tenant_app(tenant, authorization)
            inner = AsyncBoltRequest(
                body=req.raw_body,
                query=req.query,
                headers=req.headers,
                context={FRONT_AUTHORIZATION: authorization},
            )
            return await app.async_dispatch(inner)

    front.middleware(hand_over)

    async def on_leaving(ack: Any, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        event = body.get("event") or {}
        if event.get("type") == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # only people's tokens: the bot has none of them
        tenant = tenant_of(context)
        with tenant_context(tenant.id):
            await leaving(tenant, str(event.get("type")))

    for name in LEAVING_EVENTS:
        front.event(name)(on_leaving)
    return front


def authorize_from_front() -> Callable[..., Awaitable[AuthorizeResult | None]]:
    """The tenant app's `authorize`: the installation the front app found for the request."""

    async def authorize(front_authorization: AuthorizeResult | None) -> AuthorizeResult | None:
        return front_authorization

    return authorize
