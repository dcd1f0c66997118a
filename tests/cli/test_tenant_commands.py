"""`python -m bot tenants` and `tenants forget TEAM`, as a terminal runs them, on the bot's store."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.secrets import Secrets
from bot.sessions.modules import ModuleRef
from bot.store.store import Store
from bot.tenants import Tenant
from tests.conftest import run_sync
from tests.fakes.zoho_data import zoho_id

GDPR = ModuleRef(zoho_id(100003), zoho_id(200004), zoho_id(300009), "GDPR Basics")
NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)


async def _two_tenants(data: Path) -> None:
    root = await Store.open(f"sqlite+aiosqlite:///{data / 'bot.sqlite3'}", Secrets.from_setting("k" * 40))
    try:
        one, two = root.tenant(Tenant("T1")), root.tenant(Tenant("T2"))
        await one.save_digest("C1", GDPR, time(8), frozenset(range(7)), "UTC", "U1", NOW)
        await one.save_reminder("U1", GDPR, timedelta(hours=1), NOW)
        await one.pause_user_reminders("U1", "dm_closed")
        await one.save_connection("workspace", "1000.token", ("eu", "https://a", "https://p"), "U1", NOW)
        await two.save_reminder("U9", GDPR, timedelta(hours=1), NOW)
    finally:
        await root.close()


def test_tenants_lists_each_with_its_zoho_and_subscriptions_and_forget_deletes_one(
    terminal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal.mkdir(parents=True)
    run_sync(_two_tenants(terminal))

    assert main(["tenants"]) == 0
    header, _, first, second = capsys.readouterr().out.splitlines()
    assert header.split() == ["tenant", "zoho", "connected", "at", "digests", "reminders", "paused"]
    assert first.split() == ["T1", "eu", "2026-03-10", "07:00", "UTC", "1", "1", "dm_closed", "(1)"]
    assert second.split() == ["T2", "not", "connected", "0", "1"]

    assert main(["tenants", "forget", "T1"]) == 0
    assert capsys.readouterr().out.startswith("Deleted every row of T1")
    assert main(["tenants"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]] == ["T2"]

    assert main(["tenants", "forget", "T1"]) == 1, "already gone: said, not silently done"
    assert "nothing deleted" in capsys.readouterr().out
