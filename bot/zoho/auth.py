"""Access tokens from Zoho's refresh-token grant, shared and rationed.

Zoho allows 10 token requests per 10 minutes and 10 live tokens per refresh
token, so a token is cached until five minutes before it expires, kept on disk
for restarts and other processes, and renewed by one caller at a time.

When Zoho refuses the credentials themselves (a revoked refresh token, an
unknown client), asking again cannot help until an operator acts: the refusal
is logged once as an error and answered from memory for `REFUSED_RETRY` seconds,
so a revoked token costs one token request each half hour, not one a tick.
Changing the credentials means a restart, which forgets the refusal.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from bot.clock import Clock
from bot.zoho.errors import (
    ZohoAuthError,
    ZohoError,
    ZohoTokenLimitError,
    ZohoUnavailableError,
)
from bot.zoho.state import TOKEN_REQUESTS, CachedToken, ZohoState

if TYPE_CHECKING:
    from bot.zoho.connection import ZohoConnection

log = logging.getLogger(__name__)

EXPIRY_MARGIN = 300.0
"""Seconds before expiry at which a token counts as spent."""
REFRESH_LIMIT = 10
REFRESH_WINDOW = 600.0
TOKEN_TIMEOUT = 10.0
MUTEX_HOLD = 30.0
MUTEX_POLL = 0.05
REFUSED_RETRY = 1800.0
"""How long refused credentials are believed refused before Zoho is asked again."""


@dataclass(frozen=True)
class ZohoCredentials:
    """The Self Client's id and secret, and the refresh token issued to it."""

    client_id: str
    client_secret: str
    refresh_token: str


class TokenSource:
    """Gives out a valid access token, refreshing only when it must."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        connection: ZohoConnection,
        state: ZohoState,
        clock: Clock,
    ) -> None:
        """The refresh token and accounts host are read from `connection` at each renewal."""
        self._http = http
        self._connection = connection
        self._state = state
        self._clock = clock
        self._local = asyncio.Lock()
        self._owner = uuid.uuid4().hex
        self._refused: tuple[ZohoAuthError, float, str] | None = None
        """Zoho's refusal of the credentials, until when it is believed without asking, and the
        refresh token it was for."""

    async def token(self) -> str:
        cached = await self._usable()
        if cached is not None:
            return cached
        return await self._renew(rejected=None)

    async def forget(self) -> None:
        """The connection changed: its cached access token and any refusal belong to the old one."""
        now = self._clock.time()
        cached = await self._state.token(now)
        if cached is not None:
            await self._state.forget_token(cached.access_token, now)
        self._refused = None

    def _still_refused(self) -> None:
        if self._refused is not None:
            error, until, refresh = self._refused
            if self._clock.time() < until and refresh == self._connection.credentials().refresh_token:
                raise error

    def _remember_refusal(self, error: ZohoAuthError) -> None:
        """The error line once, until a token is granted again; later refusals are INFO."""
        level = logging.ERROR if self._refused is None else logging.INFO
        refresh = self._connection.credentials().refresh_token
        self._refused = (error, self._clock.time() + REFUSED_RETRY, refresh)
        log.log(level, "zoho credentials refused, asking again in %.0f min: %s", REFUSED_RETRY / 60, error)

    async def renew_rejected(self, rejected: str) -> str:
        """Zoho answered 401 to `rejected`: get a new token unless someone already did."""
        await self._state.forget_token(rejected, self._clock.time())
        return await self._renew(rejected=rejected)

    async def _usable(self, rejected: str | None = None) -> str | None:
        cached = await self._state.token(self._clock.time())
        if cached is None or cached.access_token == rejected:
            return None
        if cached.expires_at - EXPIRY_MARGIN <= self._clock.time():
            return None
        return cached.access_token

    async def _renew(self, rejected: str | None) -> str:
        async with self._local:
            cached = await self._usable(rejected)
            if cached is not None:
                return cached
            self._still_refused()
            await self._claim_mutex()
            try:
                cached = await self._usable(rejected)
                if cached is not None:
                    return cached
                try:
                    token = await self._grant()
                except ZohoAuthError as error:
                    self._remember_refusal(error)
                    raise
                self._refused = None
                return token
            finally:
                await self._state.release_refresh_mutex(self._owner)

    async def _claim_mutex(self) -> None:
        """Wait while another instance refreshes; its claim lapses if it dies."""
        deadline = self._clock.time() + MUTEX_HOLD
        while not await self._state.try_refresh_mutex(self._owner, self._clock.time(), MUTEX_HOLD):
            if self._clock.time() > deadline:
                raise ZohoUnavailableError("Another process has been renewing the Zoho token for too long.")
            await self._clock.sleep(MUTEX_POLL)

    async def _grant(self) -> str:
        now = self._clock.time()
        wait, _ = await self._state.take_slot(TOKEN_REQUESTS, now, ((REFRESH_WINDOW, REFRESH_LIMIT),))
        if wait > 0:
            raise ZohoTokenLimitError(
                "The bot has asked Zoho for 10 access tokens in 10 minutes, Zoho's limit; "
                f"it can ask again in {round(wait)} s.",
                retry_at=now + wait,
            )
        credentials = self._connection.credentials()
        body = await post_token_request(
            self._http,
            f"{self._connection.data_centre.accounts_url}/oauth/v2/token",
            {
                "grant_type": "refresh_token",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
                "refresh_token": credentials.refresh_token,
            },
            now=now,
        )
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise ZohoAuthError("Zoho's token answer had no access_token; run `python -m bot check`.")
        expires_in = _seconds(body.get("expires_in"), default=3600.0)
        await self._state.store_token(CachedToken(access, now + expires_in))
        log.info("zoho token renewed, valid for %d s", expires_in)
        return access


async def post_token_request(
    http: httpx.AsyncClient, url: str, form: dict[str, str], now: float
) -> dict[str, Any]:
    """POST to the token endpoint and turn Zoho's body-level errors into typed ones."""
    try:
        response = await http.post(url, data=form, timeout=TOKEN_TIMEOUT)
        body = response.json()
    except httpx.TimeoutException as exc:
        raise ZohoUnavailableError("Zoho's accounts server did not answer in time.") from exc
    except httpx.HTTPError as exc:
        raise ZohoUnavailableError(f"Could not reach Zoho's accounts server ({exc}).") from exc
    except ValueError as exc:
        raise ZohoUnavailableError("Zoho's accounts server answered with something other than JSON.") from exc
    if not isinstance(body, dict):
        raise ZohoUnavailableError("Zoho's accounts server answered with an unexpected body.")
    error = body.get("error")
    if error:
        raise token_error(str(error), now)
    if response.status_code >= 500:
        raise ZohoUnavailableError(f"Zoho's accounts server failed with HTTP {response.status_code}.")
    return body


