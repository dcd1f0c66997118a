"""Button values and action ids: a wire format that posted messages keep for months."""

from __future__ import annotations

import json

import pytest

from bot.features import wire
from bot.features.listing.ids import (
    MAX_VALUE_CHARS,
    Action,
    ListingRef,
    SessionRef,
    decode_listing,
    decode_session,
    encode_listing,
    encode_session,
    fits,
)
from bot.sessions.modules import ModuleId
from tests.fakes.zoho_data import zoho_id

KEY = "219225000000100001/219225000000200001/219225000000300002"
MODULE = ModuleId("219225000000100001", "219225000000200001", "219225000000300002")


@pytest.mark.parametrize(
    "ref",
    [ListingRef(MODULE), ListingRef(MODULE, "week", 10), ListingRef(ModuleId("a", "b", "c"), "tomorrow", 20)],
)
def test_listing_round_trip(ref: ListingRef) -> None:
    value = encode_listing(ref)
    assert decode_listing(value) == ref
    assert len(value) <= 150  # also fits a static_select option value


def test_session_round_trip() -> None:
    ref = SessionRef(MODULE, "219225000000400003")
    assert decode_session(encode_session(ref)) == ref


def test_values_are_small_versioned_json() -> None:
    assert json.loads(encode_listing(ListingRef(MODULE, "week", 10))) == {
        "v": wire.VERSION,
        "m": KEY,
        "w": "week",
        "o": 10,
    }


@pytest.mark.parametrize(
    "value",
    [
        json.dumps({"v": 2, "m": KEY}),
        json.dumps({"m": KEY}),
        json.dumps({"v": 1}),
        json.dumps([1, KEY]),
        "not json",
        "",
        json.dumps({"v": 1, "m": KEY, "o": "ten"}),
        json.dumps({"v": 1, "m": KEY, "o": None}),
        json.dumps({"v": 1, "m": "not a course/batch/module key"}),
    ],
)
def test_foreign_listing_values_raise_value_error(value: str) -> None:
    with pytest.raises(ValueError, match=r"value the bot wrote|value version|button value|whole number"):
        decode_listing(value)


@pytest.mark.parametrize(
    "value", [json.dumps({"v": 2, "m": KEY, "s": "1"}), json.dumps({"v": 1, "m": KEY}), "{"]
)
def test_foreign_session_values_raise_value_error(value: str) -> None:
    with pytest.raises(ValueError, match=r"value the bot wrote|value version|button value"):
        decode_session(value)


def test_action_ids_are_versioned_and_distinct() -> None:
    values = [action.value for action in Action]
    assert len(set(values)) == len(values)
    assert all(value.startswith("listing.") and value.endswith(".v1") for value in values)


@pytest.mark.parametrize("session_id", ["9" * 2000, "é" * 400, "x" * 1_930])
def test_an_id_too_long_for_a_value_does_not_fit_and_is_never_encoded(session_id: str) -> None:
    ref = SessionRef(ModuleId(zoho_id(1), zoho_id(2), zoho_id(3)), session_id)
    assert not fits(ref)
    with pytest.raises(ValueError, match="too long"):
        encode_session(ref)


def test_the_longest_id_that_fits_is_encoded_within_the_limit() -> None:
    module = ModuleId("c" * 64, "b" * 64, "m" * 64)
    longest = next(n for n in range(2000, 0, -1) if fits(SessionRef(module, "x" * n)))
    assert len(encode_session(SessionRef(module, "x" * longest))) == MAX_VALUE_CHARS
