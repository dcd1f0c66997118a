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
from bot.sessions.modules import ModuleId, ModuleRef
from bot.store.records import Reminder

TRAINER_LEAD = timedelta(minutes=15)


@dataclass(frozen=True)
class DueReminder:
    user_id: str
    module: ModuleRef
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


def earliest(entries: Iterable[DueReminder]) -> list[DueReminder]:
    """One reminder per key, the earliest due: a person subscribed to a module with several lead
    times, or both to a module and to one of its sessions, or also its trainer, hears once."""
    chosen: dict[str, DueReminder] = {}
    for entry in entries:
        if entry.key not in chosen or entry.due_at < chosen[entry.key].due_at:
            chosen[entry.key] = entry
    return list(chosen.values())


def due_reminders(
    reminders: Iterable[Reminder], sessions: Mapping[ModuleId, Sequence[Session]], now: datetime
) -> list[DueReminder]:
    """Subscribers' reminders due now, one per key (the earliest-due wins)."""
    due = []
    for reminder in reminders:
        if reminder.paused_reason:
            continue
        for session in sessions.get(reminder.module.id, ()):
            if reminder.session_id and session.session_id != reminder.session_id:
                continue
            if session.start is not None and _is_due(session, reminder.lead, now):
                due.append(
                    DueReminder(reminder.user_id, reminder.module, session, session.start, reminder.lead)
                )
    return earliest(due)


def due_trainer_reminders(
    sessions: Mapping[ModuleId, Sequence[Session]],
    modules: Mapping[ModuleId, ModuleRef],
    trainer_users: Mapping[str, str],
    now: datetime,
    lead: timedelta = TRAINER_LEAD,
) -> list[DueReminder]:
    """Trainers' reminders due now; `trainer_users` maps a trainer's erecno to a Slack user id."""
    due = []
    for module_id, module_sessions in sessions.items():
        module = modules.get(module_id) or ModuleRef.named(module_id, "")
        for session in module_sessions:
            user = trainer_users.get(session.trainer_erecno)
            if user and session.start is not None and _is_due(session, lead, now):
                due.append(DueReminder(user, module, session, session.start, lead, for_trainer=True))
    return due


def trainers_soon(
    sessions: Mapping[ModuleId, Sequence[Session]], now: datetime, lead: timedelta = TRAINER_LEAD
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
