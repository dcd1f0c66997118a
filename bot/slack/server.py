"""The two transports: an aiohttp server (HTTP mode) and the Socket Mode runner.

HTTP mode serves commands, events and interactivity at `/slack/events`. Each
request's signature is checked here, before Bolt sees it: a request that fails
(a forged or missing signature, one older or newer than five minutes, a
timestamp that is not a whole number, a body that is not text) gets a 401, nothing
runs for it and nothing is sent anywhere, and the log says so in one line without
its body. The signature is compared over the body's bytes, as Slack computes it, so
no body can make the check itself fail. A signed body that is not a Slack payload
(not UTF-8, not JSON, nested too deeply to parse) gets a 400 and one line too.
aiohttp refuses bodies over 1 MB (413). Whenever `$PORT` is set, in both
modes: `/healthz` (the process answers: cheap, no I/O), `/readyz` (the store
answers within `READY_SECONDS`; 503 when not) and `/metrics` (Prometheus text).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot import metrics

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
READY_SECONDS = 2.0
GAUGES_SECONDS = 2.0
SIGNATURE_WINDOW_SECONDS = 5 * 60
"""Slack's replay window: a request signed longer ago, or further ahead, is refused."""
MAX_TIMESTAMP_DIGITS = 12


@dataclass(frozen=True)
class Probes:
    """What the operator's endpoints ask: whether the store answers, and a refresh of the gauges
    read from shared state (Zoho's budget and lock) just before a scrape."""

    store_answers: Callable[[], Awaitable[bool]]
    refresh_gauges: Callable[[], Awaitable[None]]


def web_app(bolt: AsyncApp | None, signing_secret: str | None, probes: Probes) -> web.Application:
    """The operator's endpoints always; `/slack/events` when Slack reaches the bot over HTTP
    (`bolt` given)."""
    app = web.Application()
    app.router.add_get(HEALTH_PATH, _healthz)
    app.router.add_get(READY_PATH, _readyz(probes))
    app.router.add_get(METRICS_PATH, _metrics(probes))
    if bolt is not None:
        if not signing_secret:
            raise ValueError("HTTP mode needs the signing secret to verify requests")
        secret = signing_secret.encode()

        async def events(request: web.Request) -> web.Response:
            if not _signed(secret, await request.read(), request.headers):
                log.warning("refused a request to %s: its signature does not verify", EVENTS_PATH)
                metrics.SLACK_REQUESTS.labels("unverified", "refused").inc()
                return web.Response(status=401, text="invalid request signature")
            try:
                bolt_request = await to_bolt_request(request)
            except (ValueError, TypeError, AttributeError, KeyError):
                log.warning("refused a signed request whose body could not be read as Slack's")
                metrics.SLACK_REQUESTS.labels("unreadable", "refused").inc()
                return web.Response(status=400, text="malformed request")
            response = await bolt.async_dispatch(bolt_request)
            return await to_aiohttp_response(response)

        app.router.add_post(EVENTS_PATH, events)
    return app


def _signed(secret: bytes, body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's `v0` signature of `body`'s bytes, made within the window; never raises, whatever
    the headers and body hold."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
        return False
    if not signature.isascii() or abs(time.time() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), signature.encode())


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


Handler = Callable[[web.Request], Awaitable[web.Response]]


def _readyz(probes: Probes) -> Handler:
    async def readyz(_: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(READY_SECONDS):
                ready = await probes.store_answers()
        except TimeoutError:
            ready = False
        if not ready:
            log.warning("not ready: the store does not answer")
        return web.json_response({"ok": ready, "store": ready}, status=200 if ready else 503)

    return readyz


def _metrics(probes: Probes) -> Handler:
    async def scrape(_: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(GAUGES_SECONDS):
                await probes.refresh_gauges()
        except Exception as exc:  # a scrape shows what it has; the cause is one log line
            log.warning("metrics: shared gauges not refreshed (%s)", type(exc).__name__)
        body, content_type = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    return scrape


async def start_http(app: web.Application, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("listening on %s:%d", host, port)
    return runner


async def run_socket_mode(bolt: AsyncApp, app_token: str, stop: asyncio.Event) -> None:
    """Hold a Socket Mode connection until `stop` is set, even while Slack cannot be reached
    (slack_sdk keeps retrying the connection; a platform's SIGTERM must still end us)."""
    handler = AsyncSocketModeHandler(bolt, app_token)
    connecting = asyncio.ensure_future(handler.connect_async())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connecting in done:
            connecting.result()
            log.info("connected to Slack in Socket Mode")
            await stopping
    finally:
        for task in (connecting, stopping):
            task.cancel()
        await asyncio.gather(connecting, stopping, return_exceptions=True)
        await handler.close_async()
