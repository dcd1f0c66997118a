"""What change notices keep in the store: each followed module's known sessions, the changes found,
and which channels want notices.

A module's known sessions and the changes found in a read are written in one
transaction, conditional on the revision that was compared, so two instances
comparing the same read cannot both record its changes, and a crash leaves
either both or neither: a change is never lost between being found and being kept.
The same transaction counts each session's changes (`sequences`): a calendar
event's SEQUENCE, which must only grow, outlives the changes themselves.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, delete, desc, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.sessions.changes import Change, ChangeKind, Known
from bot.sessions.modules import ModuleId, ModuleRef
from bot.store.records import FoundChange, module_from_row
from bot.store.schema import channel_settings, session_changes, session_sequences, session_watch
from bot.store.scope import Scoped
from bot.store.upsert import upsert


@dataclass(frozen=True)
class Watch:
    """A followed module as last compared: which read, and what it held."""

    module_key: str
    revision: int
    fetch_id: str
    vanished_fetch: str | None
    sessions: tuple[Known, ...] = ()


class _Overtaken(Exception):
    """Another instance updated the module's watch since it was read: undo this transaction."""


class Watches(Scoped):
    """A tenant's watched modules, changes found and channels' notice settings."""

    def __init__(self, engine: AsyncEngine, tenant: str) -> None:
        self._engine = engine
        self._tenant = tenant
        self._mark: str | None = None
        self._recent: tuple[str, datetime, list[FoundChange]] | None = None
        """The last `changes_since` of every module, with the mark it was read under and its moment."""

    def expect(self, changes: str | None) -> None:
        """The changes found as the leader's lease renewal saw them this tick (`Marks.changes`),
        or None once the tick is over. While the mark is the one `changes_since` last read under,
        that read answers again, narrowed to the moment asked, without a query."""
        self._mark = changes

    async def fetches(self) -> dict[str, Watch]:
        """Every watched module's revision and reads, without their sessions: one cheap query a tick."""
        query = select(
            session_watch.c.module_key,
            session_watch.c.revision,
            session_watch.c.fetch_id,
            session_watch.c.vanished_fetch,
        ).where(self._mine(session_watch))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {row[0]: Watch(row[0], row[1], row[2], row[3]) for row in rows}

    async def known(self, module_keys: Iterable[str]) -> dict[str, Watch]:
        """These modules' watches with their known sessions (those never watched are absent)."""
        keys = list(module_keys)
        if not keys:
            return {}
        query = select(session_watch).where(self._mine(session_watch), session_watch.c.module_key.in_(keys))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return {
            row["module_key"]: Watch(
                row["module_key"],
                row["revision"],
                row["fetch_id"],
                row["vanished_fetch"],
                tuple(Known.from_dict(item) for item in json.loads(row["sessions"])),
            )
            for row in rows
        }

    async def record(
        self,
        module: ModuleRef,
        compared: Watch | None,
        fetch_id: str,
        state: Sequence[Known] | None,
        changes: Sequence[Change],
        now: datetime,
    ) -> Watch | None:
        """Keep a compared read: the new known sessions (or, with `state` None, the read as one
        awaiting confirmation) and its changes. Returns the module's watch as it now stands
        (without its sessions); None when another instance recorded first."""
        values = (
            {"fetch_id": fetch_id, "sessions": _sessions_json(state), "read_at": now, "vanished_fetch": None}
            if state is not None
            else {"vanished_fetch": fetch_id}
        )
        try:
            async with self._writing(alone=not changes) as connection:
                if compared is None:
                    await connection.execute(
                        session_watch.insert().values(
                            tenant=self._tenant, module_key=module.key, revision=1, **values
                        )
                    )
                else:
                    result = await connection.execute(
                        update(session_watch)
                        .where(
                            self._mine(session_watch),
                            session_watch.c.module_key == module.key,
                            session_watch.c.revision == compared.revision,
                        )
                        .values(revision=compared.revision + 1, **values)
                    )
                    if result.rowcount != 1:
                        raise _Overtaken
                revision = compared.revision if compared else 0
                for change in changes:
                    await connection.execute(
                        session_changes.insert().values(
                            tenant=self._tenant,
                            change_key=_change_key(module, change, revision),
                            module_key=module.key,
                            module_name=module.title,
                            session_id=change.session.session_id,
                            kind=change.kind.value,
                            before=_known_json(change.before),
                            after=_known_json(change.after),
                            detected_at=now,
                        )
                    )
                    await self._count_change(connection, module.key, change.session.session_id, now)
        except (IntegrityError, _Overtaken):
            return None
        if changes:
            self._recent = None
        if state is not None:
            return Watch(module.key, revision + 1, fetch_id, None)
        return Watch(module.key, revision + 1, compared.fetch_id if compared else "", fetch_id)

    async def forget_except(self, followed: Iterable[str]) -> int:
        """Stop watching modules no longer followed: following one again starts from a new baseline."""
        keep = list(followed)
        query = delete(session_watch).where(self._mine(session_watch))
        if keep:
            query = query.where(session_watch.c.module_key.not_in(keep))
        async with self._engine.begin() as connection:
            return (await connection.execute(query)).rowcount

    async def changes_since(
        self, moment: datetime, modules: Iterable[ModuleId] | None = None, limit: int | None = None
    ) -> list[FoundChange]:
        """Changes found after `moment`, newest first; only those of `modules` when given."""
        reusable = modules is None and limit is None and self._mark is not None
        if reusable and self._recent is not None:
            mark, since, found = self._recent
            if mark == self._mark and moment >= since:
                return [change for change in found if change.detected_at > moment]
        query = (
            select(session_changes)
            .where(self._mine(session_changes), session_changes.c.detected_at > moment)
            .order_by(desc(session_changes.c.detected_at), desc(session_changes.c.id))
        )
        if modules is not None:
            query = query.where(session_changes.c.module_key.in_([module.key for module in modules]))
        if limit is not None:
            query = query.limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        found = [_found(row) for row in rows]
        if reusable and self._mark is not None:
            self._recent = (self._mark, moment, found)
        return found

    async def sequences(self, module_keys: Iterable[str]) -> dict[tuple[str, str], int]:
        """How many changes were found to each session of these modules, by (module key, session
        id); a session never changed is absent (its count is 0)."""
        keys = list(module_keys)
        if not keys:
            return {}
        table = session_sequences
        query = select(table.c.module_key, table.c.session_id, table.c.sequence).where(
            self._mine(table), table.c.module_key.in_(keys)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {(row[0], row[1]): row[2] for row in rows}

    async def set_channel_notices(self, channel_id: str, on: bool) -> None:
        async with self._engine.begin() as connection:
            await upsert(
                connection,
                channel_settings,
                ("tenant", "channel_id"),
                {"tenant": self._tenant, "channel_id": channel_id},
                {"notices": on},
            )

    async def channel_notices(self, channel_id: str) -> bool:
        """Whether the channel hears of changes (on unless turned off)."""
        return channel_id not in await self.channels_without_notices(channel_id)

    async def channels_without_notices(self, channel_id: str | None = None) -> set[str]:
        query = select(channel_settings.c.channel_id).where(
            self._mine(channel_settings), channel_settings.c.notices.is_(False)
        )
        if channel_id is not None:
            query = query.where(channel_settings.c.channel_id == channel_id)
        async with self._engine.connect() as connection:
            return {row[0] for row in await connection.execute(query)}

    async def _count_change(
        self, connection: AsyncConnection, module_key: str, session_id: str, now: datetime
    ) -> None:
        """One more change to the session, in one statement (the count only grows)."""
        table = session_sequences
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        statement = insert(table).values(
            tenant=self._tenant, module_key=module_key, session_id=session_id, sequence=1, changed_at=now
        )
        await connection.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.tenant, table.c.module_key, table.c.session_id],
                set_={"sequence": table.c.sequence + 1, "changed_at": now},
            )
        )

    @contextlib.asynccontextmanager
    async def _writing(self, alone: bool) -> AsyncIterator[AsyncConnection]:
        """A transaction; or, for one statement (`alone`), the statement by itself (autocommit),
        atomic without a BEGIN and a COMMIT to wait for."""
        if not alone:
            async with self._engine.begin() as connection:
                yield connection
            return
        async with self._engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")


def _change_key(module: ModuleRef, change: Change, revision: int) -> str:
    """Unique per module, session, change and new value, and per compared revision, so a session
    moved twice (even back and forth) is two changes, and one read recorded twice is one."""
    value = change.new_value[:120]
    return f"{module.key}:{change.session.session_id}:{change.kind.value}:{value}@{revision}"[:400]


def _sessions_json(state: Sequence[Known] | None) -> str:
    return json.dumps([known.to_dict() for known in state or ()])


def _known_json(known: Known | None) -> str | None:
    return json.dumps(known.to_dict()) if known is not None else None


def _found(data: RowMapping) -> FoundChange:
    before = Known.from_dict(json.loads(data["before"])) if data["before"] else None
    after = Known.from_dict(json.loads(data["after"])) if data["after"] else None
    change = Change(ChangeKind(data["kind"]), before, after)
    return FoundChange(data["id"], module_from_row(data), change, data["detected_at"])
