"""What the features need from the rest of the bot, handed to each `register(app, deps)`."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.features.calendar.links import SessionFileLinks
from bot.sessions.catalog import Catalog
from bot.sessions.orgtime import OrgTime
from bot.sessions.service import SessionService
from bot.store.scoped import TenantStore

LOOKUP_SECONDS = 20.0
"""How long a person's lookup may take in all, waiting on the budget included."""


@dataclass(frozen=True)
class Deps:
    clock: Clock
    catalog: Catalog
    sessions: SessionService
    orgtime: OrgTime
    store: TenantStore
    calendar_links: SessionFileLinks | None = None
    """Signs each session's calendar file address; None without BOT_PUBLIC_URL (no such button)."""

    @property
    def zoho_zone(self) -> ZoneInfo:
        """The zone the organisation's times are read in, now (it may be learnt from Zoho)."""
        return self.orgtime.zone

    def deadline(self) -> float:
        return self.clock.time() + LOOKUP_SECONDS
