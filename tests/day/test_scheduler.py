"""The scheduler against both fakes: restarts, two instances, moved and cancelled sessions, downtime
and catch-up, and each kind of answer Slack gives. On SQLite; restarts, two instances and the lease
also on PostgreSQL (what only it can show), and so is pausing the subscriptions of a module Zoho
drops (which no store contract test covers).

The clock starts at 05:00 UTC on Tuesday 10 March 2026 (06:00 in Paris, the org's
zone); sessions are those of `tests/planned_day.py::SESSIONS`. Time moves only
through the FakeClock; `scheduler.tick()` is called directly.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from bot.app import Bot
from bot.features.digests.send import FRESH_WITHIN
from bot.features.outbox import MAX_ATTEMPTS
from bot.scheduler import LEASE_TTL
from bot.sessions.modules import ModuleRef
from bot.sessions.service import GONE_SECONDS
from bot.slack.errors import MODULE_GONE_PAUSE
from tests.clock import FakeClock
from tests.conftest import StartBot
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import make_session, zoho_id
from tests.planned_day import (
    DAY,
    DAY_PLAN,
    INDUCTION,
    MINUTE,
    PARIS,
    SAFETY,
    T0,
    TICK,
    TOOLS,
    WEEKEND,
    ChannelDigest,
    Plan,
    Sub,
    Ticks,
    digest_key,
    module_ref,
    posts_by_target,
    reminder_key,
    session,
    tally,
    tick_plan,
    within_one_tick,
)
from tests.slack.harness import SlackBot

pytestmark = pytest.mark.backends("sqlite")

END = T0 + timedelta(hours=24)


def paris(hhmm: str, day: int = 0) -> datetime:
    """A Paris wall-clock moment on 10 March 2026 (+ `day` days)."""
    return datetime.combine(DAY + timedelta(days=day), time.fromisoformat(hhmm), tzinfo=PARIS)


async def started(start_bot: StartBot, slack: FakeSlack, plan: Plan, **env: str) -> SlackBot:
    plan.prepare_slack(slack)
    harness = await start_bot(**env)
    await plan.subscribe(harness.bot.store)
    return harness


async def stop_gracefully(bot: Bot) -> None:
    """What `serve` does on SIGTERM: the scheduler loop ends (releasing its lease), then everything closes."""
    stop = asyncio.Event()
    stop.set()
    await bot.scheduler.run(stop)
    await bot.aclose()


def dms(fake: FakeSlack, user: str) -> list[str]:
    return [c.args["text"] for c in fake.calls_to("chat.postMessage", ok=True) if c.args["channel"] == user]


def channel_calls(fake: FakeSlack, channel: str) -> list[str | None]:
    """Every chat.postMessage to the channel: None when accepted, else Slack's error."""
    return [c.error for c in fake.calls_to("chat.postMessage") if c.args["channel"] == channel]


# --------------------------------------------------------------------------- restarts and leaders


