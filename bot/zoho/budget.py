"""The bot's own Zoho call budget, so neither Zoho's lock nor its daily allowance is ever reached.

Every request takes a slot in two sliding windows shared by every instance (see
`state.py`): the last 60 seconds (`ZOHO_CALLS_PER_MINUTE`, Zoho locks past 30)
and the last 24 hours (`ZOHO_CALLS_PER_DAY`, the organisation's allowance, which
its other integrations share). Background work (refreshes, discovery) may use
each budget minus a reserve, so a person waiting on a command always finds a
slot. A full minute is waited out when the deadline allows; a spent day never is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.clock import Clock
from bot.zoho.errors import ZohoBusyError, ZohoLockedError, ZohoQuotaError
from bot.zoho.state import LMS_CALLS, ZohoState

MINUTE = 60.0
HOUR = 3600.0
DAY = 86_400.0


class Priority(enum.Enum):
    INTERACTIVE = "interactive"
    BACKGROUND = "background"


@dataclass(frozen=True)
class Usage:
    """What the budget looks like at one moment, for `check`, the planner and the log."""

    last_minute: int
    last_day: int
    per_minute: int
    per_day: int
    locked_until: float
    last_hour: int = 0


def _background_limit(limit: int, share: int) -> int:
    """What background work may use: the budget less a `1/share` reserve for people (at least one)."""
    return max(1, limit - max(1, limit // share))


class CallBudget:
    """Hands out permission to make one request, waiting or refusing when a window is spent."""

    def __init__(self, state: ZohoState, clock: Clock, per_minute: int, per_day: int) -> None:
        self._state = state
        self._clock = clock
        self.per_minute = per_minute
        self.per_day = per_day
        self._limits = {
            Priority.INTERACTIVE: ((MINUTE, per_minute), (DAY, per_day)),
            Priority.BACKGROUND: (
                (MINUTE, _background_limit(per_minute, 5)),
                (DAY, _background_limit(per_day, 10)),
            ),
        }

    async def spend(self, priority: Priority, deadline: float | None) -> None:
        """Take one slot; wait for the minute to free if that fits `deadline` (None: as long as needed).

        Raises ZohoLockedError while Zoho's lock lasts, ZohoBusyError when the wait would
        pass the deadline, ZohoQuotaError when the day's allowance is spent.
        """
        while True:
            now = self._clock.time()
            until = await self._state.locked_until(now)
            if until > now:
                raise ZohoLockedError(until)
            wait, window = await self._state.take_slot(LMS_CALLS, now, self._limits[priority])
            if wait <= 0:
                return
            if window == DAY:
                raise ZohoQuotaError(self.per_day, now + wait)
            if deadline is not None and now + wait > deadline:
                raise ZohoBusyError(wait)
            await self._clock.sleep(wait)

    def minute_limit(self, priority: Priority) -> int:
        """The calls `priority` may make in any minute."""
        return self._limits[priority][0][1]

    def day_limit(self, priority: Priority) -> int:
        (_, _), (_, day) = self._limits[priority]
        return day

    async def room(self, priority: Priority) -> tuple[int, int]:
        """Calls `priority` may still make (this minute, today), before any lock is considered."""
        return self.room_in(await self.usage(), priority)

    def room_in(self, usage: Usage, priority: Priority) -> tuple[int, int]:
        """What `room` says, from a `usage` already read."""
        (_, minute), (_, day) = self._limits[priority]
        return max(0, minute - usage.last_minute), max(0, day - usage.last_day)

    async def usage(self) -> Usage:
        """The calls of the last minute, hour and day, and Zoho's lock: one read of the shared state."""
        (minute, hour, day), locked_until = await self._state.usage(self._clock.time(), (MINUTE, HOUR, DAY))
        return Usage(minute, day, self.per_minute, self.per_day, locked_until, last_hour=hour)
