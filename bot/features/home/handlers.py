"""Publishing the Home tab, on `app_home_opened` and after every change a person makes (its
buttons belong to the forms: `bot.features.forms`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.features.calendar.feeds import CalendarFeeds
from bot.features.calendar.render import home_card
from bot.features.connect.render import Block, setup_card
from bot.features.connect.service import ConnectService
from bot.features.deps import Deps
from bot.features.home.render import MAX_CHANGES, home_view
from bot.features.notices.due import covers
from bot.sessions.model import Session
from bot.sessions.windows import next_days
from bot.slack.delivery import SLACK_FAILURES, narrow
from bot.slack.users import Person, person
from bot.store.feeds import FeedKind
from bot.store.records import FoundChange, Reminder

log = logging.getLogger(__name__)

CHANGES_SHOWN_FOR = timedelta(days=7)
MODULES_AT_ONCE = 16
"""Modules whose cached sessions App Home reads before letting the event loop go."""


class Home:
    def __init__(
        self, deps: Deps, connect: ConnectService | None = None, calendar: CalendarFeeds | None = None
    ) -> None:
        """`connect`: when Zoho is connected from Slack, the setup card comes first. `calendar`:
        with a public address, the person's calendar feed is offered."""
        self._deps = deps
        self._connect = connect
        self._calendar = calendar

    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_opened)

    async def on_opened(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home":
            await self.publish(client, event["user"])

    async def publish(self, client: AsyncWebClient, user: str) -> None:
        """Build from the store and the session cache only (no Zoho call), then views.publish."""
        reminders = await self._deps.store.reminders(user_id=user)
        digests = await self._deps.store.digests(created_by=user)
        someone = await person(client, user, self._deps.zoho_zone)
        zone = someone.zone
        setup = await self._setup_card(user, someone)
        changes = await self._changes(reminders)
        feed: list[Block] = []
        if self._calendar is not None:
            feed = home_card(await self._calendar.address(FeedKind.PERSON, user))
        upcoming = await self._upcoming(reminders)
        view = home_view(upcoming, reminders, digests, zone, changes, setup, feed)
        try:
            await client.views_publish(user_id=user, view=view)
        except SLACK_FAILURES as exc:
            log.warning("views.publish for %s failed: %s", user, narrow(exc).reason)

    async def _setup_card(self, user: str, someone: Person) -> list[Block]:
        if self._connect is None:
            return []
        may = self._connect.may_set_up(user, someone)
        url = self._connect.connect_url(await self._connect.workspace(), user) if may else ""
        return setup_card(self._connect.status(), may, url)

    async def _changes(self, reminders: list[Reminder]) -> list[FoundChange]:
        """The latest changes to sessions the person's reminders cover, newest first."""
        active = [reminder for reminder in reminders if not reminder.paused_reason]
        if not active:
            return []
        since = self._deps.clock.now() - CHANGES_SHOWN_FOR
        modules = {reminder.module.id for reminder in active}
        found = await self._deps.store.watches.changes_since(since, modules, limit=MAX_CHANGES * 10)
        covered = [change for change in found if any(covers(reminder, change) for reminder in active)]
        return covered[:MAX_CHANGES]

    async def _upcoming(self, reminders: list[Reminder]) -> list[tuple[str, Session]]:
        """The reminded sessions of the next days, from the cache: each module read once, and the
        event loop let go every `MODULES_AT_ONCE` modules (a cached read is a fraction of a
        millisecond, a person may have 200 reminders)."""
        now = self._deps.clock.now()
        window = next_days(now)
        by_module: dict[str, list[Reminder]] = {}
        for reminder in reminders:
            if not reminder.paused_reason:
                by_module.setdefault(reminder.module.key, []).append(reminder)
        found: dict[str, tuple[str, Session]] = {}
        for count, covering in enumerate(by_module.values(), start=1):
            if count % MODULES_AT_ONCE == 0:
                await asyncio.sleep(0)
            module = covering[0].module
            listing = self._deps.sessions.cached_listing(module, now, window)
            wanted = {reminder.session_id for reminder in covering}
            for session in listing.sessions if listing else ():
                if session.start and ("" in wanted or session.session_id in wanted):
                    found.setdefault(session.session_id, (module.title, session))
        return sorted(found.values(), key=lambda pair: pair[1].sort_key())
