"""One machine's coordination: a diskcache folder, each read-modify-write in a SQLite transaction."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import diskcache

from bot.clock import Clock
from bot.coordination import Limits, wait_for_room


class DiskCoordination:
    """Shared by every process on one `BOT_DATA_DIR`."""

    def __init__(self, directory: Path) -> None:
        self._cache = diskcache.Cache(str(directory))

    async def get(self, key: str, now: float) -> str | None:
        return self.peek(key, now)

    def peek(self, key: str, now: float) -> str | None:
        entry = self._cache.get(f"value:{key}")
        if not isinstance(entry, tuple):
            return None
        value, expires_at = entry
        return value if expires_at is None or expires_at > now else None

    async def put(self, key: str, value: str, expires_at: float | None = None) -> None:
        self._cache.set(f"value:{key}", (value, expires_at))

    async def add(self, key: str, value: str, now: float, expires_at: float) -> bool:
        with self._cache.transact():
            if self.peek(key, now) is not None:
                return False
            self._cache.set(f"value:{key}", (value, expires_at))
            return True

    async def delete(self, key: str, value: str | None = None) -> None:
        with self._cache.transact():
            entry = self._cache.get(f"value:{key}")
            if isinstance(entry, tuple) and (value is None or entry[0] == value):
                self._cache.delete(f"value:{key}")

    async def forget_prefix(self, prefix: str) -> None:
        with self._cache.transact():
            for key in list(self._cache.iterkeys()):
                if isinstance(key, str) and key.partition(":")[2].startswith(prefix):
                    self._cache.delete(key)

    async def take_slot(self, name: str, now: float, limits: Limits) -> tuple[float, float]:
        longest = max(window for window, _ in limits)
        with self._cache.transact():
            times = [t for t in self._cache.get(f"log:{name}", []) if t > now - longest]
            blocked = wait_for_room(times, now, limits)
            if blocked[0] > 0:
                return blocked
            times.append(now)
            self._cache.set(f"log:{name}", times)
            return (0.0, 0.0)

    async def count_since(self, name: str, since: float) -> int:
        return sum(1 for t in self._cache.get(f"log:{name}", []) if t > since)

    async def tally(
        self, name: str, since: Sequence[float], key: str, now: float
    ) -> tuple[list[int], str | None]:
        times = self._cache.get(f"log:{name}", [])
        return [sum(1 for t in times if t > moment) for moment in since], self.peek(key, now)

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str, clock: Clock, seconds: float) -> AsyncIterator[None]:
        """Nothing to hold: processes on one disk already share its cache, and each process
        keeps one fetch in flight per module."""
        yield

    async def close(self) -> None:
        self._cache.close()
