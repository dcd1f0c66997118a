"""Which reminders are due at `now`: a pure function of the subscriptions and the sessions.

A reminder is due from `start - lead` until the session starts; never after.
Its key names the person, the session and its start time, so a moved session
gets a new reminder, a second tick or instance finds the key taken, and a
person subscribed twice (module and button) hears once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.sessions.model import Session
from bot.store.records import Reminder

TRAINER_LEAD = timedelta(minutes=15)


@dataclass(frozen=True)
class DueReminder:
    user_id: str
    module_key: str
    module_name: str
    session: Session
    start: datetime
    """The session's start: only sessions whose start could be read are ever due."""
    lead: timedelta
    for_trainer: bool = False

    @property
    def key(self) -> str:
        return f"remind:{self.user_id}:{self.session.session_id}:{int(self.start.timestamp())}"

    @property
    def due_at(self) -> datetime:
        return reminder_due_at(self.start, self.lead)


def due_reminders(
    reminders: Iterable[Reminder], sessions: Mapping[str, Sequence[Session]], now: datetime
) -> list[DueReminder]:
    """Subscribers' reminders due now, one per key (the earliest-due wins)."""
    due: dict[str, DueReminder] = {}
    for reminder in reminders:
        if reminder.paused_reason:
            continue
        for session in sessions.get(reminder.module_key, ()):
            if reminder.session_id and session.session_id != reminder.session_id:
                continue
            if session.start is not None and _is_due(session, reminder.lead, now):
                entry = DueReminder(
                    reminder.user_id,
                    reminder.module_key,
                    reminder.module_name,
                    session,
                    session.start,
                    reminder.lead,
                )
                if entry.key not in due or entry.due_at < due[entry.key].due_at:
                    due[entry.key] = entry
    return list(due.values())


def due_trainer_reminders(
    sessions: Mapping[str, Sequence[Session]],
    module_names: Mapping[str, str],
    trainer_users: Mapping[str, str],
    now: datetime,
    lead: timedelta = TRAINER_LEAD,
) -> list[DueReminder]:
    """Trainers' reminders due now; `trainer_users` maps a trainer's erecno to a Slack user id."""
    due = []
    for module_key, module_sessions in sessions.items():
        for session in module_sessions:
            user = trainer_users.get(session.trainer_erecno)
            if user and session.start is not None and _is_due(session, lead, now):
                name = module_names.get(module_key, "")
                due.append(
                    DueReminder(user, module_key, name, session, session.start, lead, for_trainer=True)
                )
    return due


def trainers_soon(
    sessions: Mapping[str, Sequence[Session]], now: datetime, lead: timedelta = TRAINER_LEAD
) -> set[str]:
    """Erecnos of trainers whose sessions are due a reminder now: the only ones worth matching."""
    return {
        session.trainer_erecno
        for module_sessions in sessions.values()
        for session in module_sessions
        if session.trainer_erecno and _is_due(session, lead, now)
    }


def _is_due(session: Session, lead: timedelta, now: datetime) -> bool:
    return session.start is not None and reminder_due_at(session.start, lead) <= now < session.start


def reminder_due_at(start: datetime, lead: timedelta) -> datetime:
    """`lead` of elapsed time before `start`. Subtracting from a datetime in the org's zone would
    count wall-clock time instead: across a daylight-saving change a 1 h reminder would land
    on a missing hour (never due) or an hour early."""
    return start.astimezone(UTC) - lead
