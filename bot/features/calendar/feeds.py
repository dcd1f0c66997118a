"""Calendar feeds and session files, from data the bot already holds (never a Zoho call).

A person's feed lists every upcoming session of the modules they have reminders
for (one session only, for a reminder of one session); a channel's, those of its
digests' modules. Sessions come from what change notices keep in the store (each
followed module's sessions as last read, shared by every instance, kept fresh by
the planner); a session's SEQUENCE is how many changes were found to it, and a
session cancelled within `CANCELLED_KEPT` stays, cancelled. What a feed lists is
summed up in a digest kept with its token: while the digest is the same, the
feed's text is byte for byte the same (its DTSTAMP is when it last changed), so
`ETag` and `Last-Modified` answer conditional requests.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.features.calendar.ics import CalendarEvent, calendar_text, session_uid
from bot.features.calendar.links import SessionFileLinks
from bot.sessions.catalog import Catalog
from bot.sessions.changes import ChangeKind, Known
from bot.sessions.modules import ModuleRef
from bot.sessions.orgtime import OrgTime
from bot.sessions.service import SessionService
from bot.store.feeds import Feed, FeedKind
from bot.store.scoped import TenantStore

FEED_PATH = "/calendar/"
CANCELLED_KEPT = timedelta(days=7)
TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
"""32 bytes in unpadded base64url."""
NAMES = {FeedKind.PERSON: "Training sessions", FeedKind.CHANNEL: "Training sessions (channel digest)"}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token(name: str) -> str | None:
    """The token of a feed address's last part (`<token>.ics`), if it has a token's shape."""
    token = name.removesuffix(".ics")
    return token if name.endswith(".ics") and _TOKEN.fullmatch(token) else None


@dataclass(frozen=True)
class Listed:
    """A feed's events, with what conditional requests compare; its text is rendered only when
    asked for (a calendar app asking again for an unchanged feed gets a 304, no text)."""

    owner: str
    etag: str
    modified: datetime
    events: list[CalendarEvent]
    zone: ZoneInfo
    name: str

    def body(self) -> bytes:
        return calendar_text(self.events, self.zone, self.modified, self.name, feed=True)


@dataclass(frozen=True)
class _Wanted:
    """A followed module, and which of its sessions (None: every one)."""

    module: ModuleRef
    sessions: set[str] | None

    def covers(self, session_id: str) -> bool:
        return self.sessions is None or session_id in self.sessions


class CalendarFeeds:
    def __init__(
        self,
        store: TenantStore,
        catalog: Catalog,
        sessions: SessionService,
        orgtime: OrgTime,
        clock: Clock,
        public_url: str,
        secret_key: str,
        tenant: str = "",
    ) -> None:
        """`tenant`: named in session links (many workspaces); "" in the single-workspace mode."""
        self._store = store
        self._tenant = tenant
        self._catalog = catalog
        self._sessions = sessions
        self._orgtime = orgtime
        self._clock = clock
        self._base = public_url.rstrip("/")
        self._domain = urlsplit(public_url).hostname or "sessions-bot"
        self.links = SessionFileLinks(public_url, secret_key, tenant)

    # Addresses

    async def address(self, kind: FeedKind, owner: str) -> str | None:
        """The owner's feed address, or None when they have none yet."""
        feed = await self._store.feed_of(kind, owner)
        return self._url(feed) if feed is not None else None

    async def subscribe(self, kind: FeedKind, owner: str, by: str) -> str:
        """The owner's feed address, made now if they had none."""
        feed = await self._store.add_feed(kind, owner, _new_token(), by, self._clock.now())
        return self._url(feed)

    async def reset(self, kind: FeedKind, owner: str, by: str) -> str:
        """A new address; the old one answers 404 from now on."""
        feed = await self._store.replace_feed(kind, owner, _new_token(), by, self._clock.now())
        return self._url(feed)

    def _url(self, feed: Feed) -> str:
        return f"{self._base}{FEED_PATH}{feed.token}.ics"

    # What is served

    async def listed(self, token: str) -> Listed | None:
        """The feed of `token`, or None when no feed has it (never had, or reset)."""
        feed = await self._store.feed_by_hash(token_hash(token))
        if feed is None:
            return None
        now = self._clock.now()
        events = await self._events(feed, now)
        name = NAMES[feed.kind]
        digest = hashlib.sha256(repr((name, self._orgtime.zone.key, events)).encode()).hexdigest()
        changed = feed.changed_at
        if feed.content_digest != digest or changed is None:
            changed = now.replace(microsecond=0)
            await self._store.feed_changed(feed.token_hash, digest, changed)
        etag = f'"{digest[:32]}-{int(changed.timestamp())}"'
        return Listed(f"{feed.kind.value}:{feed.owner_id}", etag, changed, events, self._orgtime.zone, name)

    async def session_file(self, name: str) -> bytes | None:
        """The calendar file a signed session link names, from the data held; None when the link
        is not one the bot made, or the session is no longer in that data."""
        link = self.links.read(name)
        if link is None or link.tenant != self._tenant:
            return None
        module = self._catalog.module(link.module) or ModuleRef.named(link.module, "")
        read = await self._sessions.held_read(module)
        found = [s for s in read.sessions if s.session_id == link.session_id] if read else []
        if not found or found[0].start is None:
            return None
        counts = await self._store.watches.sequences([module.key])
        count = counts.get((module.key, link.session_id), 0)
        event = self._event(module, Known.of(found[0]), count, details=found[0].description)
        return calendar_text([event], self._orgtime.zone, self._clock.now().replace(microsecond=0))

    async def _events(self, feed: Feed, now: datetime) -> list[CalendarEvent]:
        wanted = await self._wanted(feed)
        keys = list(wanted)
        watches = await self._store.watches.known(keys)
        counts = await self._store.watches.sequences(keys)
        events: dict[str, CalendarEvent] = {}
        for key, watch in watches.items():
            for known in watch.sessions:
                if wanted[key].covers(known.session_id) and not known.is_over(now):
                    events[known.session_id] = self._event(
                        wanted[key].module, known, counts.get((key, known.session_id), 0)
                    )
        since = now - CANCELLED_KEPT
        modules = [w.module.id for w in wanted.values()]
        for found in await self._store.watches.changes_since(since, modules) if modules else ():
            known = found.change.session
            want = wanted.get(found.module.key)
            if found.change.kind is not ChangeKind.CANCELLED or want is None:
                continue
            if want.covers(known.session_id) and known.session_id not in events:
                count = counts.get((found.module.key, known.session_id), 1)
                events[known.session_id] = self._event(want.module, known, count, cancelled=True)
        return sorted(events.values(), key=lambda event: (event.start, event.uid))

    async def _wanted(self, feed: Feed) -> dict[str, _Wanted]:
        wanted: dict[str, _Wanted] = {}
        if feed.kind is FeedKind.PERSON:
            for reminder in await self._store.reminders(user_id=feed.owner_id):
                if reminder.paused_reason:
                    continue
                found = wanted.setdefault(reminder.module.key, _Wanted(self._named(reminder.module), set()))
                if not reminder.session_id:
                    wanted[reminder.module.key] = _Wanted(found.module, None)
                elif found.sessions is not None:
                    found.sessions.add(reminder.session_id)
        else:
            for digest in await self._store.digests(channel_id=feed.owner_id):
                if not digest.paused_reason:
                    wanted[digest.module.key] = _Wanted(self._named(digest.module), None)
        return wanted

    def _named(self, module: ModuleRef) -> ModuleRef:
        """The module with its course and batch names, when the catalog knows them."""
        return self._catalog.module(module.id) or module

    def _event(
        self, module: ModuleRef, known: Known, sequence: int, cancelled: bool = False, details: str = ""
    ) -> CalendarEvent:
        return CalendarEvent(
            uid=session_uid(module.key, known.session_id, self._domain),
            summary=known.name,
            start=known.start,
            end=known.end,
            module_path=module.path,
            trainer=known.trainer,
            room=known.room,
            details=details,
            sequence=sequence,
            cancelled=cancelled,
        )


def _new_token() -> tuple[str, str]:
    """A new secret token (32 random bytes) and its hash."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)
