"""Connecting a Zoho People organisation from a browser: Zoho's web consent flow.

The person's browser goes to Zoho's consent page (`consent_url`); Zoho sends it
back to the bot with a single-use code (valid about two minutes) and the accounts
server of the person's data centre, where the code is exchanged for a refresh
token (`exchange_code`). Only Zoho's own account hosts (the data-centre table,
or the operator's ZOHO_ACCOUNTS_URL) may receive a code or the client secret:
`data_centre_of` refuses any other before a request is made. `revoke` ends a
refresh token and every access token made from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httpx

from bot.zoho.auth import TOKEN_TIMEOUT, post_token_request
from bot.zoho.datacentres import DATA_CENTRES
from bot.zoho.errors import ZohoAuthError, ZohoError, ZohoUnavailableError

SCOPES = ("ZOHOPEOPLE.training.READ", "ZOHOPEOPLE.forms.READ", "ZOHOPEOPLE.organization.READ")
"""Sessions and modules; trainers' e-mails (for their reminders); the organisation's zone and date format."""
CONFIGURED = "configured"
"""The data-centre name of the operator's own ZOHO_ACCOUNTS_URL / ZOHO_PEOPLE_URL."""


@dataclass(frozen=True)
class DataCentre:
    """Where an organisation lives: its name (`eu`…), accounts host and People host."""

    name: str
    accounts_url: str
    people_url: str


@dataclass(frozen=True)
class Grant:
    """A connection: the refresh token Zoho issued and the data centre it belongs to."""

    refresh_token: str
    data_centre: DataCentre


class ZohoConsentError(ZohoAuthError):
    """The consent could not be turned into a connection (a used or expired code, a refusal)."""


def consent_url(accounts_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Zoho's consent page, asking for a refresh token (`access_type=offline`) every time
    (`prompt=consent`), so a reconnection always gets one."""
    query = urlencode(
        {
            "scope": ",".join(SCOPES),
            "client_id": client_id,
            "response_type": "code",
            "access_type": "offline",
            "prompt": "consent",
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{accounts_url}/oauth/v2/auth?{query}"


def data_centre_of(accounts_server: str, configured: DataCentre | None) -> DataCentre | None:
    """The data centre whose accounts host Zoho named, or None when it is not one of Zoho's own
    (nor the configured one): such a host must never receive a code or the client secret."""
    wanted = _origin(accounts_server)
    if wanted is None:
        return None
    if configured is not None and _origin(configured.accounts_url) == wanted:
        return configured
    for name, (accounts, people) in DATA_CENTRES.items():
        if _origin(accounts) == wanted:
            return DataCentre(name, accounts, people)
    return None


def _origin(url: str) -> str | None:
    """scheme://host[:port] of a bare origin; None for anything with a path, query or credentials."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


async def exchange_code(
    http: httpx.AsyncClient,
    centre: DataCentre,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    now: float,
) -> Grant:
    """The refresh token for a consent's code, from the accounts server of the person's centre."""
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
        "code": code,
    }
    try:
        body = await post_token_request(http, f"{centre.accounts_url}/oauth/v2/token", form, now)
    except ZohoAuthError as exc:
        raise ZohoConsentError(
            "Zoho did not accept the sign-in: its code was already used, or more than two minutes passed."
        ) from exc
    refresh = body.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise ZohoConsentError("Zoho's answer had no refresh token.")
    return Grant(refresh, centre)


async def revoke(http: httpx.AsyncClient, grant: Grant) -> None:
    """End the refresh token at Zoho (and every access token made from it). A token Zoho no
    longer knows (400) is as good as revoked."""
    url = f"{grant.data_centre.accounts_url}/oauth/v2/token/revoke"
    try:
        # In the form body rather than the query Zoho's examples use: a URL ends up in logs.
        response = await http.post(url, data={"token": grant.refresh_token}, timeout=TOKEN_TIMEOUT)
    except httpx.HTTPError as exc:
        raise ZohoUnavailableError(
            f"Could not reach Zoho's accounts server to revoke the token ({exc})."
        ) from exc
    if response.status_code >= 500:
        raise ZohoUnavailableError(f"Zoho's accounts server failed with HTTP {response.status_code}.")
    if response.status_code not in (200, 204, 400):
        raise ZohoError(f"Zoho refused to revoke the token (HTTP {response.status_code}).")
