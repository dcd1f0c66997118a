"""Both transports: signed HTTP at /slack/events (and /healthz), and Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlencode

import httpx
import pytest

from bot.slack.server import Probes, run_socket_mode, start_http, web_app
from tests.conftest import MakeBot
from tests.fakes.signing import signed_headers, slash_command_body, slash_command_payload
from tests.slack.harness import SlackBot, header, session_names

TOOLS = ["Laptop & accounts setup", "Slack and e-mail etiquette", "Expense tool walkthrough"]


def _module_calls(sb: SlackBot) -> list[str]:
    return [r.path for r in sb.zoho.calls() if r.path.endswith("/sessions")]


async def test_forged_signature_is_refused_before_any_handler_runs(walked: SlackBot) -> None:
    forged = await walked.command("Tools & Systems", secret="not-the-signing-secret")

    assert forged.status == 401
    assert not forged.http.content or "blocks" not in forged.http.text
    assert walked.zoho.requests == []
    assert walked.slack.calls == []
    assert walked.slack.responses == []

    # The same request signed properly runs the handler: exactly one fetch, the valid one's.
    valid = await walked.command("Tools & Systems")
    assert valid.status == 200
    assert session_names(valid.body) == TOOLS
    assert len(_module_calls(walked)) == 1


async def test_tampered_body_is_refused(walked: SlackBot) -> None:
    body = slash_command_body(text="Tools & Systems", response_url=walked.slack.response_url("x"))
    headers = signed_headers(body, walked.secret)
    tampered = await walked.post(body.replace("Tools", "Tolls"), headers)
    assert tampered.status == 401
    assert walked.zoho.requests == []


async def test_replayed_request_older_than_five_minutes_is_refused(walked: SlackBot) -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    replay = await walked.command("Tools & Systems", timestamp=six_minutes_ago)
    assert replay.status == 401
    assert walked.zoho.requests == []
    assert walked.slack.calls == []

    recent = await walked.command("Tools & Systems", timestamp=int(time.time()) - 60)
    assert recent.status == 200
    assert session_names(recent.body) == TOOLS


async def test_missing_signature_headers_are_refused(walked: SlackBot) -> None:
    body = slash_command_body(text="Tools & Systems")
    sent = await walked.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert sent.status == 401
    assert walked.zoho.requests == []


@pytest.mark.parametrize("timestamp", ["abc", "", "1.5", "-1", "1e9", "9" * 5000])
async def test_a_timestamp_that_is_not_a_whole_number_is_refused_and_nothing_is_sent(
    walked: SlackBot, timestamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a probe: such a request crashed signature checking, and the error handler then
    posted "Something went wrong" to the response_url of the unverified body. (5,000 digits are
    more than Python turns into a number: that one got a 500.)"""
    body = slash_command_body(
        text="Tools & Systems " + "x" * 5000, response_url=walked.slack.response_url("x")
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    with caplog.at_level(logging.DEBUG):
        sent = await walked.post(body, headers)

    assert sent.status == 401
    assert walked.zoho.requests == []
    assert walked.slack.calls == []
    assert walked.slack.responses == [], "nothing is posted anywhere for an unverified request"
    assert "x" * 100 not in caplog.text, "the log carries no request body"


async def test_a_future_dated_signature_is_refused(walked: SlackBot) -> None:
    future = await walked.command("Tools & Systems", timestamp=int(time.time()) + 6 * 60)
    assert future.status == 401
    assert walked.zoho.requests == []


async def test_ssl_check_is_answered(sb: SlackBot) -> None:
    body = urlencode({"ssl_check": "1", "token": "verification-token-fake"})
    sent = await sb.post(body, signed_headers(body, sb.secret))
    assert sent.status == 200
    assert sb.zoho.requests == []


async def test_healthz_answers_json_in_http_mode(sb: SlackBot) -> None:
    response = await sb.http.get(f"http://127.0.0.1:{sb.port}/healthz")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"ok": True}


async def _answers() -> bool:
    return True


async def _nothing() -> None:
    return None


async def test_healthz_alone_when_slack_uses_socket_mode() -> None:
    runner = await start_http(web_app(None, None, Probes(_answers, _nothing)), port=0, host="127.0.0.1")
    try:
        port = runner.addresses[0][1]
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
            events = await http.post(f"http://127.0.0.1:{port}/slack/events", content=b"x")
        assert health.status_code == 200
        assert health.json() == {"ok": True}
        assert events.status_code in (404, 405)
    finally:
        await runner.cleanup()


async def test_socket_mode_acks_a_command_with_the_listing(make_bot: MakeBot) -> None:
    sb = await make_bot(SLACK_APP_TOKEN="xapp-test", SLACK_SIGNING_SECRET="")
    await sb.walk()
    stop = asyncio.Event()
    task = asyncio.create_task(run_socket_mode(sb.bot.bolt, "xapp-test", stop))
    try:
        await sb.slack.wait_socket_connected_async(timeout=10)
        assert [c.token for c in sb.slack.calls_to("apps.connections.open")] == ["xapp-test"]

        payload = slash_command_payload(text="Tools & Systems", response_url=sb.slack.response_url("sm"))
        envelope = sb.slack.socket_send(payload)
        ack = await sb.slack.wait_for_ack_async(envelope, timeout=10)

        assert ack.payload["response_type"] == "ephemeral"
        assert header(ack.payload) == "Tools & Systems"
        assert session_names(ack.payload) == TOOLS
        assert sb.slack.responses == []
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert task.exception() is None
    await sb.slack.wait_for_async(lambda: not sb.slack.socket_connected, 5, "the socket to close")


async def test_socket_mode_stops_on_request_while_slack_cannot_be_reached(make_bot: MakeBot) -> None:
    """slack_sdk retries a refused connection forever; a platform's SIGTERM must still end the bot."""
    sb = await make_bot(SLACK_APP_TOKEN="xapp-test", SLACK_SIGNING_SECRET="")
    sb.slack.error_next("apps.connections.open", "internal_error", n=1000)
    stop = asyncio.Event()
    task = asyncio.create_task(run_socket_mode(sb.bot.bolt, "xapp-test", stop))
    await sb.slack.wait_for_calls_async("apps.connections.open", 1, timeout=10)

    stop.set()
    await asyncio.wait_for(task, timeout=10)

    assert task.exception() is None
    assert not sb.slack.socket_connected
