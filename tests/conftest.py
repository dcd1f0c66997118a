"""The fixtures every test folder shares: the fakes, the bot on them, the two store backends.

- Zoho: `fz`, a fake Zoho on a FakeClock, `env`/`settings` pointing at it, and
  `core`/`make_core` built on both. Every test gets its own fake server, data
  folder and clock. The fake reads the same `FakeClock` as the bot
  (`fz.clock = clock.time`), so token expiry, the 30-a-minute threshold and the
  5-minute lock move only when a test moves time.
- Slack: `slack`, a FakeSlack; `make_bot`/`sb`/`walked`, the real bot served over
  HTTP in front of both fakes, on that clock (10:00 UTC on TODAY).
- Store: `database_url` runs a test twice, on a SQLite file and on an emptied
  database of a real PostgreSQL server (skipped, with the reason, only where no
  server binary exists); a `backends("sqlite")` marker keeps a test to SQLite
  (the day scenarios: PostgreSQL only for restarts, two instances, crashes, leases).
- Operator commands: `live_zoho` and `terminal`, the environment `python -m bot`
  runs in, on the real clock; `run_sync` runs a coroutine from a sync test.
- Logs: every test's log (INFO and up, every logger) is searched for every secret
  the tests set and every access token the fake Zoho issues (`no_secret_in_the_log`);
  what a test's `main()` did to logging is undone after it (`logging_as_found`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from bot.app import open_bot
from bot.config import VARIABLES, Settings, load_settings
from bot.core import Core, build_core
from bot.logs import NOISY_LIBRARIES, Redacting
from bot.sessions.modules import ModuleRef
from bot.slack.server import start_http, web_app
from bot.zoho.client import RetryPolicy
from tests.clock import FakeClock
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, sample_org, zoho_id
from tests.slack.harness import CHANNEL, SECRET, USER, ZONE, SlackBot
from tests.store import postgres

T = TypeVar("T")

TODAY = date(2025, 3, 10)
"""The day sample data is built around (a Monday)."""
START = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
"""Where every FakeClock starts: 10:00 UTC on TODAY."""

TERMINAL_KEY = "a-key-for-the-operator-commands-of-the-tests"
"""BOT_SECRET_KEY of `terminal`: the cached access token is sealed, as `check` advises."""
SECRETS = ("client-secret", "1000.refresh.token", "xoxb-test", "xapp-test", SECRET, TERMINAL_KEY)
"""Every secret the tests configure (the fakes' defaults and the harness's signing secret)."""
ACCESS_TOKEN = re.compile(r"\btok-\d+\b")
"""The fake Zoho's access tokens."""

PAGED_MODULE = ModuleRef(zoho_id(190001), zoho_id(290001), zoho_id(390001), "Paged Module")
"""The one module of `module_with_sessions(n)`."""

MakeCore = Callable[..., Core]


@pytest.fixture(autouse=True)
def logging_as_found() -> Iterator[None]:
    """Undo what `bot.logs.configure` (run by a test's `main()`) did to the process's logging, so
    a test's log does not depend on which tests ran before it in the same process (an xdist
    worker runs a different set each time):

    - httpx, httpcore, aiosqlite and asyncio stayed at WARNING for good: no later test's log
      had their INFO lines for `no_secret_in_the_log` to search (httpx logs every URL);
    - its root handler, writing to the stderr pytest captured for that test, stayed: every
      later record failed to write to that closed stream, and each later test's captured
      output was full of "--- Logging error ---" tracebacks."""
    root = logging.getLogger()
    handlers = set(root.handlers)
    levels = {name: logging.getLogger(name).level for name in NOISY_LIBRARIES}
    yield
    for handler in list(root.handlers):
        if handler not in handlers and isinstance(handler.formatter, Redacting):
            root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(autouse=True)
