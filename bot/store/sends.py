"""The sends table: every scheduled message's claim, outcome and attempts, under its unique key.

A send is decided by its key's row, never by reading first and writing after:
the first insert wins the claim, and a failed or lapsed claim is retaken by a
conditional UPDATE that only one caller can match.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.records import Claim, SendRecord, Slot
from bot.store.schema import sends
from bot.store.scope import Scoped

SETTLED = ("sent", "skipped", "failed")
"""States after which a send needs nothing more."""


class Sends(Scoped):
    """A tenant's sends, their claims and outcomes; part of `TenantStore`."""

    async def claim(self, slot: Slot, holder: str, now: datetime, stale_after: timedelta) -> Claim | None:
        """A `Claim` for one caller only: the first to claim `key`, or one retaking a failed or
        lapsed claim; None for everyone else. A lapsed claim's holder died mid-send, so whether
        the message went out is unknown (`Claim.uncertain`)."""
        if await self._insert_send(self._send_row(slot, holder, now, "claimed", None)):
            return Claim(uncertain=False)
        retaking = {
            False: sends.c.state == "retry",
            True: and_(sends.c.state == "claimed", sends.c.claimed_at < now - stale_after),
        }
        for uncertain, condition in retaking.items():
            async with self._engine.begin() as connection:
                result = await connection.execute(
                    update(sends)
                    .where(self._mine(sends), sends.c.key == slot.key, condition)
                    .values(state="claimed", claimed_by=holder, claimed_at=now, attempts=sends.c.attempts + 1)
                )
            if result.rowcount == 1:
                return Claim(uncertain=uncertain)
        return None

    async def finish(self, key: str, state: str, error: str | None = None) -> None:
        """Record how a claimed send ended: sent, retry (a later tick may retake it) or failed."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(sends)
                .where(self._mine(sends), sends.c.key == key)
                .values(state=state, last_error=error)
            )

    async def record_skip(self, slot: Slot, holder: str, now: datetime, why: str) -> bool:
        """Mark a send as deliberately skipped; True the first time, so the skip is logged once."""
        return await self._insert_send(self._send_row(slot, holder, now, "skipped", why))

    async def _insert_send(self, row: dict[str, Any]) -> bool:
        """Insert the row for `key`; False when it already exists (someone else got there first)."""
        try:
            async with self._engine.begin() as connection:
                await connection.execute(sends.insert().values(**row))
        except IntegrityError:
            return False
        return True

    async def finished(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are settled (sent, skipped or failed for good): nothing more to do."""
        wanted = list(keys)
        if not wanted:
            return set()
        query = select(sends.c.key).where(
            self._mine(sends), sends.c.key.in_(wanted), sends.c.state.in_(SETTLED)
        )
        async with self._engine.connect() as connection:
            return {row[0] for row in await connection.execute(query)}

    async def attempts(self, key: str) -> int:
        async with self._engine.connect() as connection:
            query = select(sends.c.attempts).where(self._mine(sends), sends.c.key == key)
            value = (await connection.execute(query)).scalar()
        return int(value or 0)

    async def send_records(self, kind: str | None = None) -> list[SendRecord]:
        query = select(sends).where(self._mine(sends)).order_by(sends.c.due_at, sends.c.key)
        if kind is not None:
            query = query.where(sends.c.kind == kind)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            SendRecord(
                r["key"], r["kind"], r["target"], r["due_at"], r["state"], r["attempts"], r["last_error"]
            )
            for r in rows
        ]

    def _send_row(
        self, slot: Slot, holder: str, now: datetime, state: str, error: str | None
    ) -> dict[str, Any]:
        """A new send's row, claimed by `holder` at `now` (a skip is settled at once, no attempt made)."""
        return {
            "tenant": self._tenant,
            "key": slot.key,
            "kind": slot.kind,
            "target": slot.target,
            "due_at": slot.due_at,
            "state": state,
            "claimed_by": holder,
            "claimed_at": now,
            "attempts": 1 if state == "claimed" else 0,
            "last_error": error,
        }
