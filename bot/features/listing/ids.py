"""Action ids and button values of the listing: a wire format that posted messages keep for months.

Ids carry a version; values are small versioned JSON records decoded here only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from bot.sessions.modules import ModuleId

VALUE_VERSION = 1


class Action(StrEnum):
    SHOW_MORE = "listing.show_more.v1"
    SHARE = "listing.share.v1"
    PICK_MODULE = "listing.pick_module.v1"
    SELECT_MODULE = "listing.select_module.v1"
    CALENDAR = "listing.calendar.v1"
    REMIND_SESSION = "listing.remind_session.v1"


@dataclass(frozen=True)
class ListingRef:
    """Which listing a button belongs to: module, window word ("" = default), first session shown."""

    module: ModuleId
    window: str = ""
    offset: int = 0


@dataclass(frozen=True)
class SessionRef:
    module: ModuleId
    session_id: str


def encode_listing(ref: ListingRef) -> str:
    return _dump({"m": ref.module.key, "w": ref.window, "o": ref.offset})


def decode_listing(value: str) -> ListingRef:
    data = _load(value)
    try:
        return ListingRef(_module(data), str(data.get("w", "")), int(data.get("o", 0)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a listing button value: {value!r}") from exc


def encode_session(ref: SessionRef) -> str:
    return _dump({"m": ref.module.key, "s": ref.session_id})


def decode_session(value: str) -> SessionRef:
    data = _load(value)
    if "s" not in data:
        raise ValueError(f"not a session button value: {value!r}")
    return SessionRef(_module(data), str(data["s"]))


def _module(data: dict[str, object]) -> ModuleId:
    module = ModuleId.parse(str(data["m"]))
    if module is None:
        raise ValueError(f"not a module in a button value: {data['m']!r}")
    return module


def _dump(data: dict[str, object]) -> str:
    return json.dumps({"v": VALUE_VERSION, **data}, separators=(",", ":"))


def _load(value: str) -> dict[str, object]:
    """Raises ValueError for anything that is not a value this version wrote (so do the decoders)."""
    try:
        data = json.loads(value)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a button value: {value!r}") from exc
    if not isinstance(data, dict) or data.get("v") != VALUE_VERSION or "m" not in data:
        raise ValueError(f"unknown button value version: {value!r}")
    return data
