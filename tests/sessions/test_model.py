"""Parsing Zoho's session records: dates in the org's format and zone, lenient everywhere else."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from bot.sessions.model import Session, parse_session, parse_time
from tests.fakes.zoho_data import make_session

UTC_ZONE = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
DEFAULT = "%d-%m-%Y"
_ids = count(1)


def raw(date: str, start: str = "11:00 AM", end: str = "1:00 PM", **fields: object) -> dict:
    """A record shaped like Zoho's sample, with a fresh id so "logged once" is per test."""
    return {
        "sessionId": f"model-test-{next(_ids)}",
        "moduleId": "219225000000645219",
        "sessionName": "Session One",
        "sessionStartDate": date,
        "sessionStartTime": start,
        "sessionEndTime": end,
        **fields,
    }


def test_default_format_is_day_month_year() -> None:
    session = parse_session(raw("11-01-2022"), UTC_ZONE, DEFAULT)
    assert session.start == datetime(2022, 1, 11, 11, 0, tzinfo=UTC_ZONE)
    assert session.end == datetime(2022, 1, 11, 13, 0, tzinfo=UTC_ZONE)


def test_month_name_dates() -> None:
    session = parse_session(raw("22-Dec-2021", "9:00 AM", "10:30 AM"), UTC_ZONE, DEFAULT)
    assert session.start == datetime(2021, 12, 22, 9, 0, tzinfo=UTC_ZONE)
    assert session.end == datetime(2021, 12, 22, 10, 30, tzinfo=UTC_ZONE)


def test_custom_date_format_month_first() -> None:
    session = parse_session(raw("01/11/2022"), UTC_ZONE, "%m/%d/%Y")
    assert session.start is not None
    assert session.start.date() == datetime(2022, 1, 11).date()


def test_fallback_keeps_the_configured_day_month_order() -> None:
    """A date not in the exact format is still read in the format's order (here 3 Feb, not 2 Mar)."""
    assert parse_session(raw("03.02.2022"), UTC_ZONE, DEFAULT).start.date() == datetime(2022, 2, 3).date()
    assert parse_session(raw("02.03.2022"), UTC_ZONE, "%m/%d/%Y").start.date() == datetime(2022, 2, 3).date()


def test_end_before_start_is_the_next_day() -> None:
    session = parse_session(raw("15-03-2025", "10:30 PM", "12:30 AM"), UTC_ZONE, DEFAULT)
    assert session.start == datetime(2025, 3, 15, 22, 30, tzinfo=UTC_ZONE)
    assert session.end == datetime(2025, 3, 16, 0, 30, tzinfo=UTC_ZONE)
    assert session.end - session.start == timedelta(hours=2)


def test_times_are_in_the_org_zone() -> None:
    session = parse_session(raw("10-03-2025", "9:00 AM", "10:00 AM"), PARIS, DEFAULT)
    assert session.start.tzinfo == PARIS
    assert session.start.astimezone(UTC) == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


def test_daylight_saving_change() -> None:
    """Paris moves from UTC+1 to UTC+2 on 30 March 2025: the same wall clock is an hour earlier in UTC."""
    before = parse_session(raw("29-03-2025", "10:00 AM", "11:00 AM"), PARIS, DEFAULT)
    after = parse_session(raw("30-03-2025", "10:00 AM", "11:00 AM"), PARIS, DEFAULT)
    assert before.start.astimezone(UTC) == datetime(2025, 3, 29, 9, 0, tzinfo=UTC)
    assert after.start.astimezone(UTC) == datetime(2025, 3, 30, 8, 0, tzinfo=UTC)
    across = parse_session(raw("30-03-2025", "1:00 AM", "4:00 AM"), PARIS, DEFAULT)
    assert across.end.astimezone(UTC) - across.start.astimezone(UTC) == timedelta(hours=2)


def test_unparseable_date_keeps_raw_text_sorts_last_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = raw("sometime soon", "11:00 AM", "1:00 PM")
    with caplog.at_level(logging.WARNING, logger="bot.sessions.model"):
        bad = parse_session(record, UTC_ZONE, DEFAULT)
        parse_session(record, UTC_ZONE, DEFAULT)
        parse_session(dict(record), UTC_ZONE, DEFAULT)
    assert bad.start is None
    assert bad.end is None
    assert bad.raw_date == "sometime soon"
    assert bad.when_text == "sometime soon 11:00 AM–1:00 PM"
    warnings = [r for r in caplog.records if record["sessionId"] in r.getMessage()]
    assert len(warnings) == 1
    assert "sometime soon" in warnings[0].getMessage()

    good_late = parse_session(raw("31-12-2099"), UTC_ZONE, DEFAULT)
    good_early = parse_session(raw("01-01-2000"), UTC_ZONE, DEFAULT)
    ordered = sorted([bad, good_late, good_early], key=Session.sort_key)
    assert ordered == [good_early, good_late, bad]


def test_unparseable_time_keeps_raw_text() -> None:
    session = parse_session(raw("11-01-2022", "half past", "later"), UTC_ZONE, DEFAULT)
    assert session.start is None
    assert session.raw_start_time == "half past"


def test_missing_end_time_keeps_the_start() -> None:
    session = parse_session(raw("11-01-2022", "11:00 AM", ""), UTC_ZONE, DEFAULT)
    assert session.start == datetime(2022, 1, 11, 11, 0, tzinfo=UTC_ZONE)
    assert session.end is None
    assert session.is_over(datetime(2022, 1, 11, 11, 0, tzinfo=UTC_ZONE))


def test_every_field_is_kept_typed() -> None:
    record = make_session(
        "219225000000645227",
        "219225000000645219",
        "Session One",
        datetime(2022, 1, 11, 11, 0),
        minutes=120,
        description="Description for Session",
        sessionRoom="Room One",
        roomId="219225000000645249",
        sessionTrainer="Henry",
        trainerErecno="219225000000036453",
        totalLearnersCount="12",
        presentLeanersCount=7,
        isSessionCompleted="true",
        isLocked="false",
        lockUntil="",
        gradeCategoryName="Core",
        gradeCategoryId="42",
        resources=[{"name": "slides.pdf"}],
        canUserDelete="True",
        canUserEdit=False,
    )
    session = parse_session(record, UTC_ZONE, DEFAULT)
    assert session.session_id == "219225000000645227"
    assert session.module_id == "219225000000645219"
    assert session.name == "Session One"
    assert session.description == "Description for Session"
    assert session.session_type == "Classroom"
    assert session.room == "Room One"
    assert session.trainer == "Henry"
    assert session.trainer_erecno == "219225000000036453"
    assert session.total_learners == 12
    assert session.completed is True
    assert session.locked is False
    assert (session.raw_date, session.raw_start_time, session.raw_end_time) == (
        "11-01-2022",
        "11:00 AM",
        "1:00 PM",
    )


def test_missing_fields_have_safe_defaults() -> None:
    session = parse_session({"sessionStartDate": "11-01-2022"}, UTC_ZONE, DEFAULT)
    assert session.name == "Untitled session"
    assert session.total_learners == 0
    assert session.completed is False
    assert session.start is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11:00 AM", time(11, 0)),
        ("11:00AM", time(11, 0)),
        ("1:00 pm", time(13, 0)),
        ("11:30 a.m.", time(11, 30)),
        ("12:15 AM", time(0, 15)),
        ("13:30", time(13, 30)),
        ("9:05:00 PM", time(21, 5)),
    ],
)
def test_wall_clock_spellings(text: str, expected: time) -> None:
    assert parse_time(text) == expected


def test_unreadable_wall_clock_is_none() -> None:
    assert parse_time("half past ten") is None
