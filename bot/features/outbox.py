"""How a scheduled message leaves: claimed in the store, posted, and its outcome recorded.

A send is claimed under its unique key before it is posted, so a second
instance, a doubled tick or a restart never sends it twice. A passing Slack
failure leaves it open for a later tick, at most `MAX_ATTEMPTS` times; a
permanent one settles it as failed (the feature then pauses what it belongs to).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import delivery
from bot.slack.messages import Message
from bot.store.store import Store

log = logging.getLogger(__name__)

ABANDONED_CLAIM = timedelta(minutes=10)
"""A claim older than this, never finished, belonged to an instance that died: it may be retaken."""
MAX_ATTEMPTS = 5


@dataclass
class SendReport:
    """The keys a round of sending settled, by outcome."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Outbox:
    def __init__(self, store: Store, slack: AsyncWebClient, holder: str) -> None:
        self._store = store
        self._slack = slack
        self._holder = holder

    async def settled(self, keys: Iterable[str]) -> set[str]:
        """Which keys need nothing more (sent, skipped, failed for good)."""
        return await self._store.finished(keys)

    async def claim(self, key: str, kind: str, target: str, due_at: datetime, now: datetime) -> bool:
        return await self._store.claim(key, kind, target, due_at, self._holder, now, ABANDONED_CLAIM)

    async def skip(self, key: str, kind: str, target: str, due_at: datetime, now: datetime, why: str) -> bool:
        """Settle a send that will not be made; True the first time, so it is logged once."""
        return await self._store.record_skip(key, kind, target, due_at, self._holder, now, why)

    async def post(self, key: str, target: str, message: Message) -> None:
        """Post under the claimed `key` and settle it as sent; a refusal leaves it for retry, re-raised."""
        try:
            await delivery.post(self._slack, target, message)
        except delivery.DeliveryError as exc:
            await self._store.finish(key, "retry", exc.reason)
            raise
        await self._store.finish(key, "sent")

    async def post_together(
        self, keys: Sequence[str], target: str, message: Message, report: SendReport
    ) -> None:
        """Post one message for several claimed keys and settle them together; a refusal settles
        each as `failed` does, then is re-raised."""
        try:
            await delivery.post(self._slack, target, message)
        except delivery.DeliveryError as exc:
            for key in keys:
                await self.failed(key, exc, report)
            raise
        for key in keys:
            await self.sent(key, report)

    async def sent(self, key: str, report: SendReport) -> None:
        await self._store.finish(key, "sent")
        report.sent.append(key)

    async def failed(self, key: str, exc: delivery.DeliveryError, report: SendReport) -> None:
        """A refusal: settled for good when permanent or out of attempts, else left for a later tick."""
        give_up = exc.permanent or await self._store.attempts(key) >= MAX_ATTEMPTS
        await self._store.finish(key, "failed" if give_up else "retry", exc.reason)
        report.failed.append(key)
        log.warning("send %s %s: %s", key, "failed" if give_up else "will be retried", exc.reason)
