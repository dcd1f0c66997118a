"""One tenant's (or one Zoho organisation's) view of the shared coordination state.

Every key and log name is prefixed, so two tenants' tokens, locks, call logs and session
snapshots can never meet, while the backend (one disk cache, one PostgreSQL database) is
shared. The prefix may be read at each use: an organisation's budget is named by its Zoho
`Company` id once the bot has learnt it, so two workspaces connected to one organisation
share one budget and one lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from bot.clock import Clock
from bot.coordination import Coordination, Limits


class PrefixedCoordination:
    def __init__(self, inner: Coordination, prefix: str | Callable[[], str]) -> None:
        """`prefix`: fixed, or read at each use; "" leaves keys as they are."""
        self._inner = inner
        self._prefix = prefix if callable(prefix) else (lambda: prefix)

    def _key(self, key: str) -> str:
        return f"{self._prefix()}{key}"

    async def get(self, key: str, now: float) -> str | None:
        return await self._inner.get(self._key(key), now)

    def peek(self, key: str, now: float) -> str | None:
        return self._inner.peek(self._key(key), now)

    async def put(self, key: str, value: str, expires_at: float | None = None) -> None:
        await self._inner.put(self._key(key), value, expires_at)

    async def add(self, key: str, value: str, now: float, expires_at: float) -> bool:
        return await self._inner.add(self._key(key), value, now, expires_at)

    async def delete(self, key: str, value: str | None = None) -> None:
        await self._inner.delete(self._key(key), value)

    async def forget_prefix(self, prefix: str) -> None:
        await self._inner.forget_prefix(self._key(prefix))

    async def take_slot(self, name: str, now: float, limits: Limits) -> tuple[float, float]:
        return await self._inner.take_slot(self._key(name), now, limits)

    async def count_since(self, name: str, since: float) -> int:
        return await self._inner.count_since(self._key(name), since)

    async def tally(
        self, name: str, since: Sequence[float], key: str, now: float
    ) -> tuple[list[int], str | None]:
        return await self._inner.tally(self._key(name), since, self._key(key), now)

    def exclusive(self, name: str, clock: Clock, seconds: float) -> AbstractAsyncContextManager[None]:
        return self._inner.exclusive(self._key(name), clock, seconds)

    async def close(self) -> None:
        """The backend is shared: whoever opened it closes it."""
