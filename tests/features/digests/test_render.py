"""A digest's top-level `text`: what notifications and screen readers say, under Slack's 4,000.

Found from outside: with 50 modules (a channel's most) named with `&`, the fallback text
reached 14,955 characters, because each name was clipped before escaping and every `&` then
grew fivefold into `&amp;`. Slack truncates, or refuses, such a text. The names are now
escaped first and the list is cut after escaping, whole names only, saying how many more.

The bot runs on the FakeClock of tests/conftest.py: 10:00 UTC (11:00 in Paris) on Monday
10 March 2025; each module has a session today at 14:00 (Paris).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

import pytest

from bot.features.subscriptions.render import MAX_DIGESTS_PER_CHANNEL
from bot.sessions.modules import ModuleRef
from tests.conftest import START, TODAY
from tests.fakes.zoho_data import Batch, Course, Module, Org, make_session, zoho_id
from tests.slack.harness import CHANNEL, SlackBot, assert_within_slack_limits

JSON = dict[str, Any]
NAME = "R&D & Q&A & T&C & P&L & M&A & B&B & A&E & S&P & AT&T & H&M & {:02d}"
"""About 60 characters, a fifth of them `&`."""
COUNT = MAX_DIGESTS_PER_CHANNEL
_ENTITY_CUT = re.compile(r"&(?!amp;|lt;|gt;)")


@pytest.fixture
def org() -> Org:
    modules = []
    for number in range(COUNT):
        module = Module(zoho_id(360000 + number), NAME.format(number))
        start = datetime.combine(TODAY, time(14))
        module.sessions.append(make_session(zoho_id(960000 + number), module.module_id, "Session", start))
        modules.append(module)
    # Five a batch: the planner reads a batch whole, and never reads one whose calls exceed a
    # minute's background budget (16 here), so 50 modules in one batch are never read at all.
    batches = [
        Batch(zoho_id(260000 + n), f"Cohort {n}", modules=modules[n : n + 5], learners_count=3)
        for n in range(0, COUNT, 5)
    ]
    return Org(courses=[Course(zoho_id(160001), "Course", batches=batches)])


async def tick_until(sb: SlackBot, done: Callable[[], list[JSON]], ticks: int = 20) -> list[JSON]:
    """Tick the scheduler 30 fake seconds apart until `done()` has something; fail after `ticks`."""
    for _ in range(ticks):
        await sb.bot.scheduler.tick()
        if found := done():
            return found
        sb.clock.advance(30)
    raise AssertionError(f"no digest after {ticks} ticks")


async def test_a_digest_of_fifty_ampersand_modules_has_a_text_under_4000_characters(
    walked: SlackBot,
) -> None:
    modules: list[ModuleRef] = sorted(walked.bot.core.catalog.modules(), key=lambda m: m.name)
    assert len(modules) == COUNT
    for module in modules:
        await walked.bot.store.save_digest(
            CHANNEL, module, time(11, 5), frozenset(range(7)), "Europe/Paris", "U1", START
        )

    def digests() -> list[JSON]:
        return [
            call.args
            for call in walked.slack.calls_to("chat.postMessage", ok=True)
            if "upcoming training session" in call.args.get("text", "")
        ]

    parts = await tick_until(walked, digests)

    for part in parts:
        text = part["text"]
        assert len(text) < 4000, len(text)
        assert_within_slack_limits(part)
        assert not _ENTITY_CUT.search(text), "no `&` left unescaped or entity cut in half"
        assert text.startswith(f"{COUNT} upcoming training sessions this week (R&amp;D &amp; Q&amp;A")
    first = parts[0]["text"]
    shown = first.count("R&amp;D")
    assert 0 < shown < COUNT
    assert f"and {COUNT - shown} more)" in first
