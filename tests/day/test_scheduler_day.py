"""A whole day of the scheduler on a FakeClock, on SQLite: everything once, on time.

The clock starts at 05:00 UTC on Tuesday 10 March 2026 (06:00 in Paris, the
org's zone) and the scheduler ticks on the 30 s grid of fake time for 24 hours,
with no sleeping. Three channels get digests (one follows two modules and must
get ONE message; a fourth is on weekends only), five people have reminders
(15 min, 1 h, 1 day, and Remind me buttons, one on a session the person also
follows through its module). Each send must go out exactly once, from the tick
at or just after its due time; the summary line gives the figures (run with -s).

A tick costs a handful of store round trips, so 2,880 of them take ~15 s: by
default the clock jumps from one due moment to the next and ticks 30 s before
each, at it and twice after (`tick_plan`, ~50 ticks);
SCHEDULER_DAY_EVERY_TICK=1 runs all 2,880.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from tests.clock import FakeClock
from tests.conftest import StartBot
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.planned_day import DAY_PLAN, T0, TICK, Ticks, posts_by_target, reads_at_most, tally, tick_plan

END = T0 + timedelta(hours=24)
FRESHNESS = timedelta(minutes=10)
"""BOT_FRESHNESS_MINUTES' default: how old followed data may get while the budgets allow."""
EVERY_TICK = os.environ.get("SCHEDULER_DAY_EVERY_TICK") == "1"
PLAN = "around each due moment"

pytestmark = pytest.mark.backends("sqlite")
"""One bot on one database: the store's part is in tests/store; restarts and two instances in
tests/day/test_scheduler.py, on PostgreSQL too."""


async def test_a_simulated_day_sends_every_digest_and_reminder_once_on_time(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock, backend: str
) -> None:
    DAY_PLAN.prepare_slack(slack)
    harness = await start_bot()
    bot = harness.bot
    await DAY_PLAN.subscribe(bot.store)
    expected_digests = DAY_PLAN.expected_digests(T0, END)
    expected_reminders = DAY_PLAN.expected_reminders(T0, END)

    ticks = Ticks(clock)
    dues = [due for _, due in [*expected_digests.values(), *expected_reminders.values()]]
    moments = tick_plan(T0, END, dues, sparse=TICK if EVERY_TICK else None)
    await ticks.run_at(bot, moments=moments)

    channel_posts, dm_posts = posts_by_target(slack)
    digests = tally(expected_digests, ticks, "digest:", channel_posts)
    reminders = tally(expected_reminders, ticks, "remind:", dm_posts)
    zoho_calls = len(fz.calls())
    print(
        f"\nsimulated day [{backend}], {ticks.count} ticks ({'every 30 s' if EVERY_TICK else PLAN}): "
        f"digests {digests.line()}; reminders {reminders.line()}; Zoho calls {zoho_calls}"
    )

    assert ticks.count == (2880 if EVERY_TICK else len(moments))
    assert (digests.due, digests.sent, digests.duplicated, digests.missed) == (3, 3, 0, 0)
    assert (reminders.due, reminders.sent, reminders.duplicated, reminders.missed) == (11, 11, 0, 0)
    assert digests.unexpected == reminders.unexpected == []
    assert all(leaders for _, leaders in ticks.leaders), "the one bot leads every tick"
    assert not ticks.failed
    assert not ticks.skipped

    (training,) = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CTRAINING"]
    assert "(Induction, Site Safety)" in training["text"], "two modules, one message"
    assert "CWEEKEND" not in channel_posts
    assert dm_posts["UDAN"] == 3, "the session followed twice is reminded once"
    followed = {(sub.module.course_id, sub.module.batch_id) for sub in DAY_PLAN.subs} | {
        (module.course_id, module.batch_id) for digest in DAY_PLAN.digests for module in digest.modules
    }
    fresh_all_day = len(followed) * reads_at_most(moments, FRESHNESS)  # 3 x 144 with every tick
    assert zoho_calls <= fresh_all_day, "each followed batch read at most once per freshness window"
    assert len(moments) > 2 * reads_at_most(moments, FRESHNESS), "ticks within a window, to show it"
