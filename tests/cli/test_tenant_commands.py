"""`python -m bot tenants` and `tenants forget TEAM`, as a terminal runs them, on the bot's store."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation

from bot.__main__ import main
from bot.secrets import Secrets
from bot.sessions.modules import ModuleRef
from bot.slack.installations import open_slack_stores
from bot.store.store import Store
from bot.tenants import Tenant
from tests.conftest import TERMINAL_KEY, run_sync
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import zoho_id

GDPR = ModuleRef(zoho_id(100003), zoho_id(200004), zoho_id(300009), "GDPR Basics")
NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)


async def _two_tenants(data: Path, zoho_url: str) -> None:
    root = await Store.open(f"sqlite+aiosqlite:///{data / 'bot.sqlite3'}", Secrets.from_setting(TERMINAL_KEY))
    try:
        one, two = root.tenant(Tenant("T1")), root.tenant(Tenant("T2"))
        await one.save_digest("C1", GDPR, time(8), frozenset(range(7)), "UTC", "U1", NOW)
        await one.save_reminder("U1", GDPR, timedelta(hours=1), NOW)
        await one.pause_user_reminders("U1", "dm_closed")
        await one.save_connection("workspace", "1000.token-of-T1", ("eu", zoho_url, zoho_url), "U1", NOW)
        await two.save_reminder("U9", GDPR, timedelta(hours=1), NOW)
    finally:
        await root.close()


def test_tenants_lists_each_with_its_zoho_and_subscriptions_and_forget_revokes_and_deletes_one(
    terminal: Path, live_zoho: FakeZoho, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal.mkdir(parents=True)
    run_sync(_two_tenants(terminal, live_zoho.url))

    assert main(["tenants"]) == 0
    header, _, first, second = capsys.readouterr().out.splitlines()
    assert header.split() == ["tenant", "zoho", "connected", "at", "digests", "reminders", "paused"]
    assert first.split() == ["T1", "eu", "2026-03-10", "07:00", "UTC", "1", "1", "dm_closed", "(1)"]
    assert second.split() == ["T2", "not", "connected", "0", "1"]

    assert main(["tenants", "forget", "T1"]) == 0
    assert capsys.readouterr().out.strip() == "Deleted every row of T1 (3 rows)."
    assert [r.form.get("token") for r in live_zoho.revoke_requests()] == ["1000.token-of-T1"]
    assert main(["tenants"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]] == ["T2"]

    assert main(["tenants", "forget", "T1"]) == 1, "already gone: said, not silently done"
    assert "nothing deleted" in capsys.readouterr().out


@pytest.fixture
def many_workspaces(terminal: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The terminal of a deployment that workspaces install ("Add to Slack")."""
    for name in ("SLACK_BOT_TOKEN", "ZOHO_REFRESH_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLACK_CLIENT_ID", slack.client_id)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", slack.client_secret)
    monkeypatch.setenv("BOT_PUBLIC_URL", "https://sessions.example.com")
    return terminal


async def _installed(data: Path, client_id: str, zoho_url: str) -> None:
    url = f"sqlite+aiosqlite:///{data / 'bot.sqlite3'}"
    secrets = Secrets.from_setting(TERMINAL_KEY)
    stores = await open_slack_stores(url, client_id, secrets)
    root = await Store.open(url, secrets)
    try:
        for team in ("T1", "T2"):
            bot = Installation(
                app_id="A1",
                team_id=team,
                bot_token=f"xoxb-{team}",
                bot_id="B1",
                bot_user_id="UBOT",
                bot_scopes=["commands"],
                user_id="U1",
                installed_at=NOW.timestamp(),
            )
            await stores.installations.async_save(bot)
        one = root.tenant(Tenant("T1"))
        await one.save_digest("C1", GDPR, time(8), frozenset(range(7)), "UTC", "U1", NOW)
        await one.save_connection("workspace", "1000.token-of-T1", ("eu", zoho_url, zoho_url), "U1", NOW)
    finally:
        await root.close()
        await stores.aclose()


def test_with_many_workspaces_tenants_lists_the_installed_and_forget_uninstalls_one(
    many_workspaces: Path, live_zoho: FakeZoho, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    many_workspaces.mkdir(parents=True)
    run_sync(_installed(many_workspaces, slack.client_id, live_zoho.url))

    assert main(["check"]) == 0
    checked = capsys.readouterr().out
    assert "Mode: many workspaces" in checked
    assert "https://sessions.example.com/slack/oauth_redirect" in checked
    assert "2 workspace(s) installed; 1 connected to Zoho People" in checked

    assert main(["tenants"]) == 0
    header, _, first, second = capsys.readouterr().out.splitlines()
    assert header.split()[:4] == ["tenant", "installed", "at", "zoho"]
    assert first.split()[:5] == ["T1", "2026-03-10", "07:00", "UTC", "eu"]
    assert second.split()[:5] == ["T2", "2026-03-10", "07:00", "UTC", "not"]

    assert main(["tenants", "forget", "T1"]) == 0
    assert "Forgot T1" in capsys.readouterr().out
    assert [r.form.get("token") for r in live_zoho.revoke_requests()] == ["1000.token-of-T1"]
    assert main(["tenants"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]] == ["T2"]
