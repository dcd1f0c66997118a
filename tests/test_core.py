"""The composition root: settings errors surface before anything is opened; closing is clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.core import build_core
from bot.zoho.client import Call
from tests.clock import FakeClock
from tests.fakes.zoho import FakeZoho


def test_missing_credential_fails_before_the_data_folder_is_made(env: dict[str, str], data_dir: Path) -> None:
    settings = load_settings(environ={**env, "ZOHO_REFRESH_TOKEN": ""}, env_file=None)
    with pytest.raises(ConfigError, match="ZOHO_REFRESH_TOKEN"):
        build_core(settings)
    assert not data_dir.exists()


def test_broken_modules_file_fails_before_the_data_folder_is_made(
    env: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    modules = tmp_path / "modules.toml"
    modules.write_text("[[modules]]\nname = 'no ids'\n", encoding="utf-8")
    settings = load_settings(environ={**env, "BOT_MODULES_FILE": str(modules)}, env_file=None)
    with pytest.raises(ConfigError, match="BOT_MODULES_FILE"):
        build_core(settings)
    assert not data_dir.exists()


async def test_build_makes_no_call_and_close_waits_for_refreshes(
    env: dict[str, str], fz: FakeZoho, clock: FakeClock, data_dir: Path
) -> None:
    core = build_core(load_settings(environ=env, env_file=None), clock=clock)
    assert fz.requests == []
    assert (data_dir / "zoho-state").is_dir()
    await core.zoho.courses(Call())
    await core.aclose()
    assert [r.status for r in fz.calls()] == [200]
