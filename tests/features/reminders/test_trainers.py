"""Trainers' reminders (BOT_REMIND_TRAINERS=true): Zoho erecno -> e-mail -> Slack user -> a DM.

The clock starts at 05:00 UTC on Tuesday 10 March 2026 (06:00 in Paris). The
Induction module is followed by a channel digest; Henry trains at 09:00 and,
the next day, 10:00; Nora (whose e-mail no Slack user has) at 14:00 and, the
next day, 11:00.
"""

from __future__ import annotations

import logging
from datetime import time, timedelta

import pytest

from tests.clock import FakeClock
from tests.conftest import MakeBot
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org
from tests.planned_day import (
    INDUCTION,
    T0,
    TRAINER_HENRY,
    TRAINER_NOBODY,
    ChannelDigest,
    Plan,
    PlannedSession,
    Ticks,
    day_org,
    raw_session,
    reminder_key,
    session,
    within_one_tick,
)

FOLLOWED = Plan(digests=(ChannelDigest("CTRAINING", (INDUCTION,), time(8)),))
NORA_AGAIN = PlannedSession(
    104, INDUCTION, "Buddy lunch", T0.date() + timedelta(days=1), "11:00", TRAINER_NOBODY
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def org() -> Org:
    org = day_org()
    _, _, module = org.locate(INDUCTION.module_id)
    module.sessions.append(raw_session(NORA_AGAIN))
    return org


async def test_a_trainer_gets_a_dm_fifteen_minutes_before_each_session_of_a_followed_module(
    make_bot: MakeBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    slack.add_user("UHENRY", "henry", email=TRAINER_HENRY.email)
    FOLLOWED.prepare_slack(slack)
    harness = await make_bot(BOT_REMIND_TRAINERS="true")
    await FOLLOWED.subscribe(harness.bot.store)
    henry_sessions = [session(101), session(103)]
    nora_sessions = [session(102), NORA_AGAIN]
    dues = [s.start - timedelta(minutes=15) for s in henry_sessions + nora_sessions]
    ticks = Ticks(clock)

    with caplog.at_level(logging.WARNING, logger="bot.features.reminders.trainers"):
        await ticks.through(harness.bot, until=NORA_AGAIN.start + timedelta(minutes=30), busy=dues)

    for planned in henry_sessions:
        assert within_one_tick(
            ticks.first_sent(reminder_key("UHENRY", planned)), planned.start - timedelta(minutes=15)
        )
    henry = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "UHENRY"]
    assert [m["text"] for m in henry] == [
        "You're training: Company overview starts at 09:00 CET.",
        "You're training: Benefits Q&amp;A starts at 10:00 CET.",
    ]
    assert henry[0]["blocks"][0]["text"]["text"].startswith(
        ":bell: You're training: *Company overview* starts at"
    )
    assert "(Induction)" in henry[0]["blocks"][0]["text"]["text"]
    looked_up = [c.args["email"] for c in slack.calls_to("users.lookupByEmail")]
    assert looked_up.count(TRAINER_HENRY.email) == 1, "a match is remembered"
    employee = [r.query["recordId"] for r in fz.calls("/api/forms/employee")]
    assert sorted(set(employee)) == sorted({TRAINER_HENRY.erecno, TRAINER_NOBODY.erecno})
    assert employee.count(TRAINER_HENRY.erecno) == 1, "e-mails are cached"

    unmatched = [r.getMessage() for r in caplog.records if TRAINER_NOBODY.erecno in r.getMessage()]
    why = "no Slack user with their e-mail (users_not_found)"
    assert unmatched == [f"trainer {TRAINER_NOBODY.erecno} gets no reminders today: {why}"] * 2, (
        "once on each day she trains, not on every tick of her 15 minutes"
    )
    assert looked_up.count(TRAINER_NOBODY.email) == 2, "asked once on each day she trains, not every tick"
    assert {c.args["channel"] for c in slack.calls_to("chat.postMessage")} == {"UHENRY", "CTRAINING"}


async def test_without_the_setting_trainers_get_nothing(
    make_bot: MakeBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    slack.add_user("UHENRY", "henry", email=TRAINER_HENRY.email)
    FOLLOWED.prepare_slack(slack)
    harness = await make_bot()
    await FOLLOWED.subscribe(harness.bot.store)
    ticks = Ticks(clock)

    await ticks.through(
        harness.bot, until=session(101).start + timedelta(minutes=5), busy=[session(101).start]
    )

    assert [c.args["channel"] for c in slack.calls_to("chat.postMessage")] == ["CTRAINING"]
    assert slack.calls_to("users.lookupByEmail") == []
    assert fz.calls("/api/forms/employee") == []
