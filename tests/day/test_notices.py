"""Change notices against both fakes: what a channel and a person are told when a followed session
moves, is cancelled or is added, and when nothing may be said. On SQLite; a restart and two
instances also on PostgreSQL.

The clock starts at 05:00 UTC on Tuesday 10 March 2026 (06:00 in Paris, the org's zone);
`#training` has a digest of Induction and Site Safety (at 08:00), and Ana a reminder of every
Induction session. The first tick reads Zoho (the baseline); each later read comes when the
data is older than the freshness setting, so `read_again` moves the clock past it and ticks.
"""

from __future__ import annotations

import asyncio
import re
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Bot
from bot.features.outbox import SendReport
from bot.sessions.urgency import Need, Urgency
from tests.clock import FakeClock
from tests.conftest import StartBot
from tests.fakes.signing import JSON_CONTENT_TYPE, event_body, signed_headers
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import make_session, zoho_id
from tests.planned_day import (
    INDUCTION,
    MINUTE,
    PARIS,
    SAFETY,
    TRAINER_HENRY,
    ChannelDigest,
    Plan,
    Sub,
    Ticks,
    session,
)
from tests.slack.harness import SECRET, SlackBot, all_text, assert_within_slack_limits

JSON = dict[str, Any]
PLAN = Plan(
    subs=(Sub("UANA", INDUCTION, 15 * MINUTE),),
    digests=(ChannelDigest("CTRAINING", (INDUCTION, SAFETY), time(8)),),
)
FRESHNESS = timedelta(minutes=10)

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def ticks(clock: FakeClock) -> Ticks:
    return Ticks(clock)


async def following(start_bot: StartBot, slack: FakeSlack, **env: str) -> SlackBot:
    PLAN.prepare_slack(slack)
    harness = await start_bot(**env)
    await PLAN.subscribe(harness.bot.store)
    return harness


async def read_again(ticks: Ticks, *bots: Bot) -> None:
    """Past the freshness setting, so the planner reads every followed module again, then a tick."""
    ticks.clock.advance(FRESHNESS.total_seconds() + 1)
    await ticks.tick(*bots)


def notices(slack: FakeSlack, target: str) -> list[JSON]:
    """Change notices Slack accepted for a channel or a person, in order."""
    return [
        call.args
        for call in slack.calls_to("chat.postMessage", ok=True)
        if call.args["channel"] == target and "to training sessions (" in call.args.get("text", "")
    ]


def token(moment: Any) -> str:
    return f"<!date^{int(moment.timestamp())}^"


def notice_keys(ticks: Ticks) -> list[str]:
    return sorted(key for key in ticks.sent if key.startswith("notice:"))


# --------------------------------------------------------------------------- each kind of change


