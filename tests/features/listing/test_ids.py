"""Button values and action ids: a wire format that posted messages keep for months."""

from __future__ import annotations

import json

import pytest

from bot.features import wire
from bot.features.listing.ids import (
    Action,
    ListingRef,
    SessionRef,
    decode_listing,
    decode_session,
    encode_listing,
    encode_session,
)
from bot.sessions.modules import ModuleId

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
