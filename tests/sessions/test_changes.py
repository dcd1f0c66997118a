"""The comparison behind change notices: old known sessions, a new read, `now` -> changes (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.sessions.changes import ChangeKind, Known, compare, upcoming
from bot.sessions.model import Session

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def session(sid: str, start: datetime | None, **fields: object) -> Session:
    values: dict = {
        "session_id": sid,
        "module_id": "m",
        "name": f"Session {sid}",
        "start": start,
        "end": start + HOUR if start else None,
        "raw_date": "",
        "raw_start_time": "",
        "raw_end_time": "",
        "trainer": "Henry Martin",
        "room": "Room 1",
    }
    values.update(fields)
    return Session(**values)


READ = [
    session("past", NOW - 5 * HOUR),
    session("a", NOW + 2 * HOUR),
    session("b", NOW + 26 * HOUR),
]


def known(sessions: list[Session] = READ) -> dict[str, Known]:
    return upcoming(sessions, NOW)


def kinds(outcome) -> list[tuple[ChangeKind, str]]:
    return [(change.kind, change.session.session_id) for change in outcome.changes]


def test_the_first_read_is_the_baseline_and_announces_nothing() -> None:
    outcome = compare(None, READ, True, NOW)
    assert outcome.changes == ()
    assert [k.session_id for k in outcome.state or ()] == ["a", "b"], "ended sessions are not kept"


def test_the_same_read_again_changes_nothing() -> None:
    outcome = compare(known(), READ, True, NOW)
    assert outcome.changes == ()
    assert outcome.state is not None


def test_a_moved_session() -> None:
    moved = [READ[0], replace(READ[1], start=NOW + 50 * HOUR, end=NOW + 51 * HOUR), READ[2]]
    outcome = compare(known(), moved, True, NOW)
    assert kinds(outcome) == [(ChangeKind.MOVED, "a")]
    change = outcome.changes[0]
    assert change.before is not None
    assert change.before.start == NOW + 2 * HOUR
    assert change.session.start == NOW + 50 * HOUR


def test_only_the_end_moved_is_a_move() -> None:
    longer = [READ[0], replace(READ[1], end=NOW + 4 * HOUR), READ[2]]
    assert kinds(compare(known(), longer, True, NOW)) == [(ChangeKind.MOVED, "a")]


def test_a_cancelled_session_is_one_gone_from_a_complete_read() -> None:
    outcome = compare(known(), [READ[0], READ[2]], True, NOW)
    assert kinds(outcome) == [(ChangeKind.CANCELLED, "a")]
    assert [k.session_id for k in outcome.state or ()] == ["b"]


def test_an_added_session() -> None:
    added = [*READ, session("c", NOW + 3 * HOUR)]
    assert kinds(compare(known(), added, True, NOW)) == [(ChangeKind.ADDED, "c")]


def test_trainer_and_room_changes_are_each_a_change() -> None:
    edited = [READ[0], replace(READ[1], trainer="Nora Ghost", room="Room 2"), READ[2]]
    assert kinds(compare(known(), edited, True, NOW)) == [(ChangeKind.TRAINER, "a"), (ChangeKind.ROOM, "a")]


def test_fields_people_do_not_see_in_a_notice_change_nothing() -> None:
    edited = [
        READ[0],
        replace(READ[1], total_learners=12, description="new text", session_type="Online", name="Renamed"),
        READ[2],
    ]
    outcome = compare(known(), edited, True, NOW)
    assert outcome.changes == ()
    assert outcome.state is not None
    assert outcome.state[0].name == "Renamed", "kept, for later notices"


def test_a_read_cut_short_changes_nothing_at_all() -> None:
    outcome = compare(known(), [READ[0]], False, NOW)
    assert (outcome.changes, outcome.state, outcome.awaiting_confirmation) == ((), None, False)
    assert compare(None, READ, False, NOW).state is None, "nor is it a baseline"


def test_every_upcoming_session_gone_at_once_waits_for_a_second_read() -> None:
    empty = [READ[0]]
    first = compare(known(), empty, True, NOW)
    assert (first.changes, first.state, first.awaiting_confirmation) == ((), None, True)
    confirmed = compare(known(), empty, True, NOW, confirming=True)
    assert kinds(confirmed) == [(ChangeKind.CANCELLED, "a"), (ChangeKind.CANCELLED, "b")]


def test_all_replaced_by_new_ids_is_also_everything_vanishing() -> None:
    renumbered = [session("x", NOW + 2 * HOUR), session("y", NOW + 26 * HOUR)]
    assert compare(known(), renumbered, True, NOW).awaiting_confirmation
    confirmed = compare(known(), renumbered, True, NOW, confirming=True)
    assert sorted(kinds(confirmed)) == sorted(
        [
            (ChangeKind.CANCELLED, "a"),
            (ChangeKind.CANCELLED, "b"),
            (ChangeKind.ADDED, "x"),
            (ChangeKind.ADDED, "y"),
        ]
    )


def test_ended_and_started_sessions_are_never_announced() -> None:
    later = NOW + 3 * HOUR  # "a" (NOW+2h..NOW+3h) has ended
    gone = compare(known(), [READ[0], READ[2]], True, later)
    assert gone.changes == ()
    running = NOW + 2.5 * HOUR  # "a" started and runs: gone from the read, not "cancelled"
    assert compare(known(), [READ[0], READ[2]], True, running).changes == ()
    added_in_past = [*READ, session("old", NOW - 2 * HOUR)]
    assert compare(known(), added_in_past, True, NOW).changes == ()


def test_sessions_without_a_readable_date_or_id_are_not_watched() -> None:
    odd = [*READ, session("undated", None), session("", NOW + 5 * HOUR)]
    outcome = compare(known(), odd, True, NOW)
    assert outcome.changes == ()
    assert [k.session_id for k in outcome.state or ()] == ["a", "b"]


def test_a_change_names_its_new_value_so_two_moves_are_two_changes() -> None:
    first = compare(known(), [replace(READ[1], start=NOW + 5 * HOUR, end=NOW + 6 * HOUR)], True, NOW)
    second_read = [replace(READ[1], start=NOW + 7 * HOUR, end=NOW + 8 * HOUR)]
    second = compare({k.session_id: k for k in first.state or ()}, second_read, True, NOW)
    values = [first.changes[0].new_value, second.changes[0].new_value]
    assert values[0] != values[1]


def test_known_sessions_survive_the_store_round_trip() -> None:
    for item in known().values():
        assert Known.from_dict(item.to_dict()) == item
