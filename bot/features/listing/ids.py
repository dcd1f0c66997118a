"""Action ids and button values of the listing: a wire format that posted messages keep for months.

Ids carry a version; values are small versioned JSON records decoded here only. A value
is untrusted input: anything this version would not have written (too long, not JSON,
nested, an offset that is not a small whole number, an unknown window word) is refused
with ValueError, cheaply, and the error never quotes more than a few characters of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from bot.sessions.modules import ModuleId
from bot.sessions.windows import WINDOW_NAMES

VALUE_VERSION = 1
MAX_VALUE_CHARS = 2000
"""Slack's limit on a button's value: nothing longer was written by the bot."""
MAX_OFFSET = 10_000


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
    window, offset = data.get("w", ""), data.get("o", 0)
    if window not in ("", *WINDOW_NAMES):
        raise ValueError(f"not a window word: {_shown(window)}")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"not an offset: {_shown(offset)}")
    return ListingRef(_module(data), str(window), offset)


def encode_session(ref: SessionRef) -> str:
    return _dump({"m": ref.module.key, "s": ref.session_id})


def decode_session(value: str) -> SessionRef:
    data = _load(value)
    if not isinstance(data.get("s"), str):
        raise ValueError(f"not a session button value: {_shown(value)}")
    return SessionRef(_module(data), data["s"])


def _module(data: dict[str, object]) -> ModuleId:
    module = ModuleId.parse(data["m"]) if isinstance(data["m"], str) else None
    if module is None:
        raise ValueError(f"not a module in a button value: {_shown(data['m'])}")
    return module


def _dump(data: dict[str, object]) -> str:
    return json.dumps({"v": VALUE_VERSION, **data}, separators=(",", ":"))


def _load(value: str) -> dict[str, object]:
    """Raises ValueError for anything that is not a value this version wrote (so do the decoders)."""
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        raise ValueError(f"not a button value: {_shown(value)}")
    try:
        data = json.loads(value, parse_constant=_no_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not a button value: {_shown(value)}") from exc
    if not isinstance(data, dict) or data.get("v") != VALUE_VERSION or "m" not in data:
        raise ValueError(f"unknown button value version: {_shown(value)}")
    return data


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a value the bot writes")


def _shown(value: object) -> str:
    """A few characters of an untrusted value, for error messages and logs."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
