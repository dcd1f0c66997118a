"""A clock for tests: it moves only when told to, and `sleep` moves it instead of waiting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime


class FakeClock:
    """A clock that only moves when told to; `sleep` moves it instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self._now = start.timestamp()
        self.slept: list[float] = []

    def time(self) -> float:
        return self._now

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, moment: datetime) -> None:
        self._now = moment.timestamp()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)
