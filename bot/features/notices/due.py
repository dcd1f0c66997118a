"""Who is told of which change: a pure function of the changes found and the subscriptions.

- A channel with a digest of the module (not paused) hears of every change, unless it
  turned notices off.
- A person with a reminder covering the session hears that it moved or was cancelled.
- With trainers' reminders on, a trainer hears of every change to a session they train
  (before or after the change).

Each (target, change) pair has its own send key, naming the session, the change and
its new value; a target's pairs found at one moment go out as one message. Only
subscriptions older than the change are told of it, and no one is told of a change
to a session that has started by now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.sessions.changes import ChangeKind
from bot.store.records import Digest, FoundChange, Reminder

PERSONAL_KINDS = frozenset({ChangeKind.MOVED, ChangeKind.CANCELLED})
"""What a person with a reminder is told of: what changes when, or whether, they are reminded."""


@dataclass(frozen=True)
class NoticeItem:
    key: str
    found: FoundChange


@dataclass
class DueNotice:
    """One message to one channel or person: the changes it has not yet been told of."""

    target: str
    to_channel: bool
    items: list[NoticeItem] = field(default_factory=list)
    for_trainer: bool = False
    """A DM to a trainer only (no reminder of theirs is involved)."""
    quiet: bool = False
    """A channel with notices off: its changes are settled as skipped, so turning notices
    back on never brings old news."""

    @property
    def keys(self) -> list[str]:
        return [item.key for item in self.items]


def notice_key(target: str, found: FoundChange) -> str:
    change = found.change
    value = change.new_value[:40]
    return f"notice:{target}:{change.session.session_id[:40]}:{change.kind.value}:{value}:{found.id}"


def due_notices(
    changes: Iterable[FoundChange],
    digests: Iterable[Digest],
    reminders: Iterable[Reminder],
    quiet_channels: set[str],
    trainer_users: Mapping[str, str],
    now: datetime,
) -> list[DueNotice]:
    """Every notice the changes call for, one per target, oldest change first within it."""
    notices: dict[tuple[str, bool], DueNotice] = {}
    digests, reminders = list(digests), list(reminders)

    def add(target: str, to_channel: bool, found: FoundChange, for_trainer: bool = False) -> None:
        quiet = to_channel and target in quiet_channels
        notice = notices.setdefault(
            (target, to_channel), DueNotice(target, to_channel, for_trainer=for_trainer, quiet=quiet)
        )
        notice.for_trainer = notice.for_trainer and for_trainer
        key = notice_key(target, found)
        if key not in notice.keys:
            notice.items.append(NoticeItem(key, found))

    for found in sorted(changes, key=lambda f: (f.detected_at, f.id)):
        if found.change.session.has_started(now):
            continue
        for digest in digests:
            if (
                digest.module.id == found.module.id
                and not digest.paused_reason
                and _before(digest.created_at, found)
            ):
                add(digest.channel_id, True, found)
        if found.change.kind in PERSONAL_KINDS:
            for reminder in reminders:
                if covers(reminder, found) and _before(reminder.created_at, found):
                    add(reminder.user_id, False, found)
        for erecno in _trainers(found):
            user = trainer_users.get(erecno)
            if user:
                add(user, False, found, for_trainer=True)
    return list(notices.values())


def trainer_erecnos(changes: Iterable[FoundChange]) -> set[str]:
    """The trainers the changes concern: the only ones worth matching to Slack people."""
    return {erecno for found in changes for erecno in _trainers(found)}


def _trainers(found: FoundChange) -> set[str]:
    sides = (found.change.before, found.change.after)
    return {side.trainer_erecno for side in sides if side is not None and side.trainer_erecno}


def covers(reminder: Reminder, found: FoundChange) -> bool:
    """Whether the reminder (not paused) is of the changed session: its module's every session,
    or that one."""
    return (
        not reminder.paused_reason
        and reminder.module.id == found.module.id
        and reminder.session_id in ("", found.change.session.session_id)
    )


def _before(subscribed_at: datetime | None, found: FoundChange) -> bool:
    return subscribed_at is None or subscribed_at <= found.detected_at
