"""The two transports: an aiohttp server (HTTP mode) and the Socket Mode runner.

HTTP mode serves commands, events and interactivity at `/slack/events`, each
request's signature checked by Bolt. `/healthz` answers in both modes whenever
`$PORT` is set, so a platform can probe the process.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def web_app(bolt: AsyncApp | None) -> web.Application:
    """`/healthz` always; `/slack/events` when Slack reaches the bot over HTTP."""
    app = web.Application()
    app.router.add_get(HEALTH_PATH, _healthz)
    if bolt is not None:

        async def events(request: web.Request) -> web.Response:
            response = await bolt.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(response)

        app.router.add_post(EVENTS_PATH, events)
    return app


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


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
