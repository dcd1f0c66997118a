"""How a scheduled message leaves: claimed in the store, posted, and its outcome recorded.

A send is claimed under its unique key before it is posted, so a second
instance, a doubled tick or a restart never sends it twice. A passing Slack
failure leaves it open for a later tick, at most `MAX_ATTEMPTS` times; a
permanent one settles it as failed (the feature then pauses what it belongs to).

A claim retaken from an instance that died mid-send may already be in Slack:
before posting it again, the conversation's history since the send was due is
searched for a message labelled with its key (`delivery.already_posted`); found,
it is settled as sent. When the history cannot be read the message is posted:
a rare duplicate is better than a lost digest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.slack import delivery
from bot.slack.messages import Message
from bot.store.store import Store

log = logging.getLogger(__name__)

ABANDONED_CLAIM = timedelta(minutes=10)
"""A claim older than this, never finished, belonged to an instance that died: it may be retaken."""
MAX_ATTEMPTS = 5
HISTORY_MARGIN = timedelta(minutes=5)
"""How far before a send's due time its message is looked for, for clocks a little apart."""


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
        self._uncertain: dict[str, datetime] = {}
        """Keys claimed from a dead holder, with when they were due: maybe already posted."""

    async def settled(self, keys: Iterable[str]) -> set[str]:
        """Which keys need nothing more (sent, skipped, failed for good)."""
        return await self._store.finished(keys)

    async def claim(self, key: str, kind: str, target: str, due_at: datetime, now: datetime) -> bool:
        claim = await self._store.claim(key, kind, target, due_at, self._holder, now, ABANDONED_CLAIM)
        if claim is not None and claim.uncertain:
            self._uncertain[key] = due_at
        return claim is not None

    async def skip(self, key: str, kind: str, target: str, due_at: datetime, now: datetime, why: str) -> bool:
        """Settle a send that will not be made; True the first time, so it is logged once."""
        first = await self._store.record_skip(key, kind, target, due_at, self._holder, now, why)
        if first:
            _count(key, "skipped")
        return first

    async def post(self, key: str, target: str, message: Message) -> None:
        """Post under the claimed `key` and settle it as sent; a refusal leaves it for retry, re-raised."""
        try:
            await self._post_unless_there([key], target, message)
        except delivery.DeliveryError as exc:
            await self._store.finish(key, "retry", exc.reason)
            _count(key, "retry")
            raise
        await self._store.finish(key, "sent")
        _count(key, "sent")

    async def post_together(
        self, keys: Sequence[str], target: str, message: Message, report: SendReport
    ) -> None:
        """Post one message for several claimed keys and settle them together; a refusal settles
        each as `failed` does, then is re-raised."""
        try:
            await self._post_unless_there(keys, target, message)
        except delivery.DeliveryError as exc:
            for key in keys:
                await self.failed(key, exc, report)
            raise
        for key in keys:
            await self.sent(key, report)

    async def _post_unless_there(self, keys: Sequence[str], target: str, message: Message) -> None:
        """Post `message` labelled with `keys`, unless a dead holder's post of all of them is found."""
        started = time.perf_counter()
        if await self._found_in_history(keys, target):
            log.info("send %s to %s: already in Slack, not posted again", ",".join(keys), target)
            for key in keys:
                _count(key, "found")
            return
        try:
            await delivery.post(self._slack, target, message, keys)
        except delivery.DeliveryError as exc:
            log.warning("send %s to %s refused: %s", ",".join(keys), target, exc.reason)
            raise
        log.info("send %s to %s: posted in %.0f ms", ",".join(keys), target, _ms(started))

    async def _found_in_history(self, keys: Sequence[str], target: str) -> bool:
        due = [self._uncertain.pop(key) for key in keys if key in self._uncertain]
        if not due:
            return False
        try:
            found = await delivery.already_posted(self._slack, target, keys, min(due) - HISTORY_MARGIN)
        except delivery.DeliveryError as exc:
            log.warning("send %s to %s: could not read history (%s); posting", ",".join(keys), target, exc)
            return False
        return found == set(keys)

    async def sent(self, key: str, report: SendReport) -> None:
        await self._store.finish(key, "sent")
        _count(key, "sent")
        report.sent.append(key)

    async def failed(self, key: str, exc: delivery.DeliveryError, report: SendReport) -> None:
        """A refusal: settled for good when permanent or out of attempts, else left for a later tick."""
        give_up = exc.permanent or await self._store.attempts(key) >= MAX_ATTEMPTS
        await self._store.finish(key, "failed" if give_up else "retry", exc.reason)
        _count(key, "failed" if give_up else "retry")
        report.failed.append(key)
        log.warning("send %s %s: %s", key, "failed" if give_up else "will be retried", exc.reason)


def _count(key: str, outcome: str) -> None:
    """Counted by the kind a key starts with (digest, remind, notice); a digest's parts apart."""
    kind = key.split(":", 1)[0] + ("-part" if "#part" in key else "")
    metrics.SENDS.labels(kind, outcome).inc()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
