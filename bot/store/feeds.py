"""Calendar feeds: one secret address per person (their reminders) and per channel (its digests).

A feed's token is 32 random bytes; the table keeps its SHA-256, by which a request
finds the feed, and a copy sealed with BOT_SECRET_KEY, so App Home and `digest
list` can show the address again: a copy of the database opens neither. Resetting
replaces the row, so the old address finds nothing. A feed belongs to its tenant,
and dies with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, RowMapping, delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.secrets import Secrets
from bot.store.errors import StoreError
from bot.store.schema import calendar_feeds
from bot.store.scope import Scoped


class FeedKind(StrEnum):
    PERSON = "person"
    CHANNEL = "channel"


@dataclass(frozen=True)
class Feed:
    """A feed as stored; `token` is the secret itself, opened (never logged)."""

    kind: FeedKind
    owner_id: str
    token_hash: str
    token: str
    content_digest: str | None
    changed_at: datetime | None


class Feeds(Scoped):
    """A tenant's calendar feeds; part of `TenantStore`, which provides the secrets."""

    _secrets: Secrets | None

    async def feed_of(self, kind: FeedKind, owner_id: str) -> Feed | None:
        return await self._one_feed(select(calendar_feeds).where(self._owner(kind, owner_id)))

    async def feed_by_hash(self, token_hash: str) -> Feed | None:
        found = select(calendar_feeds).where(
            self._mine(calendar_feeds), calendar_feeds.c.token_hash == token_hash
        )
        return await self._one_feed(found)

    async def add_feed(
        self, kind: FeedKind, owner_id: str, token: tuple[str, str], by: str, now: datetime
    ) -> Feed:
        """The owner's feed: `token` (secret, hash) when they had none, else the one they have
        (two clicks at once make one feed)."""
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    calendar_feeds.insert().values(**self._feed_row(kind, owner_id, token, by, now))
                )
        except IntegrityError:
            pass
        found = await self.feed_of(kind, owner_id)
        if found is None:
            raise StoreError("The calendar feed was reset while it was being made; try again.")
        return found

    async def replace_feed(
        self, kind: FeedKind, owner_id: str, token: tuple[str, str], by: str, now: datetime
    ) -> Feed:
        """A new address for the owner's feed; the old one (if any) answers nothing from now on."""
        async with self._engine.begin() as connection:
            await connection.execute(delete(calendar_feeds).where(self._owner(kind, owner_id)))
            await connection.execute(
                calendar_feeds.insert().values(**self._feed_row(kind, owner_id, token, by, now))
            )
        return Feed(kind, owner_id, token[1], token[0], None, None)

    async def feed_changed(self, token_hash: str, digest: str, now: datetime) -> None:
        """What the feed lists changed (to what `digest` sums up) at `now`."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(calendar_feeds)
                .where(self._mine(calendar_feeds), calendar_feeds.c.token_hash == token_hash)
                .values(content_digest=digest, changed_at=now)
            )

    def _feed_row(
        self, kind: FeedKind, owner_id: str, token: tuple[str, str], by: str, now: datetime
    ) -> dict[str, object]:
        secret, token_hash = token
        return {
            "token_hash": token_hash,
            "token": self._feed_sealer().seal(secret),
            "kind": kind.value,
            "owner_id": owner_id,
            "tenant": self._tenant,
            "created_by": by,
            "created_at": now,
        }

    def _owner(self, kind: FeedKind, owner_id: str) -> ColumnElement[bool]:
        table = calendar_feeds
        return self._mine(table) & (table.c.kind == kind.value) & (table.c.owner_id == owner_id)

    def _feed_sealer(self) -> Secrets:
        if self._secrets is None:
            raise StoreError("Calendar feeds need BOT_SECRET_KEY to keep their addresses sealed.")
        return self._secrets

    async def _one_feed(self, query: object) -> Feed | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()  # type: ignore[call-overload]
        return self._feed(row) if row is not None else None

    def _feed(self, row: RowMapping) -> Feed:
        return Feed(
            FeedKind(row["kind"]),
            row["owner_id"],
            row["token_hash"],
            self._feed_sealer().open(row["token"]),
            row["content_digest"],
            row["changed_at"],
        )
