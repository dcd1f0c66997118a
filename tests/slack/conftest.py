"""Fixtures for the Slack side: a FakeSlack, and the real bot served over HTTP in front of both fakes.

They build on `tests/conftest.py` (fake Zoho on a FakeClock, its `env`): the bot
gets that clock too, so "now" is 10:00 UTC on TODAY and sample data sits around it.
`tests/features/conftest.py` re-exports these fixtures for the feature tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest

from bot.app import build_bot
from bot.config import load_settings
from bot.core import build_core
from bot.slack.server import start_http, web_app
from bot.zoho.client import RetryPolicy
from tests.clock import FakeClock
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.slack.harness import CHANNEL, SECRET, USER, ZONE, SlackBot

MakeBot = Callable[..., Awaitable[SlackBot]]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A FakeSlack knowing user U1 (Paris) and the public channel C1 the bot is in."""
    with FakeSlack() as fake:
        fake.add_user(USER, "ada", tz=ZONE)
        fake.add_channel(CHANNEL, "general")
        yield fake


@pytest.fixture
def bot_env(env: dict[str, str], slack: FakeSlack) -> dict[str, str]:
    """The environment of a bot in HTTP mode pointed at both fakes."""
    return {
        **env,
        "ZOHO_TIMEZONE": ZONE,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
    }


@pytest.fixture
async def make_bot(
    bot_env: dict[str, str], slack: FakeSlack, fz: FakeZoho, clock: FakeClock, retry: RetryPolicy
) -> AsyncIterator[MakeBot]:
    """Start bots (overrides change the environment); every one is stopped after the test."""
    started: list[SlackBot] = []

    async def make(**overrides: str) -> SlackBot:
        settings = load_settings(environ={**bot_env, **overrides}, env_file=None)
        bot = build_bot(settings, clock=clock, core=build_core(settings, clock=clock, retry=retry))
        await bot.start()
        runner = await start_http(web_app(bot.bolt), port=0, host="127.0.0.1")
        harness = SlackBot(bot, runner, httpx.AsyncClient(timeout=30), slack, fz, clock)
        started.append(harness)
        return harness

    yield make
    for harness in reversed(started):
        await harness.http.aclose()
        await harness.runner.cleanup()
        await harness.bot.aclose()


@pytest.fixture
async def sb(make_bot: MakeBot) -> SlackBot:
    """The bot in HTTP mode, its catalog not yet walked."""
    return await make_bot()


@pytest.fixture
async def walked(sb: SlackBot) -> SlackBot:
    """The bot with its module catalog discovered (and the fake's records cleared)."""
    await sb.walk()
    return sb
