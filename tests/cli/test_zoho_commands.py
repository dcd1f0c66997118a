"""Operator commands end to end: `python -m bot preview|modules|check|zoho-token` against the fake.

These run `main()` as a terminal would: settings from the environment (and a
`.env` in the working folder), the real clock, and plain text on stdout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import diskcache
import pytest

from bot.__main__ import main
from bot.cli.zoho_commands import CLEAR_TOKEN, UNSET_TIMEZONE
from bot.config import VARIABLES
from tests.conftest import TERMINAL_KEY
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, module_with_sessions, sample_org, zoho_id

ROOT = Path(__file__).resolve().parents[2]
PAGED = f"{zoho_id(190001)}/{zoho_id(290001)}/{zoho_id(390001)}"


@pytest.fixture
def live_fz() -> Iterator[FakeZoho]:
    """The commands use the real clock, so the fake does too and its sessions sit around today."""
    today = datetime.now(UTC).date()
    sample, paged = sample_org(today), module_with_sessions(60, today)
    with FakeZoho(Org(courses=sample.courses + paged.courses, trainers=sample.trainers)) as fake:
        yield fake


@pytest.fixture
def terminal(live_fz: FakeZoho, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder and an environment pointing at the fake; returns the working folder."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    for name, value in live_fz.bot_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ZOHO_TIMEZONE", "UTC")
    monkeypatch.setenv("BOT_SECRET_KEY", TERMINAL_KEY)
    return tmp_path


def test_preview_by_ids_of_a_sixty_session_module(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview", PAGED]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"Module {zoho_id(390001)}")
    assert lines[1] == "Upcoming sessions, the next 14 days:"
    assert lines[2].split() == ["When", "Session", "Type", "Trainer", "Room", "Learners"]
    shown = {line.split("  ")[1].strip() for line in lines[4:] if line.strip()}
    assert {f"Session {k}" for k in range(2, 15)} <= shown
    assert not shown & {f"Session {k}" for k in range(16, 61)}
    assert "Henry Martin" in out
    assert "Room One" in out
    assert len(live_fz.calls()) == 3
    assert [r.query["startIndex"] for r in live_fz.calls()] == ["0", "25", "50"]
    assert len(live_fz.token_requests()) == 1


def test_preview_by_alias_with_a_named_window(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (terminal / "modules.toml").write_text(
        f"""[[modules]]
