"""Connecting the bot to a Zoho People organisation, in the domain's words.

The other place besides `source.py` where the domain calls Zoho: the consent URL,
the code exchange at the person's own data centre, revoking, and reading the
organisation's zone and date format. Zoho's types and errors stop here: callers
get `Linked` records and `SessionsError`s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from bot.clock import Clock
from bot.sessions.errors import NeedsAdmin, SessionsError
from bot.sessions.source import domain_error
from bot.zoho import consent
from bot.zoho.auth import TokenSource
from bot.zoho.client import Call, ZohoClient
from bot.zoho.connection import ZohoConnection
from bot.zoho.errors import ZohoError, ZohoRequestError
from bot.zoho.orgsettings import BadOrgSettings, parse_organization

log = logging.getLogger(__name__)

REDIRECT_PATH = "/zoho/oauth_redirect"
"""Where Zoho sends a person back to, under BOT_PUBLIC_URL: the client's registered redirect URI."""
ORGANISATION_PATH = "/api/v3/organization"
ORGANISATION_SECONDS = 10.0


@dataclass(frozen=True)
class Linked:
    """A connection as the bot keeps it: the refresh token and its data centre."""

    refresh_token: str
    data_centre: str
    accounts_url: str
    people_url: str


@dataclass(frozen=True)
class Organisation:
    """What Zoho says of the organisation: its IANA zone, the strptime format of its dates, its id."""

    zone: str
    date_format: str
    company: str


class ConnectRefused(SessionsError):
    """The consent could not become a connection; the message says what to do."""


class NotAnAdmin(SessionsError):
    """Zoho People lets only its administrators read the organisation's settings."""


class ZohoLink:
    def __init__(
        self,
        http: httpx.AsyncClient,
        connection: ZohoConnection,
        tokens: TokenSource,
        client: ZohoClient,
        clock: Clock,
        redirect_uri: str,
    ) -> None:
        self._http = http
        self._connection = connection
        self._tokens = tokens
        self._client = client
        self._clock = clock
        self.redirect_uri = redirect_uri

    @property
    def linked(self) -> Linked | None:
        grant = self._connection.grant
        return _linked(grant) if grant is not None else None

    def consent_url(self, state: str) -> str:
        """Zoho's consent page, at the configured data centre (Zoho sends each person on to theirs)."""
        home = self._connection.home
        return consent.consent_url(home.accounts_url, self._connection.client_id, self.redirect_uri, state)

    def home_accounts_url(self) -> str:
        """Where a code is exchanged when Zoho names no accounts server (a client without multi-DC)."""
        return self._connection.home.accounts_url

    def knows_server(self, accounts_server: str) -> bool:
        """Whether Zoho's `accounts-server` is one of Zoho's own account hosts (or the configured one)."""
        return consent.data_centre_of(accounts_server, self._connection.home) is not None

    async def exchange(self, code: str, accounts_server: str) -> Linked:
        """The connection a consent's code gives, exchanged at the person's data centre."""
        centre = consent.data_centre_of(accounts_server, self._connection.home)
        if centre is None:
            raise ConnectRefused("Zoho named an accounts server that is not one of Zoho's own.")
        try:
            grant = await consent.exchange_code(
                self._http,
                centre,
                self._connection.client_id,
                self._connection.client_secret,
                self.redirect_uri,
                code,
                self._clock.time(),
            )
        except consent.ZohoConsentError as exc:
            raise ConnectRefused(str(exc)) from exc
        except ZohoError as exc:
            raise domain_error(exc) from exc
        return _linked(grant)

    async def use(self, linked: Linked | None) -> None:
        """Read Zoho as `linked` from now on (None: disconnected)."""
        grant = None
        if linked is not None:
            centre = consent.DataCentre(linked.data_centre, linked.accounts_url, linked.people_url)
            grant = consent.Grant(linked.refresh_token, centre)
        if grant != self._connection.grant:
            self._connection.use(grant)
            await self._tokens.forget()

    async def organisation(self) -> Organisation:
        """The organisation's zone and date format; NotAnAdmin when Zoho won't tell this connection."""
        call = Call(deadline=self._clock.time() + ORGANISATION_SECONDS)
        try:
            body = await self._client.get_json(ORGANISATION_PATH, {}, call)
        except ZohoRequestError as exc:
            if exc.status == 403:
                raise NotAnAdmin(
                    "Only a Zoho People administrator may read the organisation's settings."
                ) from exc
            raise domain_error(exc) from exc
        except ZohoError as exc:
            raise domain_error(exc) from exc
        try:
            settings = parse_organization(body)
        except BadOrgSettings as exc:
            raise NeedsAdmin(str(exc)) from exc
        return Organisation(settings.zone, settings.date_format, settings.company)

    async def revoke(self) -> None:
        """End the connection's refresh token at Zoho; Zoho out of reach is a SessionsError."""
        grant = self._connection.grant
        if grant is None:
            return
        try:
            await consent.revoke(self._http, grant)
        except ZohoError as exc:
            raise domain_error(exc) from exc


def _linked(grant: consent.Grant) -> Linked:
    centre = grant.data_centre
    return Linked(grant.refresh_token, centre.name, centre.accounts_url, centre.people_url)
