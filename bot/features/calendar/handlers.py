"""The calendar addresses (a feed, a session's file) served to calendar apps and browsers, and the
Subscribe and Reset link buttons of App Home and `digest list`.

Each request is one log line with its outcome, never its token. An address the bot
did not make, a reset one and one that never existed all get the same 404.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.features.calendar.feeds import FEED_PATH, CalendarFeeds, Listed, feed_token, token_hash
from bot.features.calendar.limiter import RateLimiter
from bot.features.calendar.links import SESSION_PATH
from bot.features.calendar.render import (
    NOT_FOUND,
    SESSION_NOT_FOUND,
    TOO_MANY,
    UNAVAILABLE,
    CalendarAction,
    channel_block,
)
from bot.slack.actions import on_action
from bot.slack.messages import sentence_message
from bot.store.feeds import FeedKind

log = logging.getLogger(__name__)

Republish = Callable[[AsyncWebClient, str], Awaitable[None]]
FeedChange = Callable[[FeedKind, str, str], Awaitable[str]]
"""Subscribe or reset: (kind, owner, by) to the feed's address."""
ICS = "text/calendar"
HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex", "X-Content-Type-Options": "nosniff"}
RETRY_UNAVAILABLE_SECONDS = 300


class CalendarListeners:
    def __init__(self, feeds: CalendarFeeds, limiter: RateLimiter, republish: Republish) -> None:
        """`republish(client, user)`: App Home again, after a feed is made or reset."""
        self._feeds = feeds
        self._limiter = limiter
        self._republish = republish

    def register(self, app: AsyncApp) -> None:
        on_action(app, CalendarAction.SUBSCRIBE, self.on_subscribe)
        on_action(app, CalendarAction.RESET, self.on_reset)
        on_action(app, CalendarAction.RESET_CHANNEL, self.on_reset_channel)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(SESSION_PATH + "{name}", self.session_file),
            web.get(FEED_PATH + "{name}", self.feed),
        ]

    # Slack

    async def on_subscribe(self, ack: Any, body: dict[str, Any], _: Any, client: AsyncWebClient) -> None:
        await ack()
        await self._person_feed(body, client, self._feeds.subscribe, "made")

    async def on_reset(self, ack: Any, body: dict[str, Any], _: Any, client: AsyncWebClient) -> None:
        await ack()
        await self._person_feed(body, client, self._feeds.reset, "reset")

    async def _person_feed(
        self, body: dict[str, Any], client: AsyncWebClient, change: FeedChange, done: str
    ) -> None:
        user = body["user"]["id"]
        await change(FeedKind.PERSON, user, user)
        log.info("calendar feed %s for person:%s", done, user)
        await self._republish(client, user)

    async def on_reset_channel(self, ack: Any, body: dict[str, Any], respond: Any, _: AsyncWebClient) -> None:
        """From `digest list`, an answer only the person sees, in the channel Slack says it is in."""
        await ack()
        user, channel = body["user"]["id"], (body.get("channel") or {}).get("id", "")
        if not channel:
            return
        address = await self._feeds.reset(FeedKind.CHANNEL, channel, user)
        log.info("calendar feed reset for channel:%s by %s", channel, user)
        message = sentence_message(
            "Done: the old address of this channel's calendar no longer works.", ":white_check_mark:"
        )
        message["blocks"] += channel_block(address)
        await respond({**message, "replace_original": True, "response_type": "ephemeral"})

    # Calendar apps and browsers

    async def feed(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        token = feed_token(request.match_info["name"])
        if token is None:
            return _logged("feed", "unknown", started, _sentence(404, NOT_FOUND))
        wait = self._limiter.wait(token_hash(token))
        if wait:
            return _logged("feed", "limited", started, _too_many(wait))
        try:
            listed = await self._feeds.listed(token)
        except Exception:
            return _failed("feed", started)
        if listed is None:
            return _logged("feed", "unknown", started, _sentence(404, NOT_FOUND))
        if _not_modified(request, listed):
            response = web.Response(status=304, headers=_validators(listed))
            return _logged("feed", "not-modified", started, response, listed.owner)
        response = _calendar(listed.body(), 'inline; filename="training-sessions.ics"', _validators(listed))
        return _logged("feed", "ok", started, response, listed.owner)

    async def session_file(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        name = request.match_info["name"]
        wait = self._limiter.wait(token_hash(name))
        if wait:
            return _logged("session file", "limited", started, _too_many(wait))
        try:
            body = await self._feeds.session_file(name)
        except Exception:
            return _failed("session file", started)
        if body is None:
            return _logged("session file", "unknown", started, _sentence(404, SESSION_NOT_FOUND))
        no_store = {**HEADERS, "Cache-Control": "no-store"}
        response = _calendar(body, 'attachment; filename="session.ics"', no_store)
        return _logged("session file", "ok", started, response)


def _calendar(body: bytes, disposition: str, headers: dict[str, str]) -> web.Response:
    return web.Response(
        body=body,
        content_type=ICS,
        charset="utf-8",
        headers={**headers, "Content-Disposition": disposition},
    )


def _validators(listed: Listed) -> dict[str, str]:
    return {
        **HEADERS,
        "ETag": listed.etag,
        "Last-Modified": format_datetime(listed.modified, usegmt=True),
        "Cache-Control": "private, no-cache",
    }


def _not_modified(request: web.Request, listed: Listed) -> bool:
    """RFC 9110: If-None-Match decides when present; else If-Modified-Since."""
    matches = request.headers.get("If-None-Match")
    if matches is not None:
        tags = {tag.strip().removeprefix("W/") for tag in matches.split(",")}
        return "*" in tags or listed.etag in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        moment: datetime = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    return moment.tzinfo is not None and listed.modified <= moment


def unknown_feed() -> web.Response:
    """What an address that names no feed gets, whoever answers it."""
    return _sentence(404, NOT_FOUND)


def unknown_session_file() -> web.Response:
    return _sentence(404, SESSION_NOT_FOUND)


def _sentence(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, text=text, headers={**HEADERS, "Cache-Control": "no-store", **(headers or {})}
    )


def _too_many(wait: int) -> web.Response:
    return _sentence(429, TOO_MANY, {"Retry-After": str(wait)})


def _failed(what: str, started: float) -> web.Response:
    reference = uuid.uuid4().hex[:8]
    log.exception("calendar %s request failed, reference %s", what, reference)
    response = _sentence(
        503, f"{UNAVAILABLE} (Reference {reference}.)", {"Retry-After": str(RETRY_UNAVAILABLE_SECONDS)}
    )
    return _logged(what, f"error:{reference}", started, response)


def _logged(what: str, outcome: str, started: float, response: web.Response, owner: str = "") -> web.Response:
    ms = int((time.perf_counter() - started) * 1000)
    log.info(
        "calendar %s %soutcome=%s status=%d ms=%d",
        what,
        f"feed={owner} " if owner else "",
        outcome,
        response.status,
        ms,
    )
    return response
