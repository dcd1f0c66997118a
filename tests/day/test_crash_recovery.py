"""An instance killed in the middle of sending, and the one that takes over, on SQLite and PostgreSQL.

A SIGKILL stops a process between any two statements. Here the first bot dies
at the worst moments: just after Slack accepted a message but before the store
heard of it, and just after claiming a send but before posting it. The second
bot, on the same database, must neither post the message again nor lose it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest

from bot.features.outbox import ABANDONED_CLAIM
from bot.slack.delivery import SEND_EVENT_TYPE
from tests.clock import FakeClock
from tests.conftest import StartBot
from tests.fakes.slack import FakeSlack
from tests.planned_day import DAY, INDUCTION, PARIS, ChannelDigest, Plan, Ticks, digest_key
from tests.slack.harness import SlackBot

CHANNEL = "CTRAINING"
PLAN = Plan(digests=(ChannelDigest(CHANNEL, (INDUCTION,), time(8)),))
EIGHT = datetime.combine(DAY, time(8), tzinfo=PARIS)

pytestmark = pytest.mark.backends("sqlite", "postgres")
"""A crash and the instance taking over: what only PostgreSQL (many machines) can show, and SQLite."""


class Killed(BaseException):
    """The process ending here: nothing after it runs, not even `except Exception` blocks."""


async def started(start_bot: StartBot, slack: FakeSlack) -> SlackBot:
    PLAN.prepare_slack(slack)
    harness = await start_bot()
    await PLAN.subscribe(harness.bot.store)
    return harness


def die_on(harness: SlackBot, method: str) -> None:
    """Kill the bot when it next calls the store's `method` (after what came before it happened)."""

    async def dying(*_: Any, **__: Any) -> None:
        raise Killed

    setattr(harness.bot.store, method, dying)


def posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [c.args for c in slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == CHANNEL]


async def run_until_killed(harness: SlackBot, ticks: Ticks) -> None:
    with pytest.raises(Killed):
        await ticks.through(harness.bot, until=EIGHT + timedelta(minutes=5), busy=[EIGHT])


async def test_a_digest_posted_just_before_the_kill_is_not_posted_again(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    first = await started(start_bot, slack)
    die_on(first, "finish")  # Slack has the digest; the store still says "claimed"
    ticks = Ticks(clock)
    await run_until_killed(first, ticks)
    assert len(posts(slack)) == 1, "the first bot did post it"

    second = await start_bot()
    await ticks.through(second.bot, until=EIGHT + 2 * ABANDONED_CLAIM, busy=[EIGHT + ABANDONED_CLAIM])

    assert len(posts(slack)) == 1, "posted once, whoever finished the send"
    assert slack.calls_to("conversations.history", ok=True), "the history was looked at"
    key = digest_key(CHANNEL, DAY)
    records = {r.key: r.state for r in await second.bot.store.send_records("digest")}
    assert records[key] == "sent"


async def test_a_digest_claimed_just_before_the_kill_is_sent_once_by_the_next_instance(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    first = await started(start_bot, slack)

    async def killed_before_posting(**_: Any) -> None:
        raise Killed

    first.bot.slack.chat_postMessage = killed_before_posting  # type: ignore[method-assign]
    ticks = Ticks(clock)
    await run_until_killed(first, ticks)
    assert posts(slack) == []

    second = await start_bot()
    await ticks.through(second.bot, until=EIGHT + 2 * ABANDONED_CLAIM, busy=[EIGHT + ABANDONED_CLAIM])

    (post,) = posts(slack)
    assert post["metadata"]["event_type"] == SEND_EVENT_TYPE
    assert any(key.startswith(digest_key(CHANNEL, DAY)) for key in post["metadata"]["event_payload"]["keys"])


async def test_when_the_history_cannot_be_read_the_digest_is_posted_rather_than_lost(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    first = await started(start_bot, slack)
    die_on(first, "finish")
    ticks = Ticks(clock)
    await run_until_killed(first, ticks)
    slack.error_next("conversations.history", "missing_scope", n=5)

    second = await start_bot()
    await ticks.through(second.bot, until=EIGHT + 2 * ABANDONED_CLAIM, busy=[EIGHT + ABANDONED_CLAIM])

    assert len(posts(slack)) == 2, "a rare duplicate, never a lost digest"
    assert slack.calls_to("conversations.history", ok=False)
