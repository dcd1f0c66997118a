"""Secrets at rest: sealing with BOT_SECRET_KEY, opening with any of its keys, and rotating them."""

from __future__ import annotations

import secrets as stdlib_secrets
from collections.abc import Callable

import pytest

from bot.secrets import (
    MIN_SECRET_LENGTH,
    PREFIX,
    BadSecretKey,
    NotSealed,
    Secrets,
    WrongSecretKey,
    is_sealed,
)

OLD = "old-secret-of-the-sessions-bot-0123456789"
NEW = "new-secret-of-the-sessions-bot-9876543210"
PLAIN = "1000.8cb99dxxxxxxxx9be93.9b8xxxxxxf refresh token"


def test_round_trip() -> None:
    keys = Secrets.from_setting(NEW)
    assert keys.open(keys.seal(PLAIN)) == PLAIN


@pytest.mark.parametrize("plain", ["", "é ü 日本語 🙂", "x" * 10_000, "v1:looks sealed but is not"])
def test_round_trip_of_any_text(plain: str) -> None:
    keys = Secrets.from_setting(NEW)
    assert keys.open(keys.seal(plain)) == plain


def test_sealed_text_is_prefixed_ascii_and_never_contains_the_plain_text() -> None:
    sealed = Secrets.from_setting(NEW).seal(PLAIN)
    assert sealed.startswith(PREFIX)
    assert is_sealed(sealed)
    assert not is_sealed(PLAIN)
    assert sealed.isascii()
    assert sealed.isprintable()
    assert PLAIN not in sealed
    assert "refresh" not in sealed
    assert NEW not in sealed


def test_the_same_value_seals_differently_each_time() -> None:
    """Fernet's random IV: equal tokens in the database do not show as equal sealed values."""
    keys = Secrets.from_setting(NEW)
    assert keys.seal(PLAIN) != keys.seal(PLAIN)


def test_a_wrong_key_is_refused_with_the_typed_error() -> None:
    sealed = Secrets.from_setting(OLD).seal(PLAIN)
    with pytest.raises(WrongSecretKey, match="BOT_SECRET_KEY") as caught:
        Secrets.from_setting(NEW).open(sealed)
    assert isinstance(caught.value, ValueError)
    assert caught.value.__cause__ is None
    assert OLD not in str(caught.value)
    assert NEW not in str(caught.value)


@pytest.mark.parametrize(
    "damage",
    [
        lambda sealed: sealed[:-5] + "AAAAA",
        lambda sealed: sealed[: len(PREFIX) + 20],
        lambda sealed: PREFIX + "not base64 at all!",
        lambda sealed: PREFIX + "é",
        lambda sealed: PREFIX,
    ],
)
def test_a_damaged_value_is_refused_like_a_wrong_key(damage: Callable[[str], str]) -> None:
    keys = Secrets.from_setting(NEW)
    with pytest.raises(WrongSecretKey):
        keys.open(damage(keys.seal(PLAIN)))


def test_a_plain_value_is_not_opened() -> None:
    keys = Secrets.from_setting(NEW)
    with pytest.raises(NotSealed):
        keys.open(PLAIN)
    with pytest.raises(NotSealed):
        keys.reseal(PLAIN)


def test_rotation_the_old_key_second_still_opens() -> None:
    sealed_before = Secrets.from_setting(OLD).seal(PLAIN)
    rotating = Secrets.from_setting(f"{NEW},{OLD}")
    assert rotating.open(sealed_before) == PLAIN
    with pytest.raises(WrongSecretKey):
        Secrets.from_setting(OLD).open(rotating.seal(PLAIN))  # the first key seals


def test_rotation_reseal_makes_the_new_key_alone_sufficient() -> None:
    sealed_before = Secrets.from_setting(OLD).seal(PLAIN)
    resealed = Secrets.from_setting(f"{NEW}, {OLD}").reseal(sealed_before)
    assert is_sealed(resealed)
    assert Secrets.from_setting(NEW).open(resealed) == PLAIN
    with pytest.raises(WrongSecretKey):
        Secrets.from_setting(OLD).open(resealed)


def test_reseal_refuses_what_no_key_opens() -> None:
    sealed = Secrets.from_setting(OLD).seal(PLAIN)
    with pytest.raises(WrongSecretKey, match="BOT_SECRET_KEY"):
        Secrets.from_setting(NEW).reseal(sealed)


def test_a_value_sealed_by_an_earlier_release_still_opens() -> None:
    """Pins HKDF's salt and info and the prefix: changing any of them would lock every stored token out."""
    keys = Secrets.from_setting("pinned-secret-for-the-derivation-test-0001")
    sealed = (
        "v1:gAAAAABrFb2J-Ddp4lhvAoKuCXOwoMZbyhRPRduudqbLV0OToO7lGmZZARenQNo0DwUSDDhUYxB3gz-tNFz"
        "G8gCPvpC_zHv_MgnIvvQ7mqgQH89LTthAQqw="
    )
    assert keys.open(sealed) == "refresh-token-1000.abc"


def test_a_secret_of_any_length_and_alphabet_works() -> None:
    for secret in ("k" * MIN_SECRET_LENGTH, "ü" * 40 + " with spaces inside", "z" * 500):
        keys = Secrets.from_setting(secret)
        assert keys.open(keys.seal(PLAIN)) == PLAIN


def test_the_suggested_command_makes_an_accepted_secret() -> None:
    secret = stdlib_secrets.token_urlsafe(32)
    assert "," not in secret
    Secrets.from_setting(secret)


@pytest.mark.parametrize(
    "setting",
    [
        "short",
        "k" * (MIN_SECRET_LENGTH - 1),
        f"{NEW},short",
        f"  {'k' * (MIN_SECRET_LENGTH - 1)}  ",
    ],
)
def test_a_short_secret_is_refused_with_how_to_make_one(setting: str) -> None:
    with pytest.raises(BadSecretKey) as caught:
        Secrets.from_setting(setting)
    message = str(caught.value)
    assert "BOT_SECRET_KEY" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    assert f"at least {MIN_SECRET_LENGTH}" in message
    assert isinstance(caught.value, ValueError)
    for secret in setting.split(","):
        assert secret.strip() not in message


@pytest.mark.parametrize("setting", ["", "   ", ",", f"{NEW},", f",{NEW}", f"{NEW},,{OLD}"])
def test_an_empty_setting_or_entry_is_refused(setting: str) -> None:
    with pytest.raises(BadSecretKey, match="BOT_SECRET_KEY"):
        Secrets.from_setting(setting)


def test_repr_shows_no_key() -> None:
    keys = Secrets.from_setting(f"{NEW},{OLD}")
    assert repr(keys) == "Secrets(2 key(s))"
    assert NEW not in repr(keys)