@pytest.mark.backends("sqlite", "postgres")
@pytest.mark.parametrize("graceful", [True, False], ids=["stopped", "killed"])
async def test_a_restart_mid_day_sends_nothing_twice(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock, graceful: bool
) -> None:
    first = await started(start_bot, slack, DAY_PLAN)
    digests, reminders = DAY_PLAN.expected_digests(T0, END), DAY_PLAN.expected_reminders(T0, END)
    restart = T0 + timedelta(hours=7)  # 13:00 in Paris, after four sends and before the rest
    lapsed = restart + LEASE_TTL  # by then the killed bot's lease has lapsed
    dues = [restart, lapsed] + [due for _, due in [*digests.values(), *reminders.values()]]
    plan = tick_plan(T0, END, dues)
    ticks = Ticks(clock)

    await ticks.run_at(first.bot, moments=[m for m in plan if m < restart])
    if graceful:
        await stop_gracefully(first.bot)
    else:
        await first.bot.aclose()  # killed: its lease stays until it lapses
    second = await start_bot()  # same data folder, same database
    await ticks.run_at(second.bot, moments=[m for m in plan if m >= restart])

    channel_posts, dm_posts = posts_by_target(slack)
    digest_tally = tally(digests, ticks, "digest:", channel_posts)
    reminder_tally = tally(reminders, ticks, "remind:", dm_posts)
    assert (digest_tally.sent, digest_tally.duplicated, digest_tally.missed) == (3, 0, 0)
    assert (reminder_tally.sent, reminder_tally.duplicated, reminder_tally.missed) == (11, 0, 0)
    assert len([key for key, times in ticks.sent.items() if times[0] < restart]) >= 4
    assert len([key for key, times in ticks.sent.items() if times[0] >= restart]) >= 4
    first_led = next(moment for moment, leaders in ticks.leaders if leaders == [second.bot.scheduler.holder])
    if graceful:
        assert first_led == restart, "the stopped bot released its lease: the new one leads at once"
    else:
        last_led = restart - timedelta(seconds=TICK)
        assert LEASE_TTL < first_led - last_led <= LEASE_TTL + timedelta(seconds=TICK)


@pytest.mark.backends("sqlite", "postgres")
async def test_two_schedulers_have_one_leader_per_tick_and_the_survivor_takes_over_a_crash(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock, tmp_path: Path
) -> None:
    a = (await started(start_bot, slack, DAY_PLAN)).bot
    b = (await start_bot(BOT_DATA_DIR=str(tmp_path / "data-b"))).bot  # another machine, same database
    assert a.scheduler.holder != b.scheduler.holder
    digests, reminders = DAY_PLAN.expected_digests(T0, END), DAY_PLAN.expected_reminders(T0, END)
    crash = T0 + timedelta(hours=7)
    lapsed = crash + LEASE_TTL  # by then the crashed leader's lease has lapsed
    dues = [crash, lapsed] + [due for _, due in [*digests.values(), *reminders.values()]]
    ticks = Ticks(clock)

    leader_at_crash = None
    for n, moment in enumerate(tick_plan(T0, END, dues)):
        if moment >= crash and leader_at_crash is None:
            leader_at_crash = next(bot for bot in (a, b) if [bot.scheduler.holder] == ticks.leaders[-1][1])
        alive = [a, b] if leader_at_crash is None else [bot for bot in (a, b) if bot is not leader_at_crash]
        await ticks.run_at(*(alive if n % 2 == 0 else alive[::-1]), moments=[moment])

    assert leader_at_crash is not None
    survivor = b if leader_at_crash is a else a
    crashed_last = max(m for m, led in ticks.leaders if led == [leader_at_crash.scheduler.holder])
    took_over = min(m for m, led in ticks.leaders if led == [survivor.scheduler.holder] and m > crashed_last)
    assert LEASE_TTL < took_over - crashed_last <= LEASE_TTL + timedelta(seconds=TICK)
    assert all(led == [] for m, led in ticks.leaders if crashed_last < m < took_over), (
        "the lease waits its TTL"
    )
    assert all(len(led) == 1 for m, led in ticks.leaders if m <= crashed_last or m >= took_over), (
        "exactly one leader in every other tick"
    )
    last_led: dict[str, datetime] = {}
    for (before, was), (moment, now) in zip(ticks.leaders, ticks.leaders[1:], strict=False):
        last_led.update(dict.fromkeys(was, before))
        for holder in set(now) - set(was):
            others = [t for h, t in last_led.items() if h != holder]
            assert all(moment - t > LEASE_TTL for t in others), f"{holder} led at {moment} over a live lease"
    channel_posts, dm_posts = posts_by_target(slack)
    for expected, prefix, posts in ((digests, "digest:", channel_posts), (reminders, "remind:", dm_posts)):
        result = tally(expected, ticks, prefix, posts)
        assert (result.duplicated, result.missed, result.unexpected) == (0, 0, []), prefix


