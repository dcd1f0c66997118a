"""How every scheduled message leaves, digests, reminders and notices alike: `Outbox.deliver`.

A sender decides what is due and renders it; it hands the finished message, its
send keys and what a lasting refusal pauses to `deliver`, which does the whole
send. A send is claimed under its unique key before it is posted, so a second
instance, a doubled tick or a restart never sends it twice. A passing Slack
failure leaves it open for a later tick, at most `MAX_ATTEMPTS` times; a
permanent one settles it as failed and pauses what it belongs to. A message too long
for one post goes out in parts, each claimed under its own key, so a retry never
repeats a part already posted.

A claim retaken from an instance that died mid-send may already be in Slack:
before posting it again, the conversation's history since the send was due is
searched for a message labelled with its key (`delivery.already_posted`); found,
it is settled as sent. When the history cannot be read the message is posted:
a rare duplicate is better than a lost digest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.slack import delivery
from bot.slack.messages import Message
from bot.store.records import Slot
from bot.store.scoped import TenantStore

log = logging.getLogger(__name__)

ABANDONED_CLAIM = timedelta(minutes=10)
"""A claim older than this, never finished, belonged to an instance that died: it may be retaken."""
MAX_ATTEMPTS = 5
HISTORY_MARGIN = timedelta(minutes=5)
"""How far before a send's due time its message is looked for, for clocks a little apart."""


Pause = Callable[[str, delivery.DeliveryError], Awaitable[None]]
"""What a lasting refusal pauses (a channel's digests, a person's reminders), given the target and
Slack's refusal."""


@dataclass(frozen=True)
class Parcel:
    """A finished send: its message (or a long one's parts), to whom, and the keys it settles."""

    kind: str
    """digest, reminder, notice or notice-dm: the sends table's kind."""
    target: str
    due_at: datetime
    keys: tuple[str, ...]
    """Claimed together and settled by one post (a notice's changes); most sends have one."""
    render: Callable[[Sequence[str]], Sequence[Message]]
    """The message (or a long one's parts) for the keys this instance claimed: another may hold
    some of them, and what it sends is not said twice."""
    pause: Pause | None = None

    @classmethod
    def of(
        cls, kind: str, target: str, due_at: datetime, key: str, parts: Sequence[Message], pause: Pause | None
    ) -> Parcel:
        """A send of one key, already rendered."""
        return cls(kind, target, due_at, (key,), lambda _: parts, pause)


@dataclass
class SendReport:
    """The keys a round of sending settled, by outcome."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Outbox:
    def __init__(self, store: TenantStore, slack: AsyncWebClient, holder: str) -> None:
        self._store = store
        self._slack = slack
        self._holder = holder
        self._uncertain: dict[str, datetime] = {}
        """Keys claimed from a dead holder, with when they were due: maybe already posted."""

    async def settled(self, keys: Iterable[str]) -> set[str]:
        """Which keys need nothing more (sent, skipped, failed for good)."""
        return await self._store.finished(keys)

    async def skip(self, slot: Slot, now: datetime, why: str) -> bool:
        """Settle a send that will not be made; True the first time, so it is logged once."""
        first = await self._store.record_skip(slot, self._holder, now, why)
        if first:
            _count(slot.key, "skipped")
        return first

    async def deliver(self, parcel: Parcel, now: datetime, report: SendReport) -> bool:
        """Claim, post, record; on a refusal, a retry later or failed for good, and a lasting one
        pauses what the send belongs to. True when this call posted it."""
        mine = [key for key in parcel.keys if await self._claim(key, parcel.kind, parcel, now)]
        if not mine:
            return False
        parts = parcel.render(mine)
        try:
            if len(parts) == 1:
                await self._post_unless_there(mine, parcel.target, parts[0])
            else:
                for number, part in enumerate(parts, start=1):
                    await self._post_part(f"{mine[0]}#part{number}", parcel, part, now)
        except delivery.DeliveryError as exc:
            self._forget_uncertain(mine)
            for key in mine:
                await self._failed(key, exc, report)
            if exc.permanent and parcel.pause is not None:
                await parcel.pause(parcel.target, exc)
            return False
        self._forget_uncertain(mine)
        for key in mine:
            await self._store.finish(key, "sent")
            _count(key, "sent")
            report.sent.append(key)
        return True

    def _forget_uncertain(self, keys: Sequence[str]) -> None:
        """A multi-part send's own key is never looked for in the history (its parts are)."""
        for key in keys:
            self._uncertain.pop(key, None)

    async def _claim(self, key: str, kind: str, parcel: Parcel, now: datetime) -> bool:
        slot = Slot(key, kind, parcel.target, parcel.due_at)
        claim = await self._store.claim(slot, self._holder, now, ABANDONED_CLAIM)
        if claim is not None and claim.uncertain:
            self._uncertain[key] = parcel.due_at
        return claim is not None

    async def _post_part(self, key: str, parcel: Parcel, part: Message, now: datetime) -> None:
        """One part under its own key: a part a failed attempt already posted is not posted again.
        A part another instance still holds (it died between parts, its claim not yet lapsed) is
        neither posted nor counted as posted: the send is left for a later tick."""
        if not await self._claim(key, f"{parcel.kind}-part", parcel, now):
            if key in await self._store.finished([key]):
                return
            raise delivery.DeliveryError(f"part {key} is still held by another instance", permanent=False)
        try:
            await self._post_unless_there([key], parcel.target, part)
        except delivery.DeliveryError as exc:
            await self._store.finish(key, "retry", exc.reason)
            _count(key, "retry")
            raise
        await self._store.finish(key, "sent")
        _count(key, "sent")

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

    async def _failed(self, key: str, exc: delivery.DeliveryError, report: SendReport) -> None:
        """Settled for good when permanent or out of attempts, else left for a later tick."""
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
