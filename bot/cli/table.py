"""Plain-text tables for the terminal (pure).

Zoho's words are printed as they are, but never as terminal controls: escape
sequences (colours, OSC 8 hyperlinks, window titles, clearing the screen),
other control characters and direction overrides are dropped from every cell
and heading, and long names are shortened.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import tzinfo

from bot.sessions.listing import Listing
from bot.sessions.model import Session

MAX_CELL = 40
MAX_HEADING = 200
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_DIRECTION = re.compile("[\u202a-\u202e\u2066-\u2069]")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], whole: Sequence[int] = ()) -> str:
    """Columns padded to their widest cell; cells are shortened except in the `whole` columns."""
    cells = [[one_line(cell) if i in whole else _clip(cell) for i, cell in enumerate(row)] for row in rows]
    widths = [
        max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def listing_table(listing: Listing, zone: tzinfo, window_label: str) -> str:
    """What `python -m bot preview` prints."""
    module = listing.module
    title, where = _clip(module.title, MAX_HEADING), _clip(module.path or module.key, MAX_HEADING)
    lines = [f"{title}  ({where})", f"Upcoming sessions, {window_label}:"]
    if listing.sessions:
        rows = [_row(session, zone) for session in listing.sessions]
        lines.append(table(["When", "Session", "Type", "Trainer", "Room", "Learners"], rows))
    else:
        lines.append("None.")
        if listing.next_after is not None and listing.next_after.start is not None:
            name = _clip(listing.next_after.name, MAX_HEADING)
            lines.append(f"Next session: {_when(listing.next_after, zone)} ({name}).")
    if listing.stale:
        why = f": {one_line(listing.problem)}" if listing.problem else ""
        lines.append(f"Data from {listing.fetched_at:%Y-%m-%d %H:%M} UTC{why}")
    return "\n".join(lines)


def _row(session: Session, zone: tzinfo) -> list[str]:
    flags = [flag for flag, on in (("completed", session.completed), ("locked", session.locked)) if on]
    name = session.name + (f" ({', '.join(flags)})" if flags else "")
    return [
        _when(session, zone),
        name,
        session.session_type,
        session.trainer,
        session.room,
        str(session.total_learners),
    ]


def _when(session: Session, zone: tzinfo) -> str:
    if session.start is None:
        return one_line(session.when_text)
    start = session.start.astimezone(zone)
    text = f"{start:%a %d %b %Y %H:%M}"
    if session.end is not None:
        text += f"–{session.end.astimezone(zone):%H:%M}"
    return f"{text} {start.tzname()}"


def one_line(text: str) -> str:
    """What a terminal may print of outside text: direction controls dropped, control characters
    (ESC, BEL, NUL…) and runs of whitespace as one space, so nothing in it drives the terminal."""
    return " ".join(_CONTROLS.sub(" ", _DIRECTION.sub("", text)).split())


def _clip(text: str, limit: int = MAX_CELL) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
