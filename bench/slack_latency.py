"""Acknowledgement and full-answer times of `/sessions <module>`, cold and warm.

    .venv/bin/python -m bench.slack_latency [--zoho-delay 0.0] [--rounds 5]

Runs the real bot (Bolt behind its aiohttp server on 127.0.0.1) against the fake
Zoho and fake Slack, sends Slack-signed slash commands and times
- the acknowledgement: the HTTP answer Slack waits for (3 s at most);
- the full answer: in the acknowledgement itself, or the response_url post that
  replaces the "looking up" placeholder.
Cold: empty session cache and token (the module catalog is known). Warm: cached.
`--zoho-delay` makes every fake Zoho answer that slow (a hanging Zoho).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

from bot.app import build_bot
from bot.config import load_settings
from bot.slack.server import start_http, web_app
from tests.fakes.signing import signed_headers, slash_command_body
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import sample_org

SECRET = "bench-secret"
QUERY = "gdpr basics"


async def one_round(zoho: FakeZoho, slack: FakeSlack, delay: float, round_no: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            environ={
                **zoho.bot_environment(),
                "BOT_DATA_DIR": str(Path(folder)),
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.api_url,
            },
            env_file=None,
        )
        bot = build_bot(settings)
        await bot.start()
        await bot.core.catalog.walk()
        token = await bot.core.state.token(bot.core.clock.time())
        await bot.core.state.forget_token(token.access_token, bot.core.clock.time())  # cold: no token either
        zoho.reset_limits()
        zoho.delay = delay
        app = web_app(bot.bolt, settings.slack_signing_secret, bot.probes())
        runner = await start_http(app, 0, "127.0.0.1")
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        figures = {}
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                for label in ("cold", "warm"):
                    name = f"r{round_no}-{label}"
                    figures[f"{label} ack"], figures[f"{label} answer"] = await timed(http, url, slack, name)
        finally:
            zoho.delay = 0.0
            await runner.cleanup()
            await bot.aclose()
    return figures


async def timed(http: httpx.AsyncClient, url: str, slack: FakeSlack, name: str) -> tuple[float, float]:
    body = slash_command_body(text=QUERY, response_url=slack.response_url(name))
    started = time.perf_counter()
    response = await http.post(url, content=body, headers=signed_headers(body, SECRET))
    ack = time.perf_counter() - started
    if "Looking up" not in response.json().get("text", ""):
        return ack, ack
    await slack.wait_for_responses_async(1, timeout=30, name=name)
    return ack, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoho-delay", type=float, default=0.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with FakeZoho(sample_org(date.today())) as zoho, FakeSlack() as slack:
        slack.add_user("U1", "ana")
        rounds = [await one_round(zoho, slack, args.zoho_delay, n) for n in range(args.rounds)]
    print(f"/sessions {QUERY}, fake Zoho delay {args.zoho_delay} s, {args.rounds} rounds (median, max):")
    for key in rounds[0]:
        values = [r[key] * 1000 for r in rounds]
        print(f"  {key:12s} {statistics.median(values):8.1f} ms  {max(values):8.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
