"""Shared fixtures: a fake Zoho on a fake clock, settings pointing at it, and a `core` built on both.

Every test gets its own fake server, data folder and clock. The fake reads the
same `FakeClock` as the bot (`fz.clock = clock.time`), so token expiry, the
30-a-minute threshold and the 5-minute lock move only when a test moves time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.core import Core, build_core
from bot.sessions.matching import ModuleRef
from bot.zoho.client import RetryPolicy
from tests.clock import FakeClock
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, sample_org, zoho_id

TODAY = date(2025, 3, 10)
"""The day sample data is built around (a Monday)."""
START = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
"""Where every FakeClock starts: 10:00 UTC on TODAY."""

PAGED_MODULE = ModuleRef(zoho_id(190001), zoho_id(290001), zoho_id(390001), "Paged Module")
"""The one module of `module_with_sessions(n)`."""

MakeCore = Callable[..., Core]


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
