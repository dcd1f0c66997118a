"""One tick serves every tenant side by side: a tenant whose round is long (hundreds of due
sends, a slow Zoho) holds back no other tenant's sends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.scheduler import Observed, Scheduler
from bot.store.lease import Marks
from bot.store.store import Store
from bot.tenants.tenant import Tenant
from tests.clock import FakeClock


@dataclass
class Round:
    """A tenant's round whose sends take until `released` is set."""

    tenant: str
    released: asyncio.Event = field(default_factory=asyncio.Event)
    done: bool = False

    @property
    def store(self) -> Any:
        return type("View", (), {"tenant": Tenant(self.tenant)})()

    def lost_lead(self) -> None: ...

    async def run(self, now: datetime, marks: Marks, report: Any) -> Observed:
        await self.released.wait()
        self.done = True
        return Observed(0, 0, [])


async def test_a_long_round_holds_back_no_other_tenant_s_round(tmp_path: Path, clock: FakeClock) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")
    busy, quiet = Round("TBUSY"), Round("TQUIET")
    quiet.released.set()

    async def rounds(_: Marks | None) -> list[Round]:
        return [busy, quiet]

    scheduler = Scheduler(store, rounds, clock, "holder")  # type: ignore[arg-type]
    try:
        tick = asyncio.create_task(scheduler.tick())
        deadline = asyncio.get_running_loop().time() + 5
        while not quiet.done:
            assert asyncio.get_running_loop().time() < deadline, "the quiet tenant waited for the busy one"
            await asyncio.sleep(0.01)
        assert not busy.done
        busy.released.set()
        assert (await tick).leader
        assert busy.done
    finally:
        await store.close()
