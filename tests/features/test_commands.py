"""`/sessions` text → what it asks for: windows, digest and remind forms, and sentences for bad input."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.features.commands import (
    EVERY_DAY,
    DigestAdd,
    DigestList,
    DigestOff,
    Help,
    Invalid,
    RemindAdd,
    RemindList,
    RemindOff,
    ShowSessions,
    describe_lead,
    describe_weekdays,
    parse,
    parse_clock,
    parse_lead,
    parse_weekdays,
)

WEEKDAYS = frozenset(range(5))


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", " Help "])
def test_nothing_or_help_is_help(text: str) -> None:
    assert parse(text) == Help()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("onboarding", ShowSessions("onboarding")),
        ("Tools & Systems", ShowSessions("Tools & Systems")),
        ("  GDPR   Basics  ", ShowSessions("GDPR Basics")),
        ("tools week", ShowSessions("tools", "week")),
        ("tools TODAY", ShowSessions("tools", "today")),
        ("gdpr basics tomorrow", ShowSessions("gdpr basics", "tomorrow")),
        ("tools month", ShowSessions("tools", "month")),
        # a window word alone is a module name, not an empty query
        ("week", ShowSessions("week")),
        ("help me", ShowSessions("help me")),
        ("<!channel> @here", ShowSessions("<!channel> @here")),
    ],
)
def test_show_sessions_with_windows(text: str, expected: ShowSessions) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest list", DigestList()),
        ("digest LIST", DigestList()),
        ("digest off tools", DigestOff("tools")),
        ("digest off Tools & Systems", DigestOff("Tools & Systems")),
        ("digest tools", DigestAdd("tools")),
        ("digest tools at 9am", DigestAdd("tools", time(9, 0))),
        ("digest tools at 5:30pm", DigestAdd("tools", time(17, 30))),
        ("digest tools at 12am", DigestAdd("tools", time(0, 0))),
        ("digest GDPR Basics at 08:30 mon-fri", DigestAdd("GDPR Basics", time(8, 30), WEEKDAYS)),
        ("digest tools at 8 weekends", DigestAdd("tools", time(8, 0), frozenset({5, 6}))),
        ("digest tools at 8 mon,wed,fri", DigestAdd("tools", time(8, 0), frozenset({0, 2, 4}))),
        ("digest tools at 8 sat sun", DigestAdd("tools", time(8, 0), frozenset({5, 6}))),
        ("digest tools mon,wed", DigestAdd("tools", weekdays=frozenset({0, 2}))),
        ("digest tools weekdays", DigestAdd("tools", weekdays=WEEKDAYS)),
        ("digest tools daily", DigestAdd("tools", weekdays=EVERY_DAY)),
        ("digest tools friday", DigestAdd("tools", weekdays=frozenset({4}))),
        # "at" inside a module name is kept when a later "at" gives the time
        ("digest Safety at work at 10:00", DigestAdd("Safety at work", time(10, 0))),
        # words that merely start like a day are part of the module name
        ("digest Security Monitoring", DigestAdd("Security Monitoring")),
        ("digest Customer Satisfaction", DigestAdd("Customer Satisfaction")),
        ("digest Meet friends", DigestAdd("Meet friends")),
        # "at" that does not introduce a time belongs to the name
        ("digest Safety at work", DigestAdd("Safety at work")),
        ("digest At Home Training", DigestAdd("At Home Training")),
    ],
)
def test_digest_forms(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("remind list", RemindList()),
        ("remind off", RemindOff()),
        ("remind off tools", RemindOff("tools")),
        ("remind tools", RemindAdd("tools", timedelta(minutes=15))),
        ("remind tools 1h", RemindAdd("tools", timedelta(hours=1))),
        ("remind tools 90m", RemindAdd("tools", timedelta(minutes=90))),
        ("remind Tools & Systems 2days", RemindAdd("Tools & Systems", timedelta(days=2))),
        ("remind tools 7d", RemindAdd("tools", timedelta(days=7))),
    ],
)
def test_remind_forms(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("digest", "Which module should the digest follow?"),
        ("digest off", "Which digest should stop?"),
        ("digest tools at", "At what time?"),
        ("digest tools at 25:00", "“25:00” is not a time of day"),
        ("digest tools at 13pm", "“13pm” is not a time of day"),
        ("digest tools at 8 funday", "“funday” is not a set of weekdays"),
        ("digest at 9am", "Which module should the digest follow?"),
        ("digest at 9am mon-fri", "Which module should the digest follow?"),
        ("remind", "Which module should I remind you of?"),
        ("remind 1h", "Which module should I remind you of?"),
        ("remind tools 8d", "1 minute to 7 days before a session, not 8d"),
        ("remind tools 0m", "1 minute to 7 days before a session, not 0m"),
    ],
)
def test_invalid_input_says_how_to_say_it(text: str, says: str) -> None:
    parsed = parse(text)
    assert isinstance(parsed, Invalid)
    assert says in parsed.message
    assert "Try `/sessions" in parsed.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:30", time(8, 30)),
        ("8", time(8, 0)),
        ("9am", time(9, 0)),
        ("5:30PM", time(17, 30)),
        ("12pm", time(12, 0)),
        ("12am", time(0, 0)),
        ("23:59", time(23, 59)),
        ("24:00", None),
        ("0am", None),
        ("9:5", None),
        ("noon", None),
    ],
)
def test_parse_clock(text: str, expected: time | None) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1 h", timedelta(hours=1)),
        ("2hrs", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("7days", timedelta(days=7)),
        ("0m", None),
        ("8d", None),
        ("soon", None),
    ],
)
def test_parse_lead(text: str, expected: timedelta | None) -> None:
    assert parse_lead(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", WEEKDAYS),
        ("Monday-Friday", WEEKDAYS),
        ("fri-mon", frozenset({4, 5, 6, 0})),
        ("mon,wed,fri", frozenset({0, 2, 4})),
        ("tues thurs", frozenset({1, 3})),
        ("weekends", frozenset({5, 6})),
        ("daily", EVERY_DAY),
        ("mon-", None),
        ("monitoring", None),
        ("sunrise", None),
        ("", None),
    ],
)
def test_parse_weekdays(text: str, expected: frozenset[int] | None) -> None:
    assert parse_weekdays(text) == expected


def test_descriptions_read_naturally() -> None:
    assert describe_weekdays(EVERY_DAY) == "every day"
    assert describe_weekdays(WEEKDAYS) == "Monday to Friday"
    assert describe_weekdays(frozenset({0, 2})) == "Mon, Wed"
    assert describe_lead(timedelta(minutes=15)) == "15 minutes"
    assert describe_lead(timedelta(hours=1)) == "1 hour"
    assert describe_lead(timedelta(days=2)) == "2 days"
    assert describe_lead(timedelta(minutes=90)) == "90 minutes"