def no_secret_in_the_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever a test does, no line the bot or its libraries log may carry a secret."""
    yield
    for when in ("setup", "call"):
        for record in caplog.get_records(when):
            text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
            leaked = [s for s in SECRETS if s in text] + ACCESS_TOKEN.findall(text)
            assert not leaked, f"{record.name} logged {leaked}: {text[:300]}"


def module_refs(org: Org) -> list[ModuleRef]:
    """Every module the fake serves, as the bot refers to it (with its course and batch names)."""
    return [
        ModuleRef(c.course_id, b.batch_id, m.module_id, m.name, c.name, b.name)
        for c in org.courses
        for b in c.batches
        for m in b.modules
    ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def org() -> Org:
    """What the fake serves; a test module overrides this fixture to serve something else."""
    return sample_org(TODAY)


@pytest.fixture
def fz(org: Org, clock: FakeClock) -> Iterator[FakeZoho]:
    fake = FakeZoho(org)
    fake.clock = clock.time
    with fake:
        yield fake


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def env(fz: FakeZoho, data_dir: Path) -> dict[str, str]:
    """The environment of a bot pointed at the fake."""
    return {**fz.bot_environment(), "BOT_DATA_DIR": str(data_dir)}


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(environ=env, env_file=None)


@pytest.fixture
def retry() -> RetryPolicy:
    """No backoff: retries are counted on the wire, not waited for."""
    return RetryPolicy(base_delay=0, max_delay=0)


@pytest.fixture
async def make_core(env: dict[str, str], clock: FakeClock, retry: RetryPolicy) -> AsyncIterator[MakeCore]:
    """Build more cores (another process on the same or another data folder); all closed after."""
    built: list[Core] = []

    def make(retry_policy: RetryPolicy | None = None, **overrides: str) -> Core:
        settings = load_settings(environ={**env, **overrides}, env_file=None)
        core = build_core(settings, clock=clock, retry=retry_policy or retry)
        built.append(core)
        return core

    yield make
    for core in reversed(built):
        await core.aclose()


@pytest.fixture
async def core(settings: Settings, clock: FakeClock, retry: RetryPolicy) -> AsyncIterator[Core]:
    built = build_core(settings, clock=clock, retry=retry)
    yield built
    await built.aclose()


# --------------------------------------------------------------------------- Slack

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
        bot = await open_bot(settings, clock=clock, core=build_core(settings, clock=clock, retry=retry))
        bolt = None if settings.slack_app_token else bot.bolt  # Socket Mode: /healthz alone
        app = web_app(bolt, settings.slack_signing_secret, bot.probes(), bot.pages)
        port = urlsplit(settings.public_url).port or 0 if settings.public_url else 0
        runner = await start_http(app, port=port, host="127.0.0.1")
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
    """The bot with its module catalog discovered (and the fakes' records cleared: the catalog's
    reads, and the `auth.test` that named the workspace at start)."""
    await sb.walk()
    sb.slack.clear_records()
    return sb


# --------------------------------------------------------------------------- backends


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    reason = postgres.available()
    if reason is not None:
        pytest.skip(reason)
    server = postgres.acquire()
    try:
        yield server
    finally:
        postgres.release()


BACKENDS = ("sqlite", "postgres")
"""Where a test taking `database_url` runs unless its `backends` marker says otherwise."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backends(*names): the store backends ('sqlite', 'postgres') a test taking `database_url` "
        "runs on; without it, both",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`database_url` runs a test on each backend its nearest `backends` marker names (default both):
    the day scenarios run on SQLite, and PostgreSQL is kept for what only it can show."""
    if "database_url" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    names = marker.args if marker is not None else BACKENDS
    assert names, "backends: name at least one"
    assert set(names) <= set(BACKENDS), f"backends: {names!r}; known: {BACKENDS}"
    metafunc.parametrize("database_url", names, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on an empty database: a new SQLite file, or the PostgreSQL test database emptied."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
    server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
    return server.fresh_database()


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


StartBot = Callable[..., Awaitable[SlackBot]]


@pytest.fixture
def start_bot(make_bot: MakeBot, database_url: str) -> StartBot:
    """`make_bot` (which stops every bot after the test) on the parametrized database."""

    async def start(**overrides: str) -> SlackBot:
        return await make_bot(**{"DATABASE_URL": database_url, **overrides})

    return start


# --------------------------------------------------------------------------- operator commands


@pytest.fixture
def live_zoho() -> Iterator[FakeZoho]:
    """Operator commands run on the real clock: a fake Zoho on it, sample sessions around today."""
    with FakeZoho(sample_org(datetime.now(UTC).date())) as fake:
        yield fake


@pytest.fixture
def terminal(live_zoho: FakeZoho, slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder (no `.env`) and an environment pointing at both fakes, as `python -m bot`
    sees them; returns the data folder."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    for name, value in {
        **live_zoho.bot_environment(),
        "ZOHO_TIMEZONE": "Europe/Paris",
        "BOT_DATA_DIR": str(data),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "signing-secret-for-tests",
        "SLACK_API_URL": slack.api_url,
        "BOT_SECRET_KEY": TERMINAL_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    return data


def run_sync(work: Awaitable[T]) -> T:
    """Run a coroutine from a sync test (operator commands own their event loop)."""

    async def main() -> T:
        return await work

    return asyncio.run(main())
