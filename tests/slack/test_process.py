"""The whole program: `python -m bot` serving HTTP mode, as the Procfile's `web` process runs it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.fakes.signing import signed_headers, slash_command_body
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import sample_org
from tests.slack.harness import SECRET, elements, session_names

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30.0
T = TypeVar("T")


@pytest.fixture
def live_zoho() -> Iterator[FakeZoho]:
    """A fake Zoho on the real clock, with sample data around today (UTC), for a real process."""
    with FakeZoho(sample_org(datetime.now(UTC).date())) as fake:
        yield fake


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _base_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: nothing from the developer's shell or `.env` leaks in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "BOT_DATA_DIR": str(tmp_path / "data"),
    }


def _poll(probe: Callable[[], T | None], deadline: float, what: str, proc: subprocess.Popen[bytes]) -> T:
    """Ask `probe` until it answers, the process dies, or the deadline passes."""
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the bot exited with {proc.returncode} while waiting for {what}")
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {STARTUP_SECONDS} s")
        time.sleep(0.05)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_python_m_bot_serves_http_mode_end_to_end(
    tmp_path: Path, slack: FakeSlack, live_zoho: FakeZoho, log_format: str
) -> None:
    port = _free_port()
    env = {
        **_base_env(tmp_path),
        "PORT": str(port),
        "LOG_FORMAT": log_format,
        **live_zoho.bot_environment(),
        "ZOHO_TIMEZONE": "UTC",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
    }
    log = tmp_path / "bot.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        with httpx.Client(timeout=10) as http:
            deadline = time.monotonic() + STARTUP_SECONDS

            def healthy() -> dict[str, object] | None:
                try:
                    response = http.get(f"{base}/healthz")
                except httpx.TransportError:
                    return None
                return response.json() if response.status_code == 200 else None

            assert _poll(healthy, deadline, "answer on /healthz", proc) == {"ok": True}

            def command(text: str) -> httpx.Response:
                body = slash_command_body(text=text, response_url=slack.response_url("proc"))
                return http.post(f"{base}/slack/events", content=body, headers=signed_headers(body, SECRET))

            def picker_of_every_module() -> list[object] | None:
                """`/sessions` shows a picker once discovery (run at start-up) has walked the catalog."""
                selects = [e for e in elements(command("").json()) if e["type"] == "static_select"]
                return selects[0]["options"] if selects and len(selects[0]["options"]) == 11 else None

            _poll(picker_of_every_module, deadline, "module picker with all 11 modules", proc)

            answer = command("Tools & Systems")
            assert answer.status_code == 200
            assert answer.json()["response_type"] == "ephemeral"
            assert session_names(answer.json()) == [
                "Laptop & accounts setup",
                "Slack and e-mail etiquette",
                "Expense tool walkthrough",
            ]
            scraped = http.get(f"{base}/metrics").text
            assert 'sessions_bot_slack_requests_total{kind="command",outcome="ok"}' in scraped
            assert http.get(f"{base}/readyz").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            returncode = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    output = log.read_text()
    assert returncode == 0, output
    assert "Traceback" not in output
    _assert_an_operator_can_read(
        output, log_format, secrets=[SECRET, "xoxb-test", *live_zoho.bot_environment().values()]
    )


def _assert_an_operator_can_read(output: str, log_format: str, secrets: list[str]) -> None:
    """A line per command and Zoho read, in the chosen format, with no secret and no Bolt noise."""
    lines = output.strip().splitlines()
    if log_format == "json":
        events = [json.loads(line) for line in lines]
        commands = [e for e in events if e.get("event") == "slack command"]
        assert commands, output
        assert {"user", "channel", "outcome", "ms", "time", "level", "logger"} <= commands[-1].keys()
        assert any(e.get("event") == "zoho read" and e["outcome"] == "ok" for e in events)
    else:
        assert any(line.split(": ", 1)[-1].startswith("slack command name=/sessions") for line in lines)
        assert any("zoho read path=/api/v1/" in line for line in lines)
    assert "will be unused" not in output
    assert "Tools & Systems" not in output, "what a person typed stays out of the log"
    assert [s for s in secrets if s in output] == []
    assert re.findall(r"\btok-\d+", output) == [], "nor the access tokens the fake Zoho issued"


def test_python_m_bot_without_signing_secret_or_app_token_says_which_and_exits_1(
    tmp_path: Path, live_zoho: FakeZoho
) -> None:
    env = {
        **_base_env(tmp_path),
        **live_zoho.bot_environment(),
        "SLACK_BOT_TOKEN": "xoxb-test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "SLACK_SIGNING_SECRET" in lines[0]
    assert "Traceback" not in done.stderr
    assert live_zoho.requests == []
