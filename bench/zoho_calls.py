"""How many Zoho calls a cold lookup costs, alone and with 50 people asking at once.

    .venv/bin/python -m bench.zoho_calls

Runs against the fake Zoho People on 127.0.0.1 with one module of 60 sessions
(25 records a page, so 3 pages is the minimum), then shows what a caller sees
while Zoho's API is locked.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from bot.config import load_settings
from bot.core import Core, build_core
from bot.sessions.errors import SessionsError
from bot.sessions.modules import ModuleRef
from bot.sessions.service import DEFAULT_TTL
from bot.sessions.windows import next_days
from tests.clock import FakeClock
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import module_with_sessions, zoho_id

MODULE = ModuleRef(zoho_id(190001), zoho_id(290001), zoho_id(390001), "Bench module")


def core_for(fake: FakeZoho, data_dir: Path, clock: FakeClock | None = None) -> Core:
    settings = load_settings(
        environ={**fake.bot_environment(), "BOT_DATA_DIR": str(data_dir)},
        env_file=None,
    )
    return build_core(settings, clock=clock)


async def cold(fake: FakeZoho, concurrent: int) -> tuple[int, list[int]]:
    fake.clear()
    with tempfile.TemporaryDirectory() as folder:
        core = core_for(fake, Path(folder))
        try:
            now = core.clock.now()
            await asyncio.gather(
                *(core.sessions.upcoming(MODULE, now, next_days(now, 90)) for _ in range(concurrent))
            )
        finally:
            await core.aclose()
    calls = fake.calls()
    return len(calls), [int(call.query.get("startIndex", "0")) for call in calls]


async def during_lock(fake: FakeZoho) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock(datetime.now(UTC))
        core = core_for(fake, Path(folder), clock)
        try:
            now = core.clock.now()
            await core.sessions.upcoming(MODULE, now, next_days(now, 90))
            fake.answer_429_next(1)
            clock.advance(DEFAULT_TTL + 1)
            await core.sessions.upcoming(MODULE, clock.now(), next_days(now, 90))
            await core.sessions.drain()
            listing = await core.sessions.upcoming(MODULE, clock.now(), next_days(now, 90))
            lines.append(
                f"cached module during the lock: {len(listing.sessions)} sessions, "
                f"problem={listing.problem!r}"
            )
            other = ModuleRef(MODULE.course_id, MODULE.batch_id, "999", "Never fetched")
            try:
                await core.sessions.upcoming(other, now, next_days(now, 90))
            except SessionsError as exc:
                lines.append(f"uncached module during the lock: {type(exc).__name__}: {exc}")
        finally:
            await core.aclose()
    return lines


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    with FakeZoho(module_with_sessions(60, today=date.today())) as fake:
        count, starts = await cold(fake, 1)
        print(f"one cold lookup of a 60-session module: {count} Zoho calls, startIndex {starts}")
        count, starts = await cold(fake, 50)
        print(f"50 concurrent cold lookups of it:       {count} Zoho calls, startIndex {starts}")
        for line in await during_lock(fake):
            print(line)


if __name__ == "__main__":
    asyncio.run(main())
