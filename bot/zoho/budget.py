"""The client's own call budget, so Zoho's 30-a-minute lock is never reached.

Counts every request in a sliding 60-second window shared by all processes on
the data folder. Background work (cache refreshes, catalog discovery) may only
use the budget minus a reserve, so a person waiting on a command always finds
a free slot.
"""

from __future__ import annotations

import enum

from bot.clock import Clock
from bot.zoho.errors import ZohoBusyError, ZohoLockedError
from bot.zoho.shared_state import SharedState

WINDOW_SECONDS = 60.0


class Priority(enum.Enum):
    INTERACTIVE = "interactive"
    BACKGROUND = "background"


class CallBudget:
    """Hands out permission to make one request, waiting or refusing when the minute is spent."""

    def __init__(
        self,
        state: SharedState,
        clock: Clock,
        per_minute: int,
        name: str = "lms",
        reserve: int | None = None,
    ) -> None:
        self._state = state
        self._clock = clock
        self._name = name
        self._limits = {
            Priority.INTERACTIVE: per_minute,
            Priority.BACKGROUND: max(
                1, per_minute - (reserve if reserve is not None else max(1, per_minute // 5))
            ),
        }

    async def spend(self, priority: Priority, deadline: float | None) -> None:
        """Take one slot; wait if that fits `deadline` (None: wait as long as needed).

        Raises ZohoLockedError while Zoho's lock lasts, ZohoBusyError when the wait
        would pass the deadline.
        """
        while True:
            now = self._clock.time()
            until = self._state.locked_until()
            if until > now:
                raise ZohoLockedError(until)
            wait = self._state.take_slot(self._name, now, WINDOW_SECONDS, self._limits[priority])
            if wait <= 0:
                return
            if deadline is not None and now + wait > deadline:
                raise ZohoBusyError(wait)
            await self._clock.sleep(wait)
