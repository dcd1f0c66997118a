"""What the store hands out: plain records, and how table rows become them.

A module is kept in two columns, its `course/batch/module` key and the name it
had when subscribed; this file is the only code that turns them back into a
`ModuleRef`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple

from bot.sessions.changes import Change
from bot.sessions.modules import ModuleId, ModuleRef

MAX_NAME_CHARS = 300
"""The store's `module_name` column; a longer name (Zoho's or typed) is kept to this."""


def stored_name(module: ModuleRef) -> str:
    """The module's name as its column takes it: clipped, without NUL (PostgreSQL refuses it)."""
    return module.title.replace("\x00", "")[:MAX_NAME_CHARS]


@dataclass(frozen=True)
class Slot:
    """One send as the sends table knows it: its unique key, what kind, to whom, and when due."""

    key: str
    kind: str
    target: str
    due_at: datetime


@dataclass(frozen=True)
class Claim:
    """A send claimed by this caller. `uncertain`: retaken from a holder that died mid-send, so
    the message may already be in Slack."""

    uncertain: bool


class Schedule(NamedTuple):
    """When a digest goes out: at this time of day in this zone, on these weekdays (Monday 0)."""

    at: time
    weekdays: frozenset[int]
    zone: str


@dataclass(frozen=True)
class Digest:
    id: int
    channel_id: str
    module: ModuleRef
    at: time
    weekdays: frozenset[int]
    zone: str
    created_by: str
    created_at: datetime | None = None
    paused_reason: str | None = None


@dataclass(frozen=True)
class Reminder:
    """A person's reminder: every session of a module, or one session when `session_id` is set."""

    id: int
    user_id: str
    module: ModuleRef
    session_id: str
    lead: timedelta
    paused_reason: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class FoundChange:
    """A change as kept: which module, when it was found, and its row id (for send keys)."""

    id: int
    module: ModuleRef
    change: Change
    detected_at: datetime


@dataclass(frozen=True)
class SendRecord:
    key: str
    kind: str
    target: str
    due_at: datetime
    state: str
    attempts: int
    last_error: str | None


def weekday_mask(days: Iterable[int]) -> int:
    return sum(1 << day for day in set(days))


def weekdays_of(mask: int) -> frozenset[int]:
    return frozenset(day for day in range(7) if mask & (1 << day))


def module_from_row(row: Any) -> ModuleRef:
    module = ModuleId.parse(row["module_key"])
    if module is None:
        raise ValueError(f"stored module key {row['module_key']!r} is not course/batch/module")
    return ModuleRef.named(module, row["module_name"])


def digest_from_row(row: Any) -> Digest:
    minutes = row["minute_of_day"]
    return Digest(
        id=row["id"],
        channel_id=row["channel_id"],
        module=module_from_row(row),
        at=time(minutes // 60, minutes % 60),
        weekdays=weekdays_of(row["weekdays"]),
        zone=row["zone"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        paused_reason=row["paused_reason"],
    )


def reminder_from_row(row: Any) -> Reminder:
    return Reminder(
        id=row["id"],
        user_id=row["user_id"],
        module=module_from_row(row),
        session_id=row["session_id"],
        lead=timedelta(minutes=row["lead_minutes"]),
        paused_reason=row["paused_reason"],
        created_at=row["created_at"],
    )
