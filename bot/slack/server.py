"""The two transports: an aiohttp server (HTTP mode) and the Socket Mode runner.

HTTP mode serves commands, events and interactivity at `/slack/events`. Each
request's signature is checked here, before Bolt sees it: a request that fails
(a forged or missing signature, one older or newer than five minutes, a
timestamp that is not a whole number; whatever its body holds) gets a 401, nothing
runs for it and nothing is sent anywhere, and the log says so in one line without
its body. The signature is compared over the body's bytes, as Slack computes it, so
no body can make the check itself fail. A signed body that is not a Slack payload
(not UTF-8, not JSON, nested too deeply to parse) gets a 400 and one line too, as
does one of the wrong shape (`payloads.py`, checked in `ObservedApp`). Socket Mode
refuses the same requests with the same line, and leaves them unacknowledged.
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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot import metrics
from bot.slack.observe import REFUSED

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
PING_SECONDS = 10
"""Bolt's own Socket Mode ping interval."""


@dataclass(frozen=True)
class Probes:
    """What the operator's endpoints ask: whether the store answers, and a refresh of the gauges
    read from shared state (Zoho's budget and lock) just before a scrape."""

    store_answers: Callable[[], Awaitable[bool]]
    refresh_gauges: Callable[[], Awaitable[None]]


def web_app(
    bolt: AsyncApp | None,
    signing_secret: str | None,
    probes: Probes,
    pages: Sequence[web.RouteDef] = (),
) -> web.Application:
    """The operator's endpoints always; `/slack/events` when Slack reaches the bot over HTTP
    (`bolt` given); `pages` for people's browsers (connecting Zoho)."""
    app = web.Application()
    app.router.add_routes(pages)
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
            except UNREADABLE:
                _unreadable("a signed request")
                return web.Response(status=400, text="malformed request")
            response = await bolt.async_dispatch(bolt_request)
            return await to_aiohttp_response(response)

        app.router.add_post(EVENTS_PATH, events)
    return app


UNREADABLE = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)
"""What Bolt raises building its request from a body that is no Slack payload: not UTF-8, not
JSON, nested deeper than the parser goes, fields of other types than Slack's."""


def _unreadable(what: str) -> None:
    log.warning("refused %s whose body could not be read as Slack's", what)
    metrics.SLACK_REQUESTS.labels("unreadable", "refused").inc()


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
    handler = CheckedSocketModeHandler(bolt, app_token)
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


class _CheckedSocketModeClient(SocketModeClient):
    """slack_sdk's client, but a frame nested deeper than Python's parser goes is one line, not a
    traceback (the SDK parses each frame before any handler sees it)."""

    async def process_message(self) -> None:
        try:
            await super().process_message()
        except RecursionError:
            _unreadable("a Socket Mode message")


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler with HTTP mode's refusals. The payload's shape is checked in
    `ObservedApp.async_dispatch`, as over HTTP; a payload from which Bolt cannot even build its
    request is refused with one line; and a refused request, HTTP mode's 400, is left
    unacknowledged (as Bolt leaves any request it does not handle), so nothing runs for it and
    Slack tells the person the app did not answer."""

    def __init__(self, app: AsyncApp, app_token: str) -> None:  # Bolt's, with our client
        self.app = app
        self.app_token = app_token
        self.client = _CheckedSocketModeClient(
            app_token=app_token, logger=app.logger, web_client=app.client, ping_interval=PING_SECONDS
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.time()
        try:
            bolt_request = AsyncBoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req))
        except UNREADABLE:
            _unreadable("a Socket Mode request")
            return
        response = await self.app.async_dispatch(bolt_request)
        if response.status == REFUSED:
            return
        await send_async_response(client, req, response, started)
