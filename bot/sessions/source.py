"""The one place the domain calls the Zoho client: its needs become the client's calls, and
Zoho's errors become the domain's (`raise ... from`), so nothing above the domain sees Zoho's types.
"""

from __future__ import annotations

import contextlib
import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from bot.clock import Clock
from bot.sessions.errors import (
    ApiPaused,
    CallLimitReached,
    DailyAllowanceSpent,
    ModuleGone,
    NeedsAdmin,
    NotConnected,
    RequestRefused,
    SessionsError,
    SignInsPaused,
    SourceDown,
)
from bot.sessions.modules import ModuleRef
from bot.sessions.orgtime import OrgTime
from bot.sessions.urgency import Need, Urgency
from bot.zoho.budget import DAY, HOUR, CallBudget, Priority, Usage
from bot.zoho.client import Call, ZohoClient
from bot.zoho.connection import ZohoNotConnectedError
from bot.zoho.errors import (
    ZohoAuthError,
    ZohoBusyError,
    ZohoError,
    ZohoLockedError,
    ZohoQuotaError,
    ZohoRequestError,
    ZohoTokenLimitError,
)
from bot.zoho.state import ZohoState

Record = dict[str, Any]


@dataclass(frozen=True)
class Read:
    """Session records from one read, and whether Zoho gave all of them (see `Pages`)."""

    records: list[Record]
    complete: bool


SENDS_RESERVE = 0.25
"""Of the day's background allowance, the share only data that due sends need may use, held in
proportion to what is left of the organisation's day (the sends still to come): neither followed
refreshes nor the refreshes behind people's lookups touch it. At midnight nothing is held."""
PACE_BURST = 6.0
"""Reads other than due sends' may make, in any hour, this many times an even share of what the
day has left (less the reserve) over the hours it has left: people look in working hours, not
evenly round the clock, so an hour of lookups may spend ahead; what is left shrinks as it is
spent, so the pace tightens and lookups late in the day still get calls..."""
PACE_HOUR_SHARE = 1 / 8
"""...and never more than this share of the day's background allowance in one hour, so a busy
morning cannot spend the day by noon."""
PEOPLE_SHARE = 0.2
"""Of the hour's pace, the share reads of followed data leave to lookups, so a batch sweep never
takes the calls the next lookups' refreshes need."""


class Want(enum.Enum):
    """Whose data a read is for, which decides what of the budget it may use."""

    DUE_SENDS = "due sends"
    """The minute and the day, the sends' reserve included."""
    LOOKUPS = "lookups"
    """Also the pace, leaving the sends' reserve alone."""
    FOLLOWED = "followed"
    """Also leaves `PEOPLE_SHARE` of the hour's pace to lookups."""


@dataclass(frozen=True)
class Room:
    """What background reads may still spend, read once for a whole plan: the budget's policy.

    Every read fits the minute and the day. Other reads than those of data due sends need are
    also paced (what the day has left spread over the hours it has left, `PACE_BURST`, at most
    `PACE_HOUR_SHARE` of the day an hour) and leave the sends' reserve alone; reads of followed
    data leave part of the pace to lookups (`PEOPLE_SHARE`).
    """

    minute: int
    """Background calls left this minute (none while Zoho's lock lasts)."""
    day: int
    """Background calls left today (none while Zoho's lock lasts)."""
    hour: int
    """Calls the pace leaves in the hour from now (less those of the last hour)."""
    reserved: int
    """Of `day`, the calls only data that due sends need may use."""
    per_minute: int
    """The most background reads a whole minute allows: a read needing more never fits."""
    for_people: int = 0
    """Of `hour`, the calls reads of followed data leave to lookups."""

    def seconds_to_spend(self, calls: int, share: float) -> float:
        """How long `share` of what the day has left (less the reserve), spread evenly over a
        whole day, takes to spend `calls`; for ever when nothing is left. A whole day, not what
        is left of it: calls spent late are still counted in the next day's window."""
        per_hour = share * max(0, self.day - self.reserved) * HOUR / DAY
        return calls * HOUR / per_hour if per_hour > 0 else math.inf

    def fits(self, calls: int, want: Want) -> bool:
        if calls > self.minute or calls > self.day:
            return False
        if want is Want.DUE_SENDS:
            return True
        kept = self.for_people if want is Want.FOLLOWED else 0
        return calls <= self.hour - kept and self.keeps_reserve(calls)

    def keeps_reserve(self, calls: int) -> bool:
        """Whether `calls` more leave the sends' reserve alone. A day already spent (or Zoho's
        lock) says yes: the read then fails and records why, which says more than the reserve."""
        return self.day == 0 or self.day - calls >= self.reserved

    def less(self, calls: int) -> Room:
        return replace(self, minute=self.minute - calls, day=self.day - calls, hour=self.hour - calls)


_PRIORITIES = {Urgency.PERSON_WAITING: Priority.INTERACTIVE, Urgency.BACKGROUND: Priority.BACKGROUND}


