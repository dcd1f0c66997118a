"""Publishing the Home tab, on `app_home_opened` and after every change a person makes."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.features.deps import Deps
from bot.features.home.render import HomeAction, home_view
from bot.sessions.matching import ModuleRef, parse_triplet
from bot.sessions.model import Session
from bot.sessions.windows import next_days
from bot.slack.errors import after_ack_errors
from bot.slack.users import user_zone

log = logging.getLogger(__name__)


class Home:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_opened)
        app.action(re.compile(rf"^{re.escape(HomeAction.STOP_REMINDER.value)}(:.*)?$"))(
            after_ack_errors(self.on_stop_reminder)
        )
        app.action(re.compile(rf"^{re.escape(HomeAction.STOP_DIGEST.value)}(:.*)?$"))(
            after_ack_errors(self.on_stop_digest)
        )

    async def on_opened(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home":
            await self.publish(client, event["user"])

    async def on_stop_reminder(
        self, ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await self._stop(
            ack, body, client, lambda user, ident: self._deps.store.remove_reminders(user, reminder_id=ident)
        )

    async def on_stop_digest(
        self, ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await self._stop(
            ack, body, client, lambda user, ident: self._deps.store.remove_digest_by_id(ident, user)
        )

    async def _stop(
        self,
        ack: Any,
        body: dict[str, Any],
        client: AsyncWebClient,
        remove: Callable[[str, int], Awaitable[object]],
    ) -> None:
        """A Stop button: remove what it names (only the person's own), then show the new Home."""
        await ack()
        user = body["user"]["id"]
        ident = _ident(body)
        if ident is not None:
            await remove(user, ident)
        await self.publish(client, user)

    async def publish(self, client: AsyncWebClient, user: str) -> None:
        """Build from the store and the session cache only (no Zoho call), then views.publish."""
        reminders = await self._deps.store.reminders(user_id=user)
        digests = await self._deps.store.digests(created_by=user)
        zone = await user_zone(client, user, self._deps.zoho_zone)
        view = home_view(self._upcoming(reminders), reminders, digests, zone)
        try:
            await client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            log.warning("views.publish for %s failed: %s", user, exc.response.get("error"))

    def _upcoming(self, reminders: list[Any]) -> list[tuple[str, Session]]:
        now = self._deps.clock.now()
        window = next_days(now)
        found: dict[str, tuple[str, Session]] = {}
        for reminder in reminders:
            if reminder.paused_reason:
                continue
            module = parse_triplet(reminder.module_key) or ModuleRef("", "", "")
            listing = self._deps.sessions.cached_listing(module, now, window)
            for session in listing.sessions if listing else ():
                if session.start and (not reminder.session_id or session.session_id == reminder.session_id):
                    found.setdefault(session.session_id, (reminder.module_name, session))
        return sorted(found.values(), key=lambda pair: pair[1].sort_key())


def _ident(body: dict[str, Any]) -> int | None:
    value = (body.get("actions") or [{}])[0].get("value") or ""
    return int(value) if value.isdigit() else None
