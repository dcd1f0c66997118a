"""Action ids and button values of the listing: a wire format that posted messages keep for months.

Ids carry a version; values are `wire` records decoded here only. Beyond what `wire`
refuses, a value naming no module, an offset that is not a small whole number or an
unknown window word is refused with ValueError.

Every value written fits Slack's 2,000 characters, or Slack refuses the whole message.
A listing's values hold a module key (at most 194 characters) and small numbers, so
they always do; a session's value holds its Zoho id, which may not (2,000 characters,
or 400 non-ASCII ones, each escaped to six): `fits` says whether it does, and
`encode_session` refuses one that does not, rather than write what Slack refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.features import wire
from bot.sessions.modules import ModuleId
from bot.sessions.windows import WINDOW_NAMES

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
    return wire.dump({"m": ref.module.key, "w": ref.window, "o": ref.offset})


def decode_listing(value: str) -> ListingRef:
    data = wire.load(value, MAX_VALUE_CHARS)
    window = data.get("w", "")
    if window not in ("", *WINDOW_NAMES):
        raise ValueError(f"not a window word: {wire.shown(window)}")
    return ListingRef(_module(data), str(window), wire.small_int(data, "o", MAX_OFFSET))


def fits(ref: SessionRef) -> bool:
    """Whether a button's value can name this session (its id is not too long)."""
    return len(_session_value(ref)) <= MAX_VALUE_CHARS


def encode_session(ref: SessionRef) -> str:
    """The session's button value; ValueError when its id is too long for one (see `fits`)."""
    value = _session_value(ref)
    if len(value) > MAX_VALUE_CHARS:
        raise ValueError(f"a session id too long for a button value: {wire.shown(ref.session_id)}")
    return value


def _session_value(ref: SessionRef) -> str:
    return wire.dump({"m": ref.module.key, "s": ref.session_id})


def decode_session(value: str) -> SessionRef:
    data = wire.load(value, MAX_VALUE_CHARS)
    if not isinstance(data.get("s"), str):
        raise ValueError(f"not a session button value: {wire.shown(value)}")
    return SessionRef(_module(data), data["s"])


def _module(data: dict[str, object]) -> ModuleId:
    module = ModuleId.parse(data["m"]) if isinstance(data.get("m"), str) else None
    if module is None:
        raise ValueError(f"not a module in a button value: {wire.shown(data.get('m'))}")
    return module
