"""Zoho's web consent as the bot speaks it: the consent URL, and which accounts servers may ever
receive a code or the client secret (Zoho's own data-centre hosts, or the operator's configured one)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.zoho.consent import SCOPES, DataCentre, consent_url, data_centre_of

CONFIGURED = DataCentre("com", "http://127.0.0.1:9000", "http://127.0.0.1:9000")


def test_the_consent_url_asks_for_a_refresh_token_every_time_with_the_three_scopes() -> None:
    url = consent_url("https://accounts.zoho.com", "cid", "https://bot.example/zoho/oauth_redirect", "st")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.zoho.com/oauth/v2/auth"
    assert query == {
        "scope": ",".join(SCOPES),
        "client_id": "cid",
        "response_type": "code",
        "access_type": "offline",
        "prompt": "consent",
        "redirect_uri": "https://bot.example/zoho/oauth_redirect",
        "state": "st",
    }


@pytest.mark.parametrize(
    ("server", "centre"),
    [
        ("https://accounts.zoho.eu", "eu"),
        ("https://ACCOUNTS.zoho.com.au/", "com.au"),
        ("https://accounts.zohocloud.ca", "ca"),
        ("http://127.0.0.1:9000", "com"),
    ],
)
def test_zohos_own_account_hosts_and_the_configured_one_are_accepted(server: str, centre: str) -> None:
    found = data_centre_of(server, CONFIGURED)
    assert found is not None
    assert found.name == centre


@pytest.mark.parametrize(
    "server",
    [
        "https://accounts.evil.example",
        "https://accounts.zoho.eu.evil.example",
        "https://accounts.zoho.eu@evil.example",
        "https://user:pass@accounts.zoho.eu",
        "http://accounts.zoho.eu",
        "https://accounts.zoho.eu/path",
        "https://accounts.zoho.eu?x=1",
        "https://accounts.zoho.eu:8443",
        "accounts.zoho.eu",
        "javascript:alert(1)",
        "",
    ],
)
def test_any_other_server_is_refused(server: str) -> None:
    assert data_centre_of(server, CONFIGURED) is None
