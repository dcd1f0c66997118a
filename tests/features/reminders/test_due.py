"""`due_reminders` and the trainers' helpers: pure functions of subscriptions, sessions and `now`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.features.reminders.due import TRAINER_LEAD, due_reminders, due_trainer_reminders, trainers_soon
from bot.sessions.model import Session
from bot.sessions.modules import ModuleId, ModuleRef
from bot.store.records import Reminder

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 3, 10, 14, tzinfo=PARIS)
SECOND = timedelta(seconds=1)
MINUTES_15 = timedelta(minutes=15)
MODULE = ModuleRef("c", "b", "m", "Module")


def make(session_id: str = "S1", start: datetime | None = START, trainer: str = "") -> Session:
    end = start + timedelta(hours=1) if start else None
    return Session(session_id, "m", f"Session {session_id}", start, end, "", "", "", trainer_erecno=trainer)


def reminder(
    user: str = "U1", lead: timedelta = MINUTES_15, session_id: str = "", paused: str | None = None
) -> Reminder:
    return Reminder(1, user, MODULE, session_id, lead, paused)


def keys(reminders: list[Reminder], sessions: list[Session], now: datetime) -> list[str]:
    return [entry.key for entry in due_reminders(reminders, {MODULE.id: sessions}, now)]


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (START - MINUTES_15 - SECOND, False),
        (START - MINUTES_15, True),
        (START - SECOND, True),
        (START, False),  # started: too late for a reminder
        (START + timedelta(minutes=5), False),
    ],
)
def test_due_from_start_minus_lead_until_the_start(now: datetime, due: bool) -> None:
    assert keys([reminder()], [make()], now) == ([f"remind:U1:S1:{int(START.timestamp())}"] if due else [])


def first_due(lead: timedelta, start: datetime) -> datetime | None:
    """The first minute at which a reminder for a session at `start` is due, scanning the day before."""
    moment = start.astimezone(UTC) - timedelta(days=2)
    while moment < start:
        if keys([reminder(lead=lead)], [make(start=start)], moment):
            return moment
        moment += timedelta(minutes=1)
    return None


@pytest.mark.parametrize(
    ("start", "lead", "due_utc"),
    [
        # 29 March 2026: 02:00 -> 03:00 in Paris. 03:30 summer time is 01:30 UTC.
        pytest.param(datetime(2026, 3, 29, 3, 30, tzinfo=PARIS), timedelta(hours=1), "00:30", id="spring-1h"),
        pytest.param(datetime(2026, 3, 29, 3, 10, tzinfo=PARIS), MINUTES_15, "00:55", id="spring-15m"),
        # 25 October 2026: 03:00 -> 02:00. 03:15 winter time is 02:15 UTC.
        pytest.param(
            datetime(2026, 10, 25, 3, 15, tzinfo=PARIS), timedelta(hours=1), "01:15", id="autumn-1h"
        ),
        pytest.param(datetime(2026, 3, 29, 9, tzinfo=PARIS), timedelta(days=1), "07:00", id="spring-1d"),
    ],
)
def test_leads_are_elapsed_time_across_daylight_saving_changes(
    start: datetime, lead: timedelta, due_utc: str
) -> None:
    """Sessions carry the org's zone; a lead of one hour must still be one hour of real time."""
    due = first_due(lead, start)
    assert due is not None, "never due: the reminder would be lost"
    assert due == start.astimezone(UTC) - lead
    assert f"{due:%H:%M}" == due_utc
    (entry,) = due_reminders([reminder(lead=lead)], {MODULE.id: [make(start=start)]}, due)
    assert entry.due_at == due


def test_the_key_changes_when_a_session_moves() -> None:
    moved = make(start=START + timedelta(hours=2))
    assert keys([reminder()], [make()], START - MINUTES_15) != keys(
        [reminder()], [moved], moved.start - MINUTES_15
    )


@pytest.mark.parametrize("reverse", [False, True], ids=["module first", "session first"])
def test_a_person_following_the_module_and_the_session_is_reminded_once_the_earliest(reverse: bool) -> None:
    both = [reminder(lead=timedelta(hours=1)), reminder(session_id="S1")]
    (entry,) = due_reminders(both[::-1] if reverse else both, {MODULE.id: [make()]}, START - MINUTES_15)
    assert entry.lead == timedelta(hours=1)


def test_a_one_session_reminder_ignores_the_modules_other_sessions() -> None:
    sessions = [make("S1"), make("S2")]
    assert keys([reminder(session_id="S2")], sessions, START - SECOND) == [
        f"remind:U1:S2:{int(START.timestamp())}"
    ]


def test_paused_reminders_sessions_without_a_start_and_other_modules_are_never_due() -> None:
    now = START - SECOND
    assert keys([reminder(paused="direct messages are turned off")], [make()], now) == []
    assert keys([reminder()], [make(start=None)], now) == []
    assert due_reminders([reminder()], {ModuleId("c", "b", "other"): [make()]}, now) == []


def test_trainers_are_reminded_fifteen_minutes_before_their_sessions() -> None:
    sessions = {MODULE.id: [make("S1", trainer="E1"), make("S2", trainer="E2"), make("S3", trainer="")]}
    now = START - TRAINER_LEAD

    assert trainers_soon(sessions, now) == {"E1", "E2"}
    assert trainers_soon(sessions, now - SECOND) == set()
    due = due_trainer_reminders(sessions, {MODULE.id: MODULE}, {"E1": "UHENRY"}, now)
    assert [(e.user_id, e.session.session_id, e.for_trainer, e.module.name) for e in due] == [
        ("UHENRY", "S1", True, "Module")
    ]
    assert due[0].key == f"remind:UHENRY:S1:{int(START.timestamp())}", "the same key a subscription would use"
    assert due_trainer_reminders(sessions, {}, {"E1": "UHENRY"}, START) == []


def test_a_moved_session_of_a_trainer_gets_a_new_key() -> None:
    moved = replace(make(trainer="E1"), start=START + timedelta(hours=1))
    (entry,) = due_trainer_reminders({MODULE.id: [moved]}, {}, {"E1": "U"}, moved.start - SECOND)
    assert entry.key.endswith(str(int(moved.start.timestamp())))
    assert entry.due_at.tzinfo is not None
    assert entry.due_at.astimezone(UTC) == moved.start - TRAINER_LEAD
