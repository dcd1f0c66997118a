"""Signing what travels outside the bot and comes back (a connect flow's state, a calendar file's
link): HMAC-SHA256 with keys derived from BOT_SECRET_KEY, one per configured secret (newest
first, so a rotated secret still verifies), each apart from the secret's other uses by its
`purpose`; and the unpadded base64url such values are written in."""

from __future__ import annotations

import base64
import hashlib
import hmac


def mac_keys(secret_key: str, purpose: bytes) -> list[bytes]:
    """One MAC key per secret in BOT_SECRET_KEY (comma-separated, newest first) for `purpose`."""
    parts = [part.strip() for part in secret_key.split(",") if part.strip()]
    return [hmac.new(part.encode(), purpose, hashlib.sha256).digest() for part in parts]


def mac(key: bytes, body: str) -> bytes:
    return hmac.new(key, body.encode(), hashlib.sha256).digest()


def verifies(keys: list[bytes], body: str, given: bytes, length: int = 32) -> bool:
    """Whether `given` is the first `length` bytes of `body`'s MAC under any of `keys`."""
    return any(hmac.compare_digest(mac(key, body)[:length], given) for key in keys)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    """Raises ValueError for anything that is not unpadded base64url."""
    if not text.isascii():
        raise ValueError("not base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64") from exc
