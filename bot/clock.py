"""Time, injected: logic asks a clock instead of reading a global, so tests can move it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What logic needs to know about time: now, and a way to wait."""

    def time(self) -> float:
        """Seconds since the epoch (shared across processes, unlike a monotonic clock)."""

    def now(self) -> datetime:
        """The current moment as an aware UTC datetime."""

    async def sleep(self, seconds: float) -> None:
        """Wait; a fake clock advances instead of waiting."""


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