async def test_a_moved_session_is_told_to_the_channel_and_to_the_person_reminded(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    meet = session(102)  # Meet the team, 14:00 in Paris, moves to Thursday 16:00 in Room 2
    fz.update_session(
        meet.session_id,
        sessionStartDate="12-03-2026",
        sessionStartTime="4:00 PM",
        sessionEndTime="5:00 PM",
        sessionRoom="Room 2",
    )
    moved = meet.start.replace(day=12) + timedelta(hours=2)

    await read_again(ticks, bot)
    await read_again(ticks, bot)

    (channel,) = notices(slack, "CTRAINING")
    assert_within_slack_limits(channel)
    text = all_text(channel)
    assert "*Induction*" in text, "grouped under its module"
    assert re.search(
        rf"\*Meet the team\* moved: ~{re.escape(token(meet.start))}[^~]*~ → {re.escape(token(moved))}", text
    )
    assert "Room 2" in text
    assert channel["text"] == "2 changes to training sessions (Induction)."  # the move and the room
    (dm,) = notices(slack, "UANA")
    assert_within_slack_limits(dm)
    assert "*Meet the team* moved" in all_text(dm)
    assert "Your reminder now follows the new time." in all_text(dm)
    assert len(notice_keys(ticks)) == 3, "channel: move and room; Ana: the move"


async def test_a_cancelled_session(start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    overview = session(101)
    fz.remove_session(overview.session_id)

    await read_again(ticks, bot)

    (channel,) = notices(slack, "CTRAINING")
    assert f"*Company overview* on {token(overview.start)}" in all_text(channel)
    assert "is cancelled" in all_text(channel)
    (dm,) = notices(slack, "UANA")
    assert "is cancelled" in all_text(dm)
    assert "No reminder will come for a cancelled session." in all_text(dm)


async def test_an_added_session_is_told_to_the_channel_only(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks, clock: FakeClock
) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    start = clock.now().astimezone(PARIS).replace(tzinfo=None, hour=17, minute=0) + timedelta(days=1)
    fz.add_session(
        SAFETY.course_id,
        SAFETY.batch_id,
        SAFETY.module_id,
        make_session(zoho_id(409999), SAFETY.module_id, "Ladder <!channel> check", start, sessionRoom="Yard"),
    )

    await read_again(ticks, bot)

    (channel,) = notices(slack, "CTRAINING")
    text = all_text(channel)
    assert "*Site Safety*" in text
    assert "New: *Ladder &lt;!channel&gt; check* on <!date^" in text, "Zoho's text escaped"
    assert "<!channel>" not in text + channel["text"]
    assert "Yard" in text
    assert notices(slack, "UANA") == [], "a new session changes no one's reminder"


async def test_trainer_and_room_changes(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    fz.update_session(session(103).session_id, sessionTrainer="Nora Ghost", sessionRoom="Room 9")

    await read_again(ticks, bot)

    (channel,) = notices(slack, "CTRAINING")
    text = all_text(channel)
    assert "*Benefits Q&amp;A* on <!date^" in text
    assert f"trainer now Nora Ghost (was {TRAINER_HENRY.display_name})" in text
    assert "room now Room 9" in text
    assert notices(slack, "UANA") == [], "the time did not change: the reminder stands"


async def test_a_trainer_hears_of_changes_to_their_own_sessions(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    slack.add_user("UHENRY", "henry", email=TRAINER_HENRY.email, tz="Europe/Paris")
    bot = (await following(start_bot, slack, BOT_REMIND_TRAINERS="true")).bot
    await ticks.tick(bot)
    fz.update_session(session(103).session_id, sessionRoom="Room 9")

    await read_again(ticks, bot)

    (dm,) = notices(slack, "UHENRY")
    assert "A session you train has changed" in all_text(dm)
    assert "room now Room 9" in all_text(dm)
    assert "reminder" not in all_text(dm), "a trainer subscribed to nothing"


# --------------------------------------------------------------------------- when nothing may be said


async def test_the_first_read_after_following_is_the_baseline(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    bot = (await following(start_bot, slack)).bot
    fz.remove_session(session(101).session_id)  # changed before the bot ever read it

    await ticks.tick(bot)
    await read_again(ticks, bot)
    assert notice_keys(ticks) == []

    fz.remove_session(session(102).session_id)
    await read_again(ticks, bot)
    assert len(notices(slack, "CTRAINING")) == 1, "the baseline was taken: a later change is told"


async def test_a_failed_read_says_nothing(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    fz.fail_next(50, 503)  # every call of the next read fails, retries included

    await read_again(ticks, bot)

    assert any(r.status == 503 for r in fz.requests), "the read was attempted"
    assert notice_keys(ticks) == []


async def test_a_read_cut_short_infers_no_cancellation(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    fz.cut_at = 2  # Zoho says more follow, then sends nothing: most sessions are missing

    await read_again(ticks, bot)
    fz.cut_at = None
    await read_again(ticks, bot)

    assert notice_keys(ticks) == []
    assert slack.calls_to("chat.postMessage") == []


async def test_everything_vanishing_at_once_is_confirmed_by_a_second_read(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    safety = [session(n) for n in (201, 202, 203)]
    removed = [fz.remove_session(s.session_id) for s in safety]

    await read_again(ticks, bot)
    assert notice_keys(ticks) == [], "one read losing every session is not believed yet"

    await read_again(ticks, bot)
    (channel,) = notices(slack, "CTRAINING")
    assert all_text(channel).count("is cancelled") == 3
    assert removed


async def test_sessions_vanishing_and_coming_back_say_nothing(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    safety = [session(n) for n in (201, 202, 203)]
    removed = [fz.remove_session(s.session_id) for s in safety]
    await read_again(ticks, bot)

    for raw in removed:
        fz.add_session(SAFETY.course_id, SAFETY.batch_id, SAFETY.module_id, raw)
    await read_again(ticks, bot)
    await read_again(ticks, bot)

    assert notice_keys(ticks) == []


async def test_notices_off_for_a_channel(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    harness = await following(start_bot, slack)
    bot = harness.bot
    await ticks.tick(bot)
    off = await harness.command("digest notices off", channel="CTRAINING")
    assert "Change notices are off" in off.body["text"]
    fz.remove_session(session(101).session_id)

    await read_again(ticks, bot)
    assert notices(slack, "CTRAINING") == []
    assert len(notices(slack, "UANA")) == 1, "a person's notice does not depend on the channel's"

    listed = await harness.command("digest list", channel="CTRAINING")
    assert "Change notices are off" in listed.body["text"]
    on = await harness.command("digest notices on", channel="CTRAINING")
    assert "Change notices are on" in on.body["text"]
    fz.remove_session(session(102).session_id)
    await read_again(ticks, bot)
    (channel,) = notices(slack, "CTRAINING")
    assert "*Meet the team*" in all_text(channel)
    assert "Company overview" not in all_text(channel), "what happened while off is not told later"


# --------------------------------------------------------------------------- once, whatever happens


async def test_a_session_moved_twice_gets_two_notices(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    meet = session(102)
    fz.update_session(meet.session_id, sessionStartTime="3:00 PM", sessionEndTime="4:00 PM")
    await read_again(ticks, bot)
    fz.update_session(meet.session_id, sessionStartTime="2:00 PM", sessionEndTime="3:00 PM")  # back again
    await read_again(ticks, bot)
    await read_again(ticks, bot)

    first, second = notices(slack, "CTRAINING")
    three = meet.start + timedelta(hours=1)
    assert f"~{token(meet.start)}" in all_text(first)
    assert f"→ {token(three)}" in all_text(first)
    assert f"~{token(three)}" in all_text(second)
    assert f"→ {token(meet.start)}" in all_text(second)
    assert len(notices(slack, "UANA")) == 2


@pytest.mark.backends("sqlite", "postgres")
async def test_a_restart_and_a_lost_cache_repeat_nothing(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks, tmp_path: Path
) -> None:
    first = (await following(start_bot, slack)).bot
    await ticks.tick(first)
    fz.remove_session(session(101).session_id)
    await read_again(ticks, first)
    assert len(notices(slack, "CTRAINING")) == 1
    await first.aclose()

    again = (await start_bot()).bot  # same data folder and database
    await read_again(ticks, again)
    assert ticks.leaders[-1][1] == [again.scheduler.holder], "the killed one's lease lapsed"
    elsewhere = (await start_bot(BOT_DATA_DIR=str(tmp_path / "empty-cache"))).bot
    ticks.clock.advance(120)  # the restarted one's lease lapses too
    await read_again(ticks, elsewhere)
    assert ticks.leaders[-1][1] == [elsewhere.scheduler.holder]
    assert fz.calls("/api/v1/courses"), "it read Zoho afresh"

    assert len(notices(slack, "CTRAINING")) == 1
    assert len(notices(slack, "UANA")) == 1


@pytest.mark.backends("sqlite", "postgres")
async def test_two_instances_sending_at_once_tell_each_change_once(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks, tmp_path: Path
) -> None:
    """Past the leader lease: both instances find and send the same changes at the same moment."""
    a = (await following(start_bot, slack)).bot
    b = (await start_bot(BOT_DATA_DIR=str(tmp_path / "data-b"))).bot
    await ticks.tick(a)
    await ticks.tick(b)  # not the leader: reads nothing
    await b.core.sessions.refresh(list(PLAN.digests[0].modules), need_now(b))
    fz.remove_session(session(101).session_id)
    ticks.clock.advance(FRESHNESS.total_seconds() + 1)
    for bot in (a, b):
        await bot.core.sessions.refresh(list(PLAN.digests[0].modules), need_now(bot))

    digests, reminders = await a.store.digests(), await a.store.reminders()
    now = ticks.clock.now()
    reports = [SendReport(), SendReport()]
    await asyncio.gather(
        a.notices.send(digests, reminders, now, reports[0]),
        b.notices.send(digests, reminders, now, reports[1]),
    )

    assert len(notices(slack, "CTRAINING")) == 1
    assert len(notices(slack, "UANA")) == 1
    sent = reports[0].sent + reports[1].sent
    assert len(sent) == len(set(sent)) == 2, "each (target, change) settled by one instance"


def need_now(bot: Bot) -> Need:
    return Need(Urgency.PERSON_WAITING, bot.core.clock.time() + 30)


# --------------------------------------------------------------------------- Slack's answers


async def test_a_channel_that_refuses_for_good_is_paused_and_a_passing_refusal_retried(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    bot = (await following(start_bot, slack)).bot
    await ticks.tick(bot)
    slack.error_next("chat.postMessage", "internal_error")  # passing: the channel's notice, retried
    fz.remove_session(session(101).session_id)
    await read_again(ticks, bot)
    await ticks.tick(bot)
    assert len(notices(slack, "CTRAINING")) == 1
    assert len(notices(slack, "UANA")) == 1

    slack.error_next("chat.postMessage", "not_in_channel")
    fz.remove_session(session(102).session_id)
    await read_again(ticks, bot)
    (digest, *_) = [d for d in await bot.store.digests() if d.channel_id == "CTRAINING"]
    assert digest.paused_reason is not None
    assert "invite" in digest.paused_reason


async def test_app_home_lists_the_latest_changes_to_reminded_sessions(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, ticks: Ticks
) -> None:
    harness = await following(start_bot, slack)
    bot = harness.bot
    await ticks.tick(bot)
    fz.remove_session(session(101).session_id)
    fz.update_session(session(201).session_id, sessionRoom="Hall")  # Site Safety: Ana has no reminder
    await read_again(ticks, bot)

    body = event_body({"type": "app_home_opened", "user": "UANA", "channel": "DUANA", "tab": "home"})
    sent = await harness.post(body, signed_headers(body, SECRET, content_type=JSON_CONTENT_TYPE))
    assert sent.status == 200
    (published,) = await slack.wait_for_calls_async("views.publish", 1)
    text = all_text(published.args["view"])
    assert "*Recent changes*" in text
    assert "*Company overview* on <!date^" in text
    assert "is cancelled (Induction)" in text
    assert "Hall" not in text
