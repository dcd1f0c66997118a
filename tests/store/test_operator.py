"""`python -m bot check` and the store: SQLite on a platform that wipes its disk is a warning;
a `postgres://` DATABASE_URL, as hosting platforms hand it out, is accepted and used."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from bot.__main__ import main
from bot.store.schema import MIGRATIONS
from tests.conftest import run_sync
from tests.store.postgres import PostgresServer

WIPED_DISK = (
    "warning: This platform wipes the disk on restart: subscriptions in SQLite would be lost. "
    "Set DATABASE_URL to a PostgreSQL database."
)


def test_check_on_a_dyno_without_a_database_url_warns_about_postgresql(
    terminal: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DYNO", "web.1")

    assert main(["check"]) == 1

    lines = capsys.readouterr().out.splitlines()
    assert "Store: ok (sqlite)" in lines
    assert "Slack: ok, bot user sessions-bot in Test Team" in lines
    assert lines[-1] == WIPED_DISK


def test_check_without_a_dyno_is_quiet_about_sqlite(
    terminal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "Store: ok (sqlite)" in out
    assert "warning" not in out
    assert (terminal / "bot.sqlite3").is_file()


def test_a_postgres_url_from_the_platform_is_accepted_and_used(
    terminal: Path,
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = postgres_server.fresh_database()
    platform_url = url.replace("postgresql+asyncpg://", "postgres://")
    monkeypatch.setenv("DYNO", "web.1")
    monkeypatch.setenv("DATABASE_URL", platform_url)

    assert main(["check"]) == 0

    out = capsys.readouterr().out
    assert "Store: ok (postgresql)" in out
    assert "warning" not in out
    assert not (terminal / "bot.sqlite3").exists()
    assert run_sync(_versions(platform_url)) == sorted(MIGRATIONS), "the schema was created in that database"


async def _versions(url: str) -> list[int]:
    """Read the database directly (opening a Store would create the schema itself)."""
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://"))
    try:
        return [row["version"] for row in await connection.fetch("SELECT version FROM schema_version")]
    finally:
        await connection.close()
