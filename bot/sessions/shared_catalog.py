"""The catalog every instance reads: what one instance's walk discovered, all of them match against.

Used only where several instances may run (a PostgreSQL `DATABASE_URL`): a walk costs hundreds
of Zoho calls, and each instance walking for itself would spend the organisation's allowance
once per instance. The walk is claimed in the shared state (one walker at a time, the claim
lapsing if its walker dies) and its result shared there; an instance that finds a newer walk
there takes it instead of walking. A failure of the shared database is logged and costs
sharing, never a lookup.
"""

from __future__ import annotations

import json
import logging

from bot.clock import Clock
from bot.coordination import Coordination, CoordinationError
from bot.sessions.modules import ModuleRef

log = logging.getLogger(__name__)

DISCOVERED = "catalog:discovered"
WALK_CLAIM = "catalog:walk"
CLAIM_SECONDS = 3600.0


class SharedCatalog:
    def __init__(self, coordination: Coordination, clock: Clock) -> None:
        self._coordination = coordination
        self._clock = clock

    async def claim_walk(self, holder: str) -> bool:
        """The right to walk, for one instance at a time; True when the shared state is down
        (walking alone beats not walking)."""
        now = self._clock.time()
        try:
            return await self._coordination.add(WALK_CLAIM, holder, now, now + CLAIM_SECONDS)
        except CoordinationError as exc:
            log.warning("the catalog walk could not be claimed in the shared state: %s", exc)
            return True

    async def release_walk(self, holder: str) -> None:
        try:
            await self._coordination.delete(WALK_CLAIM, holder)
        except CoordinationError as exc:
            log.warning("the catalog walk claim could not be released (it lapses by itself): %s", exc)

    async def load(self) -> tuple[tuple[ModuleRef, ...], float] | None:
        """The newest walk any instance shared: its modules and when it was made."""
        try:
            raw = await self._coordination.get(DISCOVERED, self._clock.time())
        except CoordinationError as exc:
            log.warning("the shared catalog could not be read: %s", exc)
            return None
        if raw is None:
            return None
        data = json.loads(raw)
        modules = tuple(
            ModuleRef(m["course_id"], m["batch_id"], m["module_id"], m["name"], m["course"], m["batch"])
            for m in data["modules"]
        )
        return modules, float(data["walked_at"])

    async def save(self, modules: tuple[ModuleRef, ...], walked_at: float) -> None:
        value = json.dumps(
            {
                "walked_at": walked_at,
                "modules": [
                    {
                        "course_id": m.course_id,
                        "batch_id": m.batch_id,
                        "module_id": m.module_id,
                        "name": m.name,
                        "course": m.course_name,
                        "batch": m.batch_name,
                    }
                    for m in modules
                ],
            }
        )
        try:
            await self._coordination.put(DISCOVERED, value)
        except CoordinationError as exc:
            log.warning("the catalog walk could not be shared: %s", exc)