def token_error(error: str, now: float) -> ZohoError:
    """The sentence a person needs for each error Zoho's token endpoint reports in its body."""
    if error == "invalid_code":
        return ZohoAuthError(
            "Zoho refused the refresh token (invalid_code): it was revoked, or it belongs to another "
            "client. Connect Zoho People again from the bot's Home tab, or, with a Self Client, generate a "
            "new one (README, 'Connecting Zoho') and set ZOHO_REFRESH_TOKEN."
        )
    if error == "invalid_client":
        return ZohoAuthError(
            "Zoho does not know this client (invalid_client): check ZOHO_CLIENT_ID and "
            "ZOHO_CLIENT_SECRET, and that ZOHO_DC is the data centre the Self Client was made in."
        )
    if error.lower() == "access denied":
        return ZohoTokenLimitError(
            "Zoho refused a new access token because too many were asked for; wait 10 minutes.",
            retry_at=now + REFRESH_WINDOW,
        )
    return ZohoAuthError(f"Zoho's token endpoint refused the request ({error}); run `python -m bot check`.")


async def exchange_grant_code(
    http: httpx.AsyncClient, accounts_url: str, client_id: str, client_secret: str, code: str, now: float
) -> str:
    """Turn a Self Client grant code into the long-lived refresh token."""
    body = await post_token_request(
        http,
        f"{accounts_url}/oauth/v2/token",
        {
            "grant_type": "authorization_code",
            "client_id": client_id,
            "client_secret": client_secret,
            "code": code,
        },
        now=now,
    )
    refresh = body.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise ZohoAuthError(
            "Zoho's answer had no refresh token: generate a new grant code (they expire within minutes)."
        )
    return refresh


def _seconds(value: object, default: float) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