name = "Paged Module"
aliases = ["paging"]
course = "{zoho_id(190001)}"
batch = "{zoho_id(290001)}"
module = "{zoho_id(390001)}"
course_name = "Paging Course"
batch_name = "Paged Batch"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("BOT_MODULES_FILE", "modules.toml")
    assert main(["preview", "--window", "week", "Paging"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Paged Module  (Paging Course › Paged Batch › Paged Module)\n")
    assert "Upcoming sessions, the next 7 days:" in out
    assert "Session 7" in out
    assert "Session 9" not in out
    assert len(live_fz.calls()) == 3


def test_preview_on_a_new_install_discovers_the_catalog_once_for_a_name_it_does_not_know(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview", "Introduction"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("'Introduction' could mean several modules")
    assert "Onboarding › Cohort A › Introduction" in out
    assert "Onboarding › Cohort B › Introduction" in out
    searches = [r.query.get("search") for r in live_fz.calls() if r.path == "/api/v1/courses"]
    assert searches == ["Introduction", None], "the course search, then one walk"

    live_fz.clear()
    assert main(["preview", "xyzzy"]) == 2
    assert capsys.readouterr().out.startswith("No module called 'xyzzy'. Nearest:")
    assert all(r.path == "/api/v1/courses" for r in live_fz.calls()), "no second walk"


def test_modules_walks_then_preview_lists_the_ambiguity(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["modules"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Discovering modules in Zoho")
    assert lines[1].split("  ")[0] == "Module"
    rows = lines[3:]
    assert len(rows) == 12
    assert any(
        row.startswith("Sécurité au travail") and "Onboarding" in row and "Cohort A" in row for row in rows
    )
    assert any(f"{zoho_id(190001)}/{zoho_id(290001)}/{zoho_id(390001)}" in row for row in rows)
    walk_calls = len(live_fz.calls())
    assert walk_calls == 1 + 4 + 6  # courses, batches of 4 courses, modules of 6 batches

    assert main(["modules"]) == 0
    assert not capsys.readouterr().out.startswith("Discovering"), "the walk is kept on disk"
    assert len(live_fz.calls()) == walk_calls

    assert main(["preview", "introduction"]) == 2
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "'introduction' could mean several modules; name one of these:",
        f"  Onboarding › Cohort A › Introduction  ({zoho_id(100001)}/{zoho_id(200001)}/{zoho_id(300001)})",
        f"  Onboarding › Cohort B › Introduction  ({zoho_id(100001)}/{zoho_id(200002)}/{zoho_id(300004)})",
    ]
    assert len(live_fz.calls()) == walk_calls


def test_check_reaches_zoho(terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert capsys.readouterr().out.splitlines()[:9] == [
        "Mode: one workspace (SLACK_BOT_TOKEN)",
        "Zoho connection: the operator's (ZOHO_REFRESH_TOKEN)",
        f"Zoho token: ok ({live_fz.url})",
        f"Zoho People LMS: ok, 4 blended course(s) on the first page ({live_fz.url})",
        "Time zone: UTC (set by the operator)",
        "Date format: %d-%m-%Y (the default)",
        "Zoho calls in the last 60 s: 1 of 25 (ZOHO_CALLS_PER_MINUTE)",
        "Zoho calls in the last 24 h: 1 of 2500 (ZOHO_CALLS_PER_DAY)",
        "Zoho lock: none",
    ]
    assert len(live_fz.token_requests()) == 1
    assert len(live_fz.calls()) == 1


def test_check_warns_when_the_timezone_is_not_set(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOHO_TIMEZONE")
    assert main(["check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == f"Zoho token: ok ({live_fz.url})"
    assert lines[-2] == "Slack: not checked (SLACK_BOT_TOKEN is not set)"
    assert lines[-1] == f"warning: {UNSET_TIMEZONE}"
    assert lines[-1].startswith("warning: ZOHO_TIMEZONE is not set")
    assert "UTC" in lines[-1]
    assert "Europe/Paris" in lines[-1]


def test_check_says_when_zoho_has_locked_the_api(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str]
) -> None:
    live_fz.answer_429_next(1)
    assert main(["preview", "gdpr basics"]) == 1
    capsys.readouterr()
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert "Zoho has paused API access after too many calls" in captured.err


def test_bad_configuration_is_one_sentence(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOHO_CALLS_PER_MINUTE", "99")
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: ZOHO_CALLS_PER_MINUTE must be between 1 and 30, not 99.\n"
    assert live_fz.requests == []


def test_serve_names_every_missing_setting_and_wrong_value_in_one_go(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOHO_CLIENT_SECRET")
    monkeypatch.setenv("PORT", "abc")
    monkeypatch.setenv("LOG_FORMAT", "xml")
    assert main([]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "error: 5 settings need fixing:",
        "  PORT must be a whole number, not 'abc'.",
        "  LOG_FORMAT must be one of text, json, not 'xml'.",
        "  ZOHO_CLIENT_SECRET is not set: copy it from the Self Client in Zoho's API console "
        "(see the README, 'Connecting Zoho').",
        "  SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your Slack app.",
        "  SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests "
        "(or set SLACK_APP_TOKEN to use Socket Mode).",
    ]
    assert live_fz.requests == []
    assert not (terminal / "data").exists()


def test_scheduler_needs_the_bot_token_but_no_signing_secret(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "loud")
    assert main(["scheduler"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: 2 settings need fixing:",
        "  LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, not 'loud'.",
        "  SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your Slack app.",
    ]
    assert live_fz.requests == []


def test_configuration_comes_from_dot_env_in_the_working_folder(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOHO_REFRESH_TOKEN")
    (terminal / ".env").write_text(f"ZOHO_REFRESH_TOKEN={live_fz.refresh_token}\n", encoding="utf-8")
    assert main(["check"]) == 0
    assert live_fz.token_requests()[0].form["refresh_token"] == live_fz.refresh_token


def test_missing_refresh_token_is_named(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOHO_REFRESH_TOKEN")
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ZOHO_REFRESH_TOKEN is not set")
    assert err.count("\n") == 1
    assert live_fz.requests == []


def test_revoked_refresh_token_fails_check_with_invalid_code(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str]
) -> None:
    live_fz.revoke_refresh_token()
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: Zoho refused the refresh token (invalid_code)")
    assert "ZOHO_REFRESH_TOKEN" in captured.err
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert live_fz.calls() == []


def test_zoho_token_exchanges_a_grant_code(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOHO_REFRESH_TOKEN")
    assert main(["zoho-token", live_fz.grant_code]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == live_fz.refresh_token
    sent = live_fz.token_requests()[0].form
    assert (sent["grant_type"], sent["code"]) == ("authorization_code", live_fz.grant_code)

    assert main(["zoho-token", "1000.expired.code"]) == 1
    assert "invalid_code" in capsys.readouterr().err


def test_help_lists_the_commands() -> None:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in ("serve", "check", "preview", "modules", "zoho-token"):
        assert command in result.stdout
    assert result.stderr == ""


def test_check_warns_that_without_a_key_the_cached_access_token_is_kept_in_clear(
    terminal: Path, live_fz: FakeZoho, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's path keeps working without BOT_SECRET_KEY; check says what that costs."""
    monkeypatch.delenv("BOT_SECRET_KEY")
    assert main(["check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"warning: {CLEAR_TOKEN}"
    (token,) = live_fz.live_tokens()
    assert token in kept(terminal / "data" / "zoho-state"), "as the warning says"

    monkeypatch.setenv("BOT_SECRET_KEY", "another-key-long-enough-for-the-bot-to-take")
    assert main(["check"]) == 0
    values = kept(terminal / "data" / "zoho-state")
    assert live_fz.live_tokens() == [token], "the cached token was used, not renewed"
    assert token not in values, "with a key, the token kept is sealed"
    assert "v1:" in values


def kept(folder: Path) -> str:
    """Every value the shared Zoho state holds now (not stale pages of its file)."""
    with diskcache.Cache(str(folder)) as cache:
        return " ".join(str(cache.get(key)) for key in cache.iterkeys())
