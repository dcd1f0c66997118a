"""The one JSON shape of everything the bot stores in Slack and reads back later: button
values, select option values and modal `private_metadata`.

Posted messages and open modals keep these for months, so each record carries a
version, and each is untrusted input when it comes back: anything this version would
not have written (too long, not JSON, not an object, another version) is refused with
ValueError, cheaply, and the error never quotes more than a few characters of it.
The feature modules (`listing/ids.py`, `forms/ids.py`) say which fields a record has.
"""

from __future__ import annotations

import json

VERSION = 1
MAX_CHARS = 3000
"""Slack's longest such field (`private_metadata`); a button's value is at most 2,000."""


def dump(data: dict[str, object]) -> str:
    return json.dumps({"v": VERSION, **data}, separators=(",", ":"))


def load(value: object, max_chars: int = MAX_CHARS) -> dict[str, object]:
    """The record's fields; raises ValueError for anything this version did not write."""
    if not isinstance(value, str) or len(value) > max_chars:
        raise ValueError(f"not a value the bot wrote: {shown(value)}")
    try:
        data = json.loads(value, parse_constant=_no_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not a value the bot wrote: {shown(value)}") from exc
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise ValueError(f"unknown value version: {shown(value)}")
    return data


def small_int(data: dict[str, object], name: str, limit: int) -> int:
    """A whole number field within 0..limit (booleans are not numbers here)."""
    number = data.get(name, 0)
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= limit:
        raise ValueError(f"not a small whole number in {name}: {shown(number)}")
    return number


def shown(value: object) -> str:
    """A few characters of an untrusted value, for error messages and logs."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a value the bot writes")