# --------------------------------------------------------------------------- sessions that change


REMIND_INDUCTION = Plan(subs=(Sub("UANA", INDUCTION, 15 * MINUTE),))


async def test_a_moved_session_is_reminded_at_its_new_time_only(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    bot = (await started(start_bot, slack, REMIND_INDUCTION)).bot
    ticks = Ticks(clock)
    await ticks.tick(bot)  # reads Zoho at T0
    meet = session(102)  # 14:00 in Paris; moved to 16:00 an hour later
    clock.advance(3600)
    fz.update_session(meet.session_id, sessionStartTime="4:00 PM", sessionEndTime="5:00 PM")
    moved = paris("16:00")
    old_due, new_due = meet.start - 15 * MINUTE, moved - 15 * MINUTE
    planned = [due for _, due in REMIND_INDUCTION.expected_reminders(clock.now(), END).values()]
    assert old_due in planned

    await ticks.run_at(bot, moments=tick_plan(clock.now(), END, [*planned, new_due]))

    assert ticks.first_sent(reminder_key("UANA", meet)) is None
    assert within_one_tick(ticks.first_sent(reminder_key("UANA", meet, moved)), new_due)
    texts = dms(slack, "UANA")
    assert texts == [
        "1 change to training sessions (Induction).",  # the move, told at once (tests/day/test_notices.py)
        "Reminder: Company overview starts at 09:00 CET.",
        "Reminder: Meet the team starts at 16:00 CET.",
    ], "nothing at 13:45 for the old time"


async def test_a_cancelled_session_is_not_reminded(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    bot = (await started(start_bot, slack, REMIND_INDUCTION)).bot
    ticks = Ticks(clock)
    await ticks.tick(bot)
    fz.remove_session(session(101).session_id)  # 09:00 in Paris, cancelled at 06:00
    dues = [session(101).start - 15 * MINUTE, session(102).start - 15 * MINUTE]

    await ticks.run_at(bot, moments=tick_plan(clock.now() + timedelta(seconds=TICK), END, dues))

    assert ticks.first_sent(reminder_key("UANA", session(101))) is None
    assert within_one_tick(ticks.first_sent(reminder_key("UANA", session(102))), dues[1])
    assert dms(slack, "UANA") == [
        "1 change to training sessions (Induction).",  # the cancellation, told at once
        "Reminder: Meet the team starts at 14:00 CET.",
    ]


@pytest.mark.parametrize(
    ("back", "reminded"),
    [
        pytest.param("08:50", True, id="back-after-due-before-start"),
        pytest.param("09:10", False, id="back-after-start"),
    ],
)
async def test_a_bot_down_at_reminder_time_reminds_only_if_the_session_has_not_started(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock, back: str, reminded: bool
) -> None:
    bot = (await started(start_bot, slack, REMIND_INDUCTION)).bot
    overview = session(101)  # 09:00 in Paris, reminder due at 08:45
    ticks = Ticks(clock)
    await ticks.through(bot, until=paris("08:30"))

    clock.set(paris(back))  # down in between: no tick
    await ticks.run(bot, until=paris(back) + timedelta(minutes=15))

    sent = ticks.first_sent(reminder_key("UANA", overview))
    assert (sent == paris(back)) if reminded else sent is None
    assert len(dms(slack, "UANA")) == (1 if reminded else 0)


@pytest.mark.parametrize(
    ("back", "late"),
    [
        pytest.param("10:00", False, id="2h-late-sent"),
        pytest.param("11:00", False, id="3h-late-sent"),
        pytest.param("12:00", True, id="4h-late-skipped"),
    ],
)
async def test_a_digest_missed_while_down_is_caught_up_within_three_hours_else_skipped_once(
    start_bot: StartBot,
    slack: FakeSlack,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    back: str,
    late: bool,
) -> None:
    plan = Plan(digests=(ChannelDigest("CTRAINING", (INDUCTION,), time(8)),))
    bot = (await started(start_bot, slack, plan)).bot
    key = digest_key("CTRAINING", DAY)
    ticks = Ticks(clock)
    await ticks.through(bot, until=paris("07:55"))  # down from 07:55 (Paris)

    clock.set(paris(back))
    with caplog.at_level(logging.WARNING, logger="bot.features.digests.send"):
        await ticks.run(bot, until=paris(back) + timedelta(minutes=10))
        # Missed today, then yesterday's until the day after: ticks on either side of midnight.
        await ticks.through(bot, until=paris("07:00", day=1), busy=[paris("00:00", day=1)])

    skips = [r for r in caplog.records if "skipped" in r.getMessage() and key in r.getMessage()]
    records = {r.key: r for r in await bot.store.send_records("digest")}
    if late:
        assert ticks.first_sent(key) is None
        assert channel_calls(slack, "CTRAINING") == []
        assert len(skips) == 1, "logged once, not every tick"
        assert ticks.skipped[key] == [paris(back)]
        assert (records[key].state, records[key].last_error) == ("skipped", "missed: bot was down")
    else:
        assert ticks.first_sent(key) == paris(back)
        assert channel_calls(slack, "CTRAINING") == [None]
        assert skips == []
        assert records[key].state == "sent"


# --------------------------------------------------------------------------- what Slack answers


DIGEST_08 = Plan(
    digests=(
        ChannelDigest("CTRAINING", (INDUCTION,), time(8)),
        ChannelDigest("CTOOLS", (TOOLS,), time(8, 30)),
        ChannelDigest("CSAFETY", (SAFETY,), time(12, 30)),
    )
)


async def test_a_rate_limited_post_waits_for_retry_after_and_goes_out_once(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    bot = (await started(start_bot, slack, Plan(digests=DIGEST_08.digests[:1]))).bot
    ticks = Ticks(clock)
    await ticks.through(bot, until=paris("08:00"))
    slack.rate_limit_next("chat.postMessage", 1, retry_after=1)

    await ticks.run(bot, until=paris("08:05"))

    calls = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CTRAINING"]
    assert [(c.status, c.ok) for c in calls] == [(429, False), (200, True)]
    assert ticks.sent == {digest_key("CTRAINING", DAY): [paris("08:00")]}


async def test_a_channel_without_the_bot_pauses_its_digests_with_the_reason_and_others_go_on(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    harness = await started(start_bot, slack, DIGEST_08)
    bot = harness.bot
    ticks = Ticks(clock)
    end = paris("13:00", day=1)
    dues = [due for _, due in DIGEST_08.expected_digests(T0, end).values()]
    await ticks.through(bot, until=paris("08:00"), busy=dues)
    slack.error_next("chat.postMessage", "not_in_channel")  # the bot was removed from #training

    await ticks.through(bot, until=end, busy=dues)

    assert channel_calls(slack, "CTRAINING") == ["not_in_channel"], "never tried again, not even tomorrow"
    assert ticks.failed == {digest_key("CTRAINING", DAY): [paris("08:00")]}
    assert channel_calls(slack, "CTOOLS") == [None, None], "today and tomorrow"
    assert channel_calls(slack, "CSAFETY") == [None, None]
    (paused,) = await bot.store.digests(channel_id="CTRAINING")
    assert paused.paused_reason == "the bot is not in this channel; invite it with /invite @Sessions"
    listed = await harness.command("digest list", channel="CTRAINING")
    assert "paused: the bot is not in this channel; invite it with /invite @Sessions" in listed.body["text"]


async def test_a_private_channel_that_removed_the_bot_is_paused_the_same_way(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    bot = (await started(start_bot, slack, DIGEST_08)).bot
    slack.add_channel("CTRAINING", "training", is_private=True, is_member=False)
    ticks = Ticks(clock)
    end = paris("09:00", day=1)
    dues = [due for _, due in DIGEST_08.expected_digests(T0, end).values()]

    await ticks.through(bot, until=end, busy=dues)

    assert channel_calls(slack, "CTRAINING") == ["not_in_channel"]
    assert channel_calls(slack, "CTOOLS") == [None, None]


async def test_a_person_with_direct_messages_off_has_their_reminders_paused_and_others_still_get_theirs(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    plan = Plan(subs=(Sub("UANA", INDUCTION, 15 * MINUTE), Sub("UBEN", SAFETY, 60 * MINUTE)))
    harness = await started(start_bot, slack, plan)
    slack.disable_messages_tab("UANA")
    expected = plan.expected_reminders(T0, END)
    ticks = Ticks(clock)

    await ticks.run_at(harness.bot, moments=tick_plan(T0, END, [due for _, due in expected.values()]))

    ana = [c.error for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "UANA"]
    assert ana == ["messages_tab_disabled"], "09:00's reminder tried once; 14:00's never"
    assert len(dms(slack, "UBEN")) == 2
    (reminder,) = await harness.bot.store.reminders(user_id="UANA")
    assert reminder.paused_reason == "direct messages to the bot are turned off in its App Home settings"
    listed = await harness.command("remind list", user="UANA")
    assert "paused: direct messages to the bot are turned off" in listed.body["text"]


async def test_a_passing_failure_is_retried_on_the_next_tick_and_sent_once(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    plan = Plan(subs=REMIND_INDUCTION.subs, digests=DIGEST_08.digests[:1])
    bot = (await started(start_bot, slack, plan)).bot
    ticks = Ticks(clock)
    digest, reminder = digest_key("CTRAINING", DAY), reminder_key("UANA", session(101))
    await ticks.through(bot, until=paris("08:00"))
    slack.error_next("chat.postMessage", "internal_error")
    await ticks.through(bot, until=paris("08:45"), busy=[paris("08:00")])
    slack.error_next("chat.postMessage", "internal_error")

    await ticks.through(bot, until=paris("09:30"), busy=[paris("08:45")])

    assert ticks.failed == {digest: [paris("08:00")], reminder: [paris("08:45")]}
    assert ticks.sent == {digest: [paris("08:00:30")], reminder: [paris("08:45:30")]}
    assert channel_calls(slack, "CTRAINING") == ["internal_error", None]
    assert len(dms(slack, "UANA")) == 1
    records = {r.key: r for r in await bot.store.send_records()}
    assert [(records[k].state, records[k].attempts) for k in (digest, reminder)] == [("sent", 2), ("sent", 2)]


async def test_a_send_that_keeps_failing_is_given_up_after_the_last_attempt(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    bot = (await started(start_bot, slack, REMIND_INDUCTION)).bot
    ticks = Ticks(clock)
    key = reminder_key("UANA", session(101))
    await ticks.through(bot, until=paris("08:45"))
    slack.error_next("chat.postMessage", "internal_error", n=MAX_ATTEMPTS + 5)

    await ticks.run(bot, until=paris("08:59:30"))

    assert len(ticks.failed[key]) == MAX_ATTEMPTS
    assert len(slack.calls_to("chat.postMessage")) == MAX_ATTEMPTS
    (record,) = await bot.store.send_records("reminder")
    assert (record.state, record.attempts, record.last_error) == ("failed", MAX_ATTEMPTS, "internal_error")


# --------------------------------------------------------------------------- data from Zoho, the loop


async def test_a_digest_with_nothing_upcoming_is_settled_without_a_post(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    plan = Plan(digests=(ChannelDigest("CWEEKEND", (WEEKEND,), time(8)),))
    bot = (await started(start_bot, slack, plan)).bot
    fz.remove_session(session(501).session_id)  # the club's only session
    ticks = Ticks(clock)

    await ticks.through(bot, until=paris("09:00"), busy=[paris("08:00")])

    key = digest_key("CWEEKEND", DAY)
    assert ticks.skipped == {key: [paris("08:00")]}
    assert channel_calls(slack, "CWEEKEND") == []
    (record,) = await bot.store.send_records("digest")
    assert (record.key, record.state, record.last_error) == (key, "skipped", "nothing upcoming")


async def test_a_digest_waits_while_zoho_fails_and_goes_out_when_it_answers(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    bot = (await started(start_bot, slack, Plan(digests=DIGEST_08.digests[:1]))).bot
    ticks = Ticks(clock)
    clock.set(paris("08:00"))  # the bot starts at 08:00: it holds no data of the module yet
    fz.fail_next(3, status=503)  # every attempt of the 08:00 tick's read

    with caplog.at_level(logging.INFO, logger="bot.features.digests.send"):
        await ticks.run(bot, until=paris("08:05"))

    key = digest_key("CTRAINING", DAY)
    assert ticks.sent == {key: [paris("08:01")]}, "the first tick after the planner's rest (REST_SECONDS)"
    assert channel_calls(slack, "CTRAINING") == [None]
    assert f"digest {key} waits for Zoho data of 1 module(s)" in caplog.messages
    assert [r.status for r in fz.calls() if r.path.endswith("/sessions")] == [503, 503, 503, 200]


async def test_a_digest_goes_out_on_time_from_held_data_while_zoho_fails(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    """The planner kept the followed module fresh before 08:00; Zoho failing at 08:00 costs freshness,
    not the digest."""
    bot = (await started(start_bot, slack, Plan(digests=DIGEST_08.digests[:1]))).bot
    ticks = Ticks(clock)
    await ticks.run_at(bot, moments=[T0, paris("07:50")])  # the followed module read, then kept fresh
    clock.set(paris("08:00"))
    fz.fail_next(3, status=503)
    await ticks.run(bot, until=paris("08:01"))
    key = digest_key("CTRAINING", DAY)
    assert ticks.sent == {key: [paris("08:00")]}
    at_eight = [r.status for r in fz.calls() if r.at == paris("08:00").timestamp()]
    assert at_eight == [503, 503, 503], "the 08:00 read failed; the digest went out from the 07:50 data"


@pytest.mark.backends("sqlite", "postgres")
async def test_the_loop_ticks_every_thirty_seconds_until_stopped_then_releases_its_lease(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = (await started(start_bot, slack, Plan(digests=DIGEST_08.digests[:1]))).bot
    clock.set(paris("07:58"))
    stop = asyncio.Event()
    fake_sleep = clock.sleep

    async def sleep_then_stop_at_0802(seconds: float) -> None:
        await fake_sleep(seconds)
        if clock.now() >= paris("08:02"):
            stop.set()

    monkeypatch.setattr(clock, "sleep", sleep_then_stop_at_0802)

    await asyncio.wait_for(bot.scheduler.run(stop), timeout=30)

    assert clock.slept == [30.0] * 8, "07:58 to 08:02"
    assert channel_calls(slack, "CTRAINING") == [None]
    assert await bot.root.hold_lease("scheduler", "someone-else", clock.now(), LEASE_TTL), "released"


# --------------------------------------------------------------------------- Zoho calls


async def test_a_day_ahead_reminder_does_not_keep_zoho_busy_all_day(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    """With a 1-day lead every session is "soon", yet the module is re-read once per freshness
    window (here an hour) when no reminder falls due within half an hour, not at every tick."""
    plan = Plan(subs=(Sub("UANA", TOOLS, timedelta(days=1)),))
    harness = await started(start_bot, slack, plan, BOT_FRESHNESS_MINUTES="60")
    quiet_from, quiet_until = paris("09:00"), paris("13:00")  # no Tools reminder falls due in between
    clock.set(quiet_from)
    await Ticks(clock).tick(harness.bot)  # sends what fell due before 09:00 (its sessions not started)
    clock.advance(5 * 60)
    fz.clear()
    ticks = Ticks(clock)

    await ticks.run(harness.bot, until=quiet_until, step=5 * 60)

    session_reads = [r for r in fz.calls() if r.path.endswith("/sessions")]
    assert len(session_reads) <= 4, f"{len(session_reads)} reads in four quiet hours"
    assert ticks.sent == {}


# --------------------------------------------------------------------------- partial and long digests


async def test_a_digest_waits_a_little_for_a_refresh_the_minute_budget_put_off(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    """One background call a minute (2 a minute in all) and two a day's hour for followed data:
    at 08:00 both modules' data is old, and only one of their two batches can be read at once.
    The digest waits for the second read instead of going out with data hours old."""
    plan = Plan(digests=(ChannelDigest("CTRAINING", (INDUCTION, TOOLS), time(8)),))
    bot = (await started(start_bot, slack, plan, ZOHO_CALLS_PER_MINUTE="2", ZOHO_CALLS_PER_DAY="48")).bot
    ticks = Ticks(clock)
    await ticks.through(bot, until=paris("08:00"))  # one batch read at 06:00, the other never

    await ticks.through(bot, until=paris("08:30"), busy=[paris("08:00"), paris("08:05")])

    (sent_at,) = ticks.sent[digest_key("CTRAINING", DAY)]
    assert paris("08:00") < sent_at < paris("08:00") + FRESH_WITHIN
    reads = [c for c in fz.calls("/api/v1/courses") if c.at >= paris("07:59").timestamp()]
    assert len(reads) == 2, "both batches read for the digest"
    assert max(c.at for c in reads) <= sent_at.timestamp()


async def test_a_module_zoho_no_longer_knows_does_not_silence_the_channels_digest(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    """A digest of a module Zoho answers 404 for is paused after that one read, so the
    channel's other modules go out on time, without it, and nothing waits for it."""
    gone = module_ref(9, 9, 9, "Retired module")
    plan = Plan(digests=(ChannelDigest("CTRAINING", (INDUCTION, gone), time(8)),))
    harness = await started(start_bot, slack, plan)
    bot = harness.bot
    ticks = Ticks(clock)

    await ticks.through(bot, until=paris("10:00"), busy=[paris("08:00"), paris("08:30")])

    key = digest_key("CTRAINING", DAY)
    assert ticks.sent == {key: [paris("08:00")]}
    (post,) = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CTRAINING"]
    assert "Induction" in post["text"]
    assert "Retired module" not in post["text"]
    assert [r.status for r in fz.calls() if gone.module_id in r.path] == [404], "read once, at 06:00"
    paused = {d.module.key: d.paused_reason for d in await bot.store.digests(channel_id="CTRAINING")}
    assert paused == {INDUCTION.key: None, gone.key: MODULE_GONE_PAUSE}


def remove_module(fz: FakeZoho, module: ModuleRef) -> None:
    """Zoho stops knowing the module: its reads answer 404 from now on."""
    with fz.lock:
        for course in fz.courses:
            for batch in course.batches:
                batch.modules = [m for m in batch.modules if m.module_id != module.module_id]


@pytest.mark.backends("sqlite", "postgres")
async def test_a_followed_module_zoho_stops_knowing_is_paused_after_one_read_and_never_asked_again(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    """Tools & Systems is read at 06:00 and kept fresh; at 09:00 Zoho drops it. One read answers
    404, its digest and reminders are paused with the reason, and over the next 28 hours of ticks
    (past the service's GONE_SECONDS) not one more call asks for it, while Induction goes on."""
    plan = Plan(
        subs=(Sub("UANA", INDUCTION, 15 * MINUTE), Sub("UCHLOE", TOOLS, 15 * MINUTE)),
        digests=(ChannelDigest("CTOOLS", (TOOLS,), time(12, 30)),),
    )
    harness = await started(start_bot, slack, plan)
    ticks = Ticks(clock)
    await ticks.through(harness.bot, until=paris("09:00"), busy=[paris("08:45")])
    tools_path = f"/api/v1/courses/{TOOLS.course_id}/batches/{TOOLS.batch_id}/"
    assert {r.status for r in fz.calls() if r.path.startswith(tools_path)} == {200}
    fz.clear()
    remove_module(fz, TOOLS)
    end = paris("13:00", day=1)
    assert (end - clock.now()).total_seconds() > GONE_SECONDS
    # Every moment something of the plan falls due: Chloe's reminders and #tools' digest too.
    dues = [due for _, due in [*plan.expected_digests(clock.now(), end).values()]]
    dues += [due for _, due in [*plan.expected_reminders(clock.now(), end).values()]]
    assert paris("15:45") in dues, "Laptop setup's reminder, had the module not gone"

    await ticks.through(harness.bot, until=end, busy=dues)

    assert [r.status for r in fz.calls() if r.path.startswith(tools_path)] == [404]
    (gone_at,) = [r.at for r in fz.calls() if r.path.startswith(tools_path)]
    since = [moment.timestamp() - gone_at for moment, _ in ticks.leaders if moment.timestamp() > gone_at]
    assert any(s < GONE_SECONDS for s in since), "ticks while Zoho's 404 is remembered"
    assert any(s > GONE_SECONDS for s in since), "and after it is forgotten"
    assert channel_calls(slack, "CTOOLS") == [], "no digest of a module Zoho no longer has"
    assert dms(slack, "UCHLOE") == [], "no reminder either (Laptop setup was at 16:00)"
    assert "Reminder: Meet the team starts at 14:00 CET." in dms(slack, "UANA"), "others go on"
    (digest,) = await harness.bot.store.digests(channel_id="CTOOLS")
    (reminder,) = await harness.bot.store.reminders(user_id="UCHLOE")
    (other,) = await harness.bot.store.reminders(user_id="UANA")
    assert (digest.paused_reason, reminder.paused_reason, other.paused_reason) == (
        MODULE_GONE_PAUSE,
        MODULE_GONE_PAUSE,
        None,
    )
    reminders = await harness.command("remind list", user="UCHLOE")
    digests = await harness.command("digest list", channel="CTOOLS")
    said = "paused: Zoho no longer has this module; subscribe again if it comes back"
    assert said in reminders.body["text"]
    assert said in digests.body["text"]


async def test_a_long_digest_that_fails_midway_never_reposts_its_first_part(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    for number in range(60):  # enough sessions for two messages
        start = datetime.combine(DAY + timedelta(days=1 + number % 5), time(9 + number % 8), tzinfo=PARIS)
        raw = make_session(
            zoho_id(700000 + number), INDUCTION.module_id, f"Extra {number}", start.replace(tzinfo=None)
        )
        fz.add_session(INDUCTION.course_id, INDUCTION.batch_id, INDUCTION.module_id, raw)
    bot = (await started(start_bot, slack, Plan(digests=DIGEST_08.digests[:1]))).bot
    slack.error_next("chat.postMessage", "internal_error", after=1)  # part 1 goes, part 2 fails once
    ticks = Ticks(clock)

    await ticks.through(bot, until=paris("09:00"), busy=[paris("08:00")])

    key = digest_key("CTRAINING", DAY)
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CTRAINING"]
    texts = [c.args["text"] for c in posts if c.ok]
    assert len(texts) == 2
    assert "(part 1 of 2)" in texts[0]
    assert "(part 2 of 2)" in texts[1]
    assert [c.error for c in posts] == [None, "internal_error", None]
    assert ticks.failed == {key: [paris("08:00")]}
    assert ticks.sent == {key: [paris("08:00:30")]}
