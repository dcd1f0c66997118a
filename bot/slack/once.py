"""Each Slack event handled once, however often Slack sends it.

Slack resends an event it thinks went unanswered (`X-Slack-Retry-Num`, the same
`event_id`), to whichever instance answers. The first instance to claim the id in
the shared coordination store handles it; every resend is acknowledged and
dropped. Should the store be out of reach, the event is handled: a rare
duplicate is better than a lost event.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

from bot.clock import Clock
from bot.coordination import Coordination, CoordinationError
from bot.slack import observe

log = logging.getLogger(__name__)

REMEMBER_SECONDS = 3600.0
"""Slack resends within minutes; an hour is plenty."""
MAX_ID_CHARS = 64

Middleware = Callable[..., Awaitable[BoltResponse]]


def events_once(coordination: Coordination, clock: Clock) -> Middleware:
    async def once(body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        raw = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(raw, str) and raw:
            event_id = raw[:MAX_ID_CHARS]
            now = clock.time()
            try:
                first = await coordination.add(f"slack-event:{event_id}", "1", now, now + REMEMBER_SECONDS)
            except CoordinationError as exc:
                log.warning("event %s: could not check for a resend (%s); handling it", event_id, exc)
                first = True
            if not first:
                log.info("event %s: a resend of one already handled; dropped", event_id)
                observe.dropped("resend")
                return BoltResponse(status=200, body="")
        return await next()

    return once
