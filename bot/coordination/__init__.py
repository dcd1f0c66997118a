"""What every instance of the bot must agree on, behind one small interface with two backends.

Zoho's limits belong to the organisation: the access token, the lock, the
calls of the last minute and of the last day, and the session data already
fetched must be one for every process that talks to Zoho. `Coordination` is
the handful of atomic operations that needs. `disk.DiskCoordination`
(diskcache, SQLite transactions) serves the processes of one machine;
`postgres.PostgresCoordination` serves instances on any number of machines
through the shared database. Every time is a clock reading (seconds) passed
in, so tests move it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from bot.clock import Clock


class CoordinationError(Exception):
    """The backend could not be reached or refused a statement (bounded by its timeouts)."""


CLAIM_LAPSE_SECONDS = 60.0
"""An `exclusive` claim whose holder died lapses this long after it was taken."""
CLAIM_POLL_SECONDS = 0.02
"""How often (real time: the holder's progress is I/O) a waiter for an `exclusive` claim looks again."""

Limits = Sequence[tuple[float, int]]
"""(window in seconds, most events allowed in it), all of which must have room."""


class Coordination(Protocol):
    async def get(self, key: str, now: float) -> str | None:
        """The value, unless it has expired by `now`."""

    def peek(self, key: str, now: float) -> str | None:
        """The value as last seen, without waiting on I/O (a backend over the network may lag)."""

    async def put(self, key: str, value: str, expires_at: float | None = None) -> None: ...

    async def add(self, key: str, value: str, now: float, expires_at: float) -> bool:
        """Set the key only when it is absent or expired; True for the one caller that did."""

    async def delete(self, key: str, value: str | None = None) -> None:
        """Delete the key; with `value`, only while it still holds that value."""

    async def forget_prefix(self, prefix: str) -> None:
        """Delete every value and every event log whose name starts with `prefix` (a tenant that
        left: its token, session data, catalog and counts)."""

    async def take_slot(self, name: str, now: float, limits: Limits) -> tuple[float, float]:
        """Record one event in `name`'s log if every window has room: returns (0.0, 0.0).

        Otherwise records nothing and returns (seconds until a slot frees, the window that
        is full), the longest wait among the full windows.
        """

    async def count_since(self, name: str, since: float) -> int: ...

    async def tally(
        self, name: str, since: Sequence[float], key: str, now: float
    ) -> tuple[list[int], str | None]:
        """How many events `name`'s log holds after each of `since`, and `key`'s value at `now`, in
        one exchange: what a plan needs to know of the call budget (and Zoho's lock) at once."""

    def exclusive(self, name: str, clock: Clock, seconds: float) -> AbstractAsyncContextManager[None]:
        """Held by one instance at a time; waits at most `seconds` of `clock` for it
        (CoordinationError past that). A holder that died lets go `CLAIM_LAPSE_SECONDS` of `clock`
        after it took hold."""

    async def close(self) -> None: ...


def wait_for_room(times: Sequence[float], now: float, limits: Limits) -> tuple[float, float]:
    """(wait, window) for the fullest of `limits` over event times `times` (ascending); (0, 0) if room."""
    worst = (0.0, 0.0)
    for window, limit in limits:
        recent = [t for t in times if t > now - window]
        if len(recent) >= limit:
            wait = recent[-limit] + window - now
            worst = max(worst, (wait, window))
    return worst
