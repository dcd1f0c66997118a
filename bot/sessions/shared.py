"""Session data every instance reads: what one instance fetched from Zoho, all of them answer from.

Used only where several instances may run (a PostgreSQL `DATABASE_URL`); on one
machine the diskcache under `BOT_DATA_DIR` is already shared. A fetch holds
an exclusive lock on its module or batch, so two instances never fetch the same
one at once: the second waits, then finds the first one's data and fetches nothing. A failure of
the shared database is logged and costs sharing, never an answer.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.coordination import Coordination, CoordinationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """What Zoho said about one module, and when."""

    records: tuple[dict[str, Any], ...]
    fetched_at: float
    fetch_id: str = ""
    """Tells two fetches apart even when the clock did not move between them."""
    complete: bool = True
    """False when Zoho's pages ended early: nothing can be concluded from what is missing."""


class SharedSnapshots:
    def __init__(self, coordination: Coordination, clock: Clock) -> None:
        self._coordination = coordination
        self._clock = clock

    async def load(self, key: str) -> Snapshot | None:
        try:
            raw = await self._coordination.get(f"snapshot:{key}", self._clock.time())
        except CoordinationError as exc:
            log.warning("shared session data for %s could not be read: %s", key, exc)
            return None
        if raw is None:
            return None
        data = json.loads(raw)
        return Snapshot(
            tuple(data["records"]),
            float(data["fetched_at"]),
            str(data["fetch_id"]),
            bool(data.get("complete", True)),
        )

    async def save(self, key: str, snapshot: Snapshot) -> None:
        value = json.dumps(
            {
                "records": list(snapshot.records),
                "fetched_at": snapshot.fetched_at,
                "fetch_id": snapshot.fetch_id,
                "complete": snapshot.complete,
            }
        )
        try:
            await self._coordination.put(f"snapshot:{key}", value)
        except CoordinationError as exc:
            log.warning("session data for %s could not be shared: %s", key, exc)

    @contextlib.asynccontextmanager
    async def exclusive(self, unit: str, seconds: float) -> AsyncIterator[None]:
        """While held, no other instance fetches `unit` (a module or a batch); waits at most
        `seconds` of the injected clock for another instance's fetch to end. Unreachable
        coordination: not held."""
        async with contextlib.AsyncExitStack() as stack:
            try:
                claim = self._coordination.exclusive(f"fetching:{unit}", self._clock, seconds)
                await stack.enter_async_context(claim)
            except CoordinationError as exc:
                log.warning("fetch of %s not coordinated with other instances: %s", unit, exc)
            yield
