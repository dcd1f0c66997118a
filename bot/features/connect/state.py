"""The connect flow's `state`: who asked, from which workspace, until when; signed, used once.

`state` travels through the person's browser and Zoho and comes back untouched, so
it is the only proof that the consent Zoho returns was asked for by someone the
bot showed the button to. It is an HMAC-SHA256 over a small JSON record (the
workspace, the Slack user, the expiry, a random nonce) with a key derived from
BOT_SECRET_KEY; any of the key's rotated secrets verifies it. The nonce is
accepted once (the caller records it), so a replayed state is refused.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from bot.signing import b64, mac, mac_keys, unb64, verifies

LIFETIME_SECONDS = 600.0
MAX_STATE_CHARS = 1000
_PURPOSE = b"sessions-bot zoho connect state v1"


@dataclass(frozen=True)
class ConnectState:
    workspace: str
    user: str
    expires_at: float
    nonce: str


class BadState(ValueError):
    """Missing, forged, malformed or expired; the message says which, for the page."""


def sign_state(secret_key: str, workspace: str, user: str, now: float) -> str:
    record = {"w": workspace, "u": user, "e": int(now + LIFETIME_SECONDS), "n": secrets.token_urlsafe(12)}
    body = b64(json.dumps(record, separators=(",", ":")).encode())
    return f"{body}.{b64(mac(_keys(secret_key)[0], body))}"


def read_state(secret_key: str, state: str, now: float) -> ConnectState:
    """The state's record, if it was signed with this key and has not expired."""
    if not state:
        raise BadState("The link carried no state.")
    if len(state) > MAX_STATE_CHARS or state.count(".") != 1:
        raise BadState("The link's state is not one the bot made.")
    body, signature = state.split(".")
    try:
        given = unb64(signature)
    except ValueError:
        raise BadState("The link's state is not one the bot made.") from None
    if not verifies(_keys(secret_key), body, given):
        raise BadState("The link's state is not one the bot made.")
    try:
        record = json.loads(unb64(body))
        found = ConnectState(str(record["w"]), str(record["u"]), float(record["e"]), str(record["n"]))
    except (ValueError, KeyError, TypeError):
        raise BadState("The link's state is not one the bot made.") from None
    if now >= found.expires_at:
        raise BadState("The link has expired (it lasts 10 minutes).")
    return found


def _keys(secret_key: str) -> list[bytes]:
    """One MAC key per configured secret (BOT_SECRET_KEY, newest first), apart from its other uses."""
    return mac_keys(secret_key, _PURPOSE)
