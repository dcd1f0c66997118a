"""The event loop's lag on `/metrics`: wake-ups observed while the bot runs, a stall seen as one."""

from __future__ import annotations

import asyncio
import time

from bot.loop_lag import LagFigures
from tests.slack.harness import SlackBot

DEADLINE_SECONDS = 10.0
STALL_SECONDS = 0.12
"""Longer than two wake-up intervals: whichever wake-up falls due in it comes over 50 ms late."""


async def lag(sb: SlackBot) -> LagFigures:
    response = await sb.http.get(f"http://127.0.0.1:{sb.port}/metrics")
    assert response.status_code == 200
    return LagFigures.read(response.text)


async def observed_after(sb: SlackBot, before: LagFigures) -> LagFigures:
    """The wake-ups observed since `before`, once there are some (polled, with a deadline)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while (since := (await lag(sb)).since(before)).count == 0:
        assert time.monotonic() < deadline, "no wake-up observed"
        await asyncio.sleep(0.01)
    return since


def hold_the_loop(seconds: float) -> None:
    """Work that does not yield, as a long parse or render would."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_metrics_show_the_loop_lag_and_a_stall_lands_in_its_bucket(sb: SlackBot) -> None:
    before = await lag(sb)
    assert before.buckets, "the histogram is on /metrics"
    await observed_after(sb, before)

    stalled_from = await lag(sb)
    hold_the_loop(STALL_SECONDS)
    stall = await observed_after(sb, stalled_from)

    assert stall.max > 0.05
    assert sb.bot.loop_lag.worst > 0.05


def test_figures_read_the_buckets_share_by_share() -> None:
    text = "\n".join(
        f'sessions_bot_event_loop_lag_seconds_bucket{{le="{bound}"}} {count}'
        for bound, count in (("0.001", 90), ("0.01", 99), ("0.05", 99), ("0.1", 100), ("+Inf", 100))
    )
    figures = LagFigures.read(f"# TYPE sessions_bot_event_loop_lag_seconds histogram\n{text}\n")

    assert figures.count == 100
    assert figures.at_most(0.9) == 0.001
    assert figures.p99 == 0.01
    assert figures.max == 0.1
    assert figures.since(figures).count == 0
    assert LagFigures.read("").max == 0.0
