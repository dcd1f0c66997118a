"""Peak resident memory of one bot process serving a 5,000-module organisation.

    .venv/bin/python -m bench.memory

Runs `python -m bot` as its own process (HTTP mode, SQLite, a data folder of its own) against
fake Zoho and fake Slack served by this process, so the figure is the bot's alone. Before it
starts, this process walks the catalog (5,000 modules) and reads the sessions of 200 modules
(one of them 5,000 sessions long) into the bot's data folder on an injected clock, as a bot that
has run for a while would hold them, and stores 200 reminders and 40 digests of one person.
The bot then serves, over signed HTTP, `ROUNDS` times: module menus, typed names (short, and 300
characters of nonsense), lookups of ten modules and an App Home opening (which reads the 200
reminded modules' sessions). Prints the bot's peak RSS (`VmHWM` of /proc/<pid>/status) after
each round and its RSS at the end (`VmRSS`). Not driven: the scheduler's digest send (the
seeding's injected clock spends Zoho's minute budget ahead of real time, and the due digest
waits for a refresh); bench.stalls renders the 40-module digest.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.stalls import CHANNEL, LONG_NAME, REMINDERS, SHORT_NAME, USER, big_org, subscribe
from bot.app import build_bot
from bot.config import load_settings
from bot.core import build_core
from bot.features.forms.ids import FormAction
from bot.sessions.urgency import Need
from tests.clock import FakeClock
from tests.conftest import module_refs
from tests.fakes.signing import (
    JSON_CONTENT_TYPE,
    block_suggestion_body,
    event_body,
    signed_headers,
    slash_command_body,
)
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.slack.harness import SECRET

ROOT = Path(__file__).resolve().parents[1]
PARIS = ZoneInfo("Europe/Paris")
STARTUP_SECONDS = 60.0
ROUNDS = 5


def environment(zoho: FakeZoho, slack: FakeSlack, data: Path, port: int) -> dict[str, str]:
    return {
        **zoho.bot_environment(),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "HOME": str(data),
        "BOT_DATA_DIR": str(data / "data"),
        "PORT": str(port),
        "ZOHO_TIMEZONE": "Europe/Paris",
        "ZOHO_CALLS_PER_DAY": "10000000",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
    }


async def prepare(zoho: FakeZoho, environ: dict[str, str]) -> None:
    """What a bot that has served for a while holds: the walked catalog, 200 modules' sessions
    (fresh), the person's reminders and digests. On an injected
    clock, which fake Zoho follows meanwhile, so Zoho's minute budget costs no real time."""
    clock = FakeClock(datetime.now(UTC))
    zoho.clock = clock.time
    settings = load_settings(environ=environ, env_file=None)
    bot = build_bot(settings, clock=clock, core=build_core(settings, clock=clock))
    await bot.start()
    try:
        await bot.core.catalog.walk()
        modules = bot.core.catalog.modules()
        await bot.core.sessions.refresh(modules[:REMINDERS], Need())
        now = datetime.now(PARIS)
        await subscribe(bot.store, modules, now, now.time().replace(second=0, microsecond=0))
    finally:
        await bot.aclose()
        zoho.clock = time.time


def peak_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of the process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


async def drive(http: httpx.AsyncClient, base: str, slack: FakeSlack, names: list[str]) -> None:
    async def post(body: str, content_type: str | None = None) -> None:
        headers = signed_headers(body, SECRET, **({"content_type": content_type} if content_type else {}))
        response = await http.post(f"{base}/slack/events", content=body, headers=headers)
        response.raise_for_status()

    for typed in ("", "mod", "modul 07.2 05", "course 03"):
        await post(block_suggestion_body(FormAction.MODULE, typed))
    for text in (SHORT_NAME, LONG_NAME, *names):
        await post(slash_command_body(text=text, response_url=slack.response_url("memory")))
    before = len(slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": USER, "channel": f"D{USER}", "tab": "home", "event_ts": "1.2"}
    await post(event_body(event), JSON_CONTENT_TYPE)
    await slack.wait_for_calls_async("views.publish", before + 1, timeout=30)


async def serve_and_measure(zoho: FakeZoho, slack: FakeSlack, data: Path, names: list[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    environ = environment(zoho, slack, data, port)
    await prepare(zoho, environ)
    base = f"http://127.0.0.1:{port}"
    with (data / "bot.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=data, env=environ, stdout=log, stderr=log
        )
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    if (await http.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the bot did not start; see {data / 'bot.log'}")
                await asyncio.sleep(0.1)
            print(f"started: peak {peak_mb(proc.pid)[0]:.1f} MB")
            for n in range(ROUNDS):
                await drive(http, base, slack, names)
                print(f"round {n + 1}: peak {peak_mb(proc.pid)[0]:.1f} MB")
            hwm, rss = peak_mb(proc.pid)
            print(f"bot process: peak RSS (VmHWM) {hwm:.1f} MB, RSS at the end {rss:.1f} MB")
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)


def main() -> None:
    print(f"load average: {', '.join(f'{n:.2f}' for n in os.getloadavg())}")
    org = big_org(datetime.now(PARIS).date())
    with FakeZoho(org) as zoho, FakeSlack() as slack, tempfile.TemporaryDirectory() as folder:
        slack.add_user(USER, "ada", tz="Europe/Paris")
        slack.add_channel(CHANNEL, "general")
        names = [module.name for module in module_refs(org)[:10]]
        asyncio.run(serve_and_measure(zoho, slack, Path(folder), names))
    print(f"load average after: {', '.join(f'{n:.2f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
