"""What changed in a module's upcoming sessions between two reads: a pure comparison.

The bot keeps, per followed module, what people last saw of its upcoming
sessions (`Known`). Each new complete read is compared with it at `now`:

- a session's start or end moved, its trainer or its room changed;
- a known session that has not started is absent from the read: cancelled;
- a session not known before is upcoming: added.

Nothing else counts (a renamed session, a new learner count). Sessions that have
ended are never announced, nor are those whose date Zoho's text does not give.
A read cut short proves nothing about what it lacks, so it changes nothing; and
a read in which every known upcoming session vanished at once is only believed
when a second read says the same (`confirming`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.sessions.model import Session


@dataclass(frozen=True)
class Known:
    """What people see of one upcoming session, as last read."""

    session_id: str
    name: str
    start: datetime
    end: datetime | None
    trainer: str = ""
    room: str = ""
    trainer_erecno: str = ""

    @classmethod
    def of(cls, session: Session) -> Known:
        if session.start is None:
            raise ValueError("only a session whose start is known can be watched")
        return cls(
            session.session_id,
            session.name,
            session.start,
            session.end,
            session.trainer,
            session.room,
            session.trainer_erecno,
        )

    def has_started(self, now: datetime) -> bool:
        return self.start <= now

    def is_over(self, now: datetime) -> bool:
        return (self.end or self.start) <= now

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.session_id,
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "trainer": self.trainer,
            "room": self.room,
            "trainer_erecno": self.trainer_erecno,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Known:
        end = data.get("end")
        return cls(
            str(data["id"]),
            str(data["name"]),
            datetime.fromisoformat(data["start"]),
            datetime.fromisoformat(end) if end else None,
            str(data.get("trainer", "")),
            str(data.get("room", "")),
            str(data.get("trainer_erecno", "")),
        )


class ChangeKind(StrEnum):
    MOVED = "moved"
    CANCELLED = "cancelled"
    ADDED = "added"
    TRAINER = "trainer"
    ROOM = "room"


@dataclass(frozen=True)
class Change:
    """One change to one session: `before` is None for an added session, `after` for a cancelled one."""

    kind: ChangeKind
    before: Known | None
    after: Known | None

    @property
    def session(self) -> Known:
        """The session as it is now, or as it was for a cancelled one."""
        found = self.after or self.before
        if found is None:
            raise ValueError("a change names a session before or after it")
        return found

    @property
    def new_value(self) -> str:
        """The value the change leads to, in a form fit for a key."""
        if self.kind is ChangeKind.CANCELLED:
            return "gone"
        after = self.session
        if self.kind is ChangeKind.TRAINER:
            return after.trainer_erecno or after.trainer
        if self.kind is ChangeKind.ROOM:
            return after.room
        end = int(after.end.timestamp()) if after.end else ""
        return f"{int(after.start.timestamp())}-{end}"


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing one read with what was known.

    `state` is what to keep as known from now on; None when the read must change
    nothing (cut short, or awaiting a second read that confirms everything vanished).
    """

    changes: tuple[Change, ...] = ()
    state: tuple[Known, ...] | None = None
    awaiting_confirmation: bool = False


def upcoming(sessions: Iterable[Session], now: datetime) -> dict[str, Known]:
    """The read's sessions that can be watched: an id, a readable start, not yet ended."""
    return {
        session.session_id: Known.of(session)
        for session in sessions
        if session.session_id and session.start is not None and not session.is_over(now)
    }


def compare(
    known: Mapping[str, Known] | None,
    read: Iterable[Session],
    complete: bool,
    now: datetime,
    confirming: bool = False,
) -> Comparison:
    """Compare a read with what was known (None: never read since followed, so this is the baseline)."""
    if not complete:
        return Comparison()
    read = list(read)
    present = {session.session_id for session in read}
    fresh = upcoming(read, now)
    state = tuple(sorted(fresh.values(), key=lambda k: (k.start, k.session_id)))
    if known is None:
        return Comparison(state=state)
    still = {sid: k for sid, k in known.items() if not k.is_over(now)}
    if still and not present & still.keys() and not confirming:
        return Comparison(awaiting_confirmation=True)
    changes: list[Change] = []
    for sid, before in sorted(still.items(), key=lambda item: (item[1].start, item[0])):
        if sid not in present:
            if not before.has_started(now):
                changes.append(Change(ChangeKind.CANCELLED, before, None))
        elif (after := fresh.get(sid)) is not None:
            changes += _edits(before, after)
    changes += [Change(ChangeKind.ADDED, None, k) for k in state if k.session_id not in known]
    return Comparison(tuple(changes), state)


def _edits(before: Known, after: Known) -> list[Change]:
    edits = []
    if (before.start, before.end) != (after.start, after.end):
        edits.append(Change(ChangeKind.MOVED, before, after))
    if before.trainer != after.trainer:
        edits.append(Change(ChangeKind.TRAINER, before, after))
    if before.room != after.room:
        edits.append(Change(ChangeKind.ROOM, before, after))
    return edits
