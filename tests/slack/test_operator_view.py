"""What an operator sees: a log line per command and Zoho read, `/metrics` and `/readyz`."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.logs import MAX_MESSAGE_CHARS, REDACTED, Redacting, configure, record, tenant_context
from bot.sessions.modules import ModuleRef
from bot.slack.server import Probes, start_http, web_app
from bot.store.store import Store
from tests.conftest import MakeBot
from tests.fakes.signing import signed_headers
from tests.slack.harness import SlackBot


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(sb: SlackBot) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await sb.http.get(f"http://127.0.0.1:{sb.port}/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(response.text)


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


async def test_a_command_is_one_line_with_ids_outcome_and_time_but_not_its_text(
    walked: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    sent = await walked.command("tools secret-looking words")
    assert sent.status == 200

    (line,) = lines(caplog, "bot.slack.observe")
    message = line.getMessage()
    assert message.startswith("slack command name=/sessions user=U1 channel=C1 outcome=ok ms=")
    assert "secret-looking" not in message
    assert line.fields["outcome"] == "ok"


async def test_a_subcommand_is_named_but_what_follows_it_is_not(
    walked: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    await walked.command("remind tools 1h")
    await walked.command("digestive biscuits")

    names = [r.fields["name"] for r in lines(caplog, "bot.slack.observe")]
    assert names == ["/sessions remind", "/sessions"]
    assert not [r for r in caplog.records if "biscuits" in r.getMessage()]


async def test_a_slow_answer_is_logged_once_when_it_reaches_the_person(
    walked: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    walked.zoho.delay = 2.5  # past the ack budget: a placeholder, then the answer
    caplog.clear()
    sent = await walked.command("tools")
    await walked.followup(sent)
    walked.zoho.delay = 0.0

    # The line is written once Slack has the answer: poll for it rather than race the bot.
    (line,) = await walked.slack.wait_for_async(lambda: lines(caplog, "bot.slack.observe"), what="log line")
    assert "outcome=ok" in line.getMessage()
    assert line.fields["ms"] >= 2000, "the time until the answer, not until the placeholder"


async def test_each_zoho_read_is_a_line_with_its_path_and_outcome(
    walked: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    await walked.command("tools")

    reads = [r.getMessage() for r in lines(caplog, "bot.zoho.client")]
    assert reads, "the listing read Zoho"
    assert all(r.startswith("zoho read path=/api/v1/courses/") and "outcome=ok" in r for r in reads)


async def test_metrics_count_commands_and_zoho_calls_and_show_the_budget(walked: SlackBot) -> None:
    before = await scrape(walked)
    await walked.command("tools")
    await walked.command("no such module at all")
    after = await scrape(walked)

    commands = "sessions_bot_slack_requests_total"
    assert (
        value(after, commands, kind="command", outcome="ok")
        - value(before, commands, kind="command", outcome="ok")
        == 2
    )
    zoho = "sessions_bot_zoho_calls_total"
    endpoint = "/api/v1/courses/{id}/batches/{id}/modules/{id}/sessions"
    assert value(after, zoho, endpoint=endpoint, outcome="ok") > value(
        before, zoho, endpoint=endpoint, outcome="ok"
    )
    assert 0 < value(after, "sessions_bot_zoho_budget_left", window="minute") < 25
    assert value(after, "sessions_bot_zoho_budget_left", window="day") > 0
    assert value(after, "sessions_bot_zoho_locked") == 0
    assert value(after, "sessions_bot_slack_request_seconds_count", kind="command") >= 2


async def test_tenants_are_counted_by_state_without_a_label_per_tenant(walked: SlackBot) -> None:
    """The operator's Zoho token connects the bot's workspace; a paused reminder pauses it."""
    reminder = await walked.bot.store.save_reminder(
        "U1", ModuleRef("c", "b", "m", "Induction"), timedelta(hours=1), walked.clock.now()
    )
    await walked.bot.store.pause_user_reminders(reminder.user_id, "dm_closed")

    scraped = await scrape(walked)

    counts = {
        state: value(scraped, "sessions_bot_tenants", state=state)
        for state in ("installed", "connected", "paused")
    }
    assert counts == {"installed": 1, "connected": 1, "paused": 1}


async def test_refused_requests_are_counted_by_why(walked: SlackBot) -> None:
    before = await scrape(walked)
    forged = await walked.command("tools", secret="not-the-secret")
    unreadable = await walked.post(
        "payload=%7Bnot+json", signed_headers("payload=%7Bnot+json", walked.secret)
    )
    after = await scrape(walked)

    assert (forged.status, unreadable.status) == (401, 400)
    name = "sessions_bot_slack_requests_total"
    for kind in ("unverified", "unreadable"):
        grown = value(after, name, kind=kind, outcome="refused") - value(
            before, name, kind=kind, outcome="refused"
        )
        assert grown == 1, kind
    assert not [k for k in after if k[0].endswith("_created")], "no *_created series"


async def test_readyz_says_whether_the_store_answers(walked: SlackBot) -> None:
    ready = await walked.http.get(f"http://127.0.0.1:{walked.port}/readyz")
    assert (ready.status_code, ready.json()) == (200, {"ok": True, "store": True})


async def test_readyz_is_503_when_the_store_is_unreachable_or_hangs(unused_tcp_port: int) -> None:
    unreachable = Store(f"postgresql+asyncpg://bot:pw@127.0.0.1:{unused_tcp_port}/bot")

    async def hangs() -> bool:
        await asyncio.Event().wait()
        return True

    async def nothing() -> None:
        return None

    try:
        for answers in (unreachable.answers, hangs):
            runner = await start_http(web_app(None, None, Probes(answers, nothing)), port=0, host="127.0.0.1")
            try:
                async with httpx.AsyncClient() as http:
                    port = runner.addresses[0][1]
                    ready = await http.get(f"http://127.0.0.1:{port}/readyz")
                    health = await http.get(f"http://127.0.0.1:{port}/healthz")
                assert (ready.status_code, ready.json()["store"]) == (503, False)
                assert health.status_code == 200, "healthz stays cheap"
            finally:
                await runner.cleanup()
    finally:
        await unreachable.close()


def test_json_lines_carry_the_fields_and_no_secret() -> None:
    stream = io.StringIO()
    handler = configure("INFO", "json", secrets=["s3cret-value"], stream=stream)
    try:
        log = logging.getLogger("bot.test")
        record(log, "slack command", name="/sessions", user="U1", outcome="ok", ms=12.3)
        log.warning("token xoxb-123-abc and s3cret-value and Zoho-oauthtoken 1000.abcdef12.34567890ab")
        log.info("x" * (MAX_MESSAGE_CHARS * 3))
    finally:
        logging.getLogger().removeHandler(handler)

    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["event"] == "slack command"
    assert (first["user"], first["outcome"], first["ms"]) == ("U1", "ok", 12.3)
    assert first["message"] == "slack command name=/sessions user=U1 outcome=ok ms=12"
    assert "xoxb-123" not in second["message"]
    assert "s3cret" not in second["message"]
    assert "1000.abcdef12" not in second["message"]
    assert second["message"].count(REDACTED) == 3
    assert len(third["message"]) == MAX_MESSAGE_CHARS


def test_text_lines_are_redacted_too() -> None:
    formatter = Redacting(json_lines=False, secrets=["refresh-me"])
    line = logging.LogRecord("bot", logging.INFO, __file__, 1, "got %s", ("refresh-me xapp-1-A",), None)
    assert formatter.format(line).endswith(f"bot: got {REDACTED} {REDACTED}")


async def test_the_passed_client_warning_is_gone(
    make_bot: MakeBot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")  # as where the bot runs: Bolt reads it too
    caplog.clear()
    await make_bot()
    assert not [r for r in caplog.records if r.name.startswith("slack_bolt")]


def test_a_connect_links_state_and_zohos_code_are_redacted() -> None:
    """At DEBUG, slack_sdk logs the App Home it publishes: its Connect link holds a live state."""
    formatter = Redacting(json_lines=False, secrets=[])
    url = (
        "https://bot.example/zoho/connect?state=eyJ3IjoiVDEifQ.c2lnbmF0dXJl and "
        "/zoho/oauth_redirect?code=1000.x&state=a.b"
    )
    line = logging.LogRecord("slack_sdk", logging.DEBUG, __file__, 1, "%s", (url,), None)
    text = formatter.format(line)
    assert "eyJ3IjoiVDEifQ" not in text
    assert "1000.x" not in text
    assert text.count(REDACTED) == 3


def test_a_calendar_feeds_address_is_redacted() -> None:
    """aiohttp logs the request line of a request it refuses (one too long), address and all."""
    formatter = Redacting(json_lines=False, secrets=[])
    token = "Qm9vbGVhbnMtYXJlLW5vdC1zZWNyZXRzLWJ1dC10aGlz"
    request_line = f"bytearray(b'/calendar/{token}.ics?x=xxx')"
    line = logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1, "%s", (request_line,), None)
    text = formatter.format(line)
    assert token not in text
    assert f"/calendar/{REDACTED}.ics" in text


def test_a_line_logged_for_a_tenant_names_it_in_text_and_json() -> None:
    line = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "zoho read path=/a", None, None)
    with tenant_context("T123"):
        text = Redacting(json_lines=False).format(line)
        as_json = json.loads(Redacting(json_lines=True).format(line))
    assert text.endswith("bot.x: zoho read path=/a tenant=T123")
    assert as_json["tenant"] == "T123"
    assert "tenant" not in Redacting(json_lines=False).format(line), "outside a tenant's work: no tenant"