class ZohoSource:
    """The LMS reads the domain makes, in the domain's terms."""

    def __init__(
        self, client: ZohoClient, state: ZohoState, budget: CallBudget, clock: Clock, orgtime: OrgTime
    ) -> None:
        self._client = client
        self._state = state
        self._budget = budget
        self._clock = clock
        self._orgtime = orgtime

    def locked_until(self) -> float:
        """Until when (clock seconds) Zoho's lock stops every call, as last seen; in the past when none."""
        return self._state.known_lock(self._clock.time())

    def background_day_limit(self) -> int:
        """The calls background work may make in any 24 hours."""
        return self._budget.day_limit(Priority.BACKGROUND)

    def reserved_for_sends(self) -> int:
        """Background calls kept for data that due digests and reminders need, for the rest of
        the organisation's day."""
        return int(self.background_day_limit() * SENDS_RESERVE * self._left_of_day() / DAY)

    def _left_of_day(self) -> float:
        """Seconds until the next midnight in the organisation's zone."""
        now = datetime.fromtimestamp(self._clock.time(), self._orgtime.zone)
        midnight = datetime.combine(now.date() + timedelta(days=1), time(), now.tzinfo)
        return midnight.timestamp() - now.timestamp()

    async def budget_left(self) -> tuple[int, int, bool]:
        """Calls the organisation may still make (this minute, today), and whether Zoho's lock is on."""
        with translated():
            usage = await self._budget.usage()
        locked = usage.locked_until > self._clock.time()
        return max(0, usage.per_minute - usage.last_minute), max(0, usage.per_day - usage.last_day), locked

    async def background_room(self) -> Room:
        """What background reads may spend now, for a plan or a refresh behind a lookup: one read
        of the shared state (the last minute's, hour's and day's calls, and Zoho's lock)."""
        with translated():
            usage = await self._budget.usage()
        minute, day = self._room(usage, Urgency.BACKGROUND)
        reserved = self.reserved_for_sends()
        hours_left = max(HOUR, self._left_of_day()) / HOUR
        even = max(0, day - reserved) / hours_left
        pace = math.ceil(min(PACE_BURST * even, PACE_HOUR_SHARE * self.background_day_limit()))
        per_minute = self._budget.minute_limit(Priority.BACKGROUND)
        people = math.ceil(PEOPLE_SHARE * pace)
        return Room(minute, day, pace - usage.last_hour, reserved, per_minute, people)

    async def room(self, urgency: Urgency) -> tuple[int, int]:
        """Calls `urgency` may still make (this minute, today), and none while Zoho's lock lasts."""
        with translated():
            usage = await self._budget.usage()
        return self._room(usage, urgency)

    def _room(self, usage: Usage, urgency: Urgency) -> tuple[int, int]:
        if usage.locked_until > self._clock.time():
            return 0, 0
        return self._budget.room_in(usage, _PRIORITIES[urgency])

    async def module_sessions(self, module: ModuleRef, need: Need) -> Read:
        with translated():
            pages = await self._client.module_sessions(
                module.course_id, module.batch_id, module.module_id, _call(need)
            )
        return Read(pages.records, pages.complete)

    async def batch_sessions(self, course_id: str, batch_id: str, need: Need) -> Read:
        with translated():
            pages = await self._client.batch_sessions(course_id, batch_id, _call(need))
        return Read(pages.records, pages.complete)

    async def courses(self, need: Need, search: str | None = None, blended_only: bool = True) -> list[Record]:
        with translated():
            return await self._client.courses(_call(need), search=search, blended_only=blended_only)

    async def batches(self, course_id: str, need: Need) -> list[Record]:
        with translated():
            return await self._client.batches(course_id, _call(need))

    async def modules(self, course_id: str, batch_id: str, need: Need) -> list[Record]:
        with translated():
            return await self._client.modules(course_id, batch_id, _call(need))

    async def employee(self, erecno: str, need: Need) -> Record | None:
        with translated():
            return await self._client.employee(erecno, _call(need))


def _call(need: Need) -> Call:
    return Call(_PRIORITIES[need.urgency], need.deadline)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except ZohoError as exc:
        raise domain_error(exc) from exc


def domain_error(error: ZohoError) -> SessionsError:
    if isinstance(error, ZohoNotConnectedError):
        return NotConnected()
    if isinstance(error, ZohoAuthError):
        return NeedsAdmin(str(error))
    if isinstance(error, ZohoTokenLimitError):
        return SignInsPaused(str(error), error.retry_at)
    if isinstance(error, ZohoLockedError):
        return ApiPaused(error.until)
    if isinstance(error, ZohoBusyError):
        return CallLimitReached(error.retry_after)
    if isinstance(error, ZohoQuotaError):
        return DailyAllowanceSpent(str(error), error.frees_at)
    if isinstance(error, ZohoRequestError):
        return ModuleGone(str(error)) if error.status == 404 else RequestRefused(str(error), error.status)
    return SourceDown(str(error))
