"""Trainers' e-mail addresses from Zoho People, cached: they change rarely and cost calls."""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.sessions.errors import RequestRefused
from bot.sessions.source import ZohoSource
from bot.sessions.urgency import Need, Urgency
from bot.tenants.cache import TenantCache

log = logging.getLogger(__name__)

EMAIL_TTL = 7 * 24 * 3600
MISSING_TTL = 24 * 3600
LOOKUP_SECONDS = 20.0
"""A scheduler tick must not wait long on an e-mail: the reminder can be matched next tick."""


class TrainerEmails:
    def __init__(self, source: ZohoSource, cache: TenantCache, clock: Clock) -> None:
        self._source = source
        self._cache = cache
        self._clock = clock

    async def email(self, erecno: str) -> str | None:
        """The employee's e-mail, or None when Zoho has none (remembered for a day).

        Raises SessionsError when Zoho cannot be asked now, so a passing failure is not
        mistaken for a trainer without an e-mail.
        """
        key = f"trainer-email:{erecno}"
        cached = self._cache.get(key)
        if cached is not None:
            return cached or None
        try:
            deadline = self._clock.time() + LOOKUP_SECONDS
            record = await self._source.employee(erecno, Need(Urgency.BACKGROUND, deadline))
        except RequestRefused:
            record = None
        email = str((record or {}).get("EmailID") or "").strip()
        self._cache.set(key, email, expire=EMAIL_TTL if email else MISSING_TTL)
        return email or None
