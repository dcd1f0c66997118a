"""Secrets at rest: values such as Zoho refresh tokens, sealed before they reach the database.

Connecting Zoho People from Slack stores each organisation's refresh token, which
reads everyone's training records. A copy of the database (a backup, a dump
pasted into a ticket) must not be enough to use it, so tokens are sealed with a
key that lives only in the environment: `BOT_SECRET_KEY`.

`BOT_SECRET_KEY` holds one or more secrets separated by commas, newest first.
Values are sealed with the first and opened with any, so the key can be rotated
without downtime: put a new secret in front, `reseal` what is stored, then drop
the old one. Each secret becomes a Fernet key through HKDF-SHA256, so a secret
of any length (and any characters but the comma) works; secrets shorter than 32
characters are refused because they could be guessed.

A sealed value is `v1:` followed by a Fernet token: ASCII, fit for a TEXT
column, and told apart from a plain value by its prefix.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "MIN_SECRET_LENGTH",
    "PREFIX",
    "BadSecretKey",
    "NotSealed",
    "Secrets",
    "WrongSecretKey",
    "is_sealed",
]

PREFIX = "v1:"
"""Marks a sealed value and its scheme; another scheme would get another prefix."""
MIN_SECRET_LENGTH = 32
"""Characters; `secrets.token_urlsafe(32)` gives 43."""

SETTING = "BOT_SECRET_KEY"
_HOW_TO_MAKE_ONE = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
# Changing either of these changes every derived key, and sealed values stop opening: keep them.
_SALT = b"sessions-bot BOT_SECRET_KEY salt v1"
_INFO = b"sessions-bot secrets at rest: Fernet key v1"


class BadSecretKey(ValueError):
    """BOT_SECRET_KEY is empty, malformed, or holds a secret too short to be safe."""


class WrongSecretKey(ValueError):
    """No key in BOT_SECRET_KEY opens a sealed value: another key sealed it, or it is damaged."""


class NotSealed(ValueError):
    """A value given to `open` or `reseal` lacks the sealed prefix: it is plain, or not ours."""


def is_sealed(value: str) -> bool:
    """Whether `value` looks sealed (has the prefix); says nothing of whether a key opens it."""
    return value.startswith(PREFIX)


class Secrets:
    """Seals and opens values with the keys derived from BOT_SECRET_KEY.

    Build it with `from_setting`; it never shows its keys, in `repr` or errors.
    """

    def __init__(self, keys: Sequence[Fernet]) -> None:
        if not keys:
            raise BadSecretKey(f"{SETTING} holds no secret; {_HOW_TO_MAKE_ONE}")
        self._keys = MultiFernet(list(keys))
        self._count = len(keys)

    @classmethod
    def from_setting(cls, value: str) -> Secrets:
        """The keys of BOT_SECRET_KEY's value: comma-separated secrets, newest first.

        Raises `BadSecretKey`, naming the setting and how to make a secret, when
        the value is empty, has an empty entry (a stray comma), or has a secret
        shorter than MIN_SECRET_LENGTH characters. The message never quotes a secret.
        """
        secrets = [part.strip() for part in value.split(",")]
        if not any(secrets):
            raise BadSecretKey(f"{SETTING} is empty; {_HOW_TO_MAKE_ONE}")
        for place, secret in enumerate(secrets, start=1):
            if not secret:
                raise BadSecretKey(
                    f"{SETTING} has an empty entry (number {place} of {len(secrets)}): "
                    "separate secrets with single commas and leave none at either end."
                )
            if len(secret) < MIN_SECRET_LENGTH:
                raise BadSecretKey(
                    f"{SETTING} entry number {place} is {len(secret)} characters; a secret needs at least "
                    f"{MIN_SECRET_LENGTH}, or it could be guessed; {_HOW_TO_MAKE_ONE}"
                )
        return cls([_fernet(secret) for secret in secrets])

    def seal(self, plain: str) -> str:
        """`plain` encrypted and authenticated with the newest key, as prefixed ASCII text."""
        return PREFIX + self._keys.encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """The plain text of a value `seal` made with any key of BOT_SECRET_KEY.

        Raises `NotSealed` for a value without the prefix and `WrongSecretKey`
        when no key opens it, rather than returning anything unauthenticated.
        """
        token = self._token(sealed)
        try:
            return self._keys.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise self._wrong_key() from None

    def reseal(self, sealed: str) -> str:
        """The same value sealed with the newest key, so older keys can then leave BOT_SECRET_KEY.

        Fernet keeps the value's original timestamp. Raises like `open`.
        """
        token = self._token(sealed)
        try:
            return PREFIX + self._keys.rotate(token).decode("ascii")
        except InvalidToken:
            raise self._wrong_key() from None

    def _token(self, sealed: str) -> bytes:
        if not is_sealed(sealed):
            raise NotSealed(f"This value is not sealed (it does not start with {PREFIX!r}).")
        try:
            return sealed[len(PREFIX) :].encode("ascii")
        except UnicodeEncodeError:  # no key could have sealed it: Fernet tokens are ASCII
            raise self._wrong_key() from None

    def _wrong_key(self) -> WrongSecretKey:
        return WrongSecretKey(
            f"None of the {self._count} key(s) in {SETTING} opens this sealed value: it was sealed with a "
            f"key since removed from {SETTING}, or it is damaged. Put the old secret back at the end of "
            f"{SETTING}, or store the value again."
        )

    def __repr__(self) -> str:
        return f"Secrets({self._count} key(s))"


def _fernet(secret: str) -> Fernet:
    """A Fernet key stretched from `secret` by HKDF-SHA256, so any length of secret gives a valid key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8"))))
