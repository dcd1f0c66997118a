"""Trainers' e-mail addresses from Zoho People, cached: they change rarely and cost calls."""

from __future__ import annotations

import logging

import diskcache

from bot.clock import Clock
from bot.zoho.budget import Priority
from bot.zoho.client import Call, ZohoClient
from bot.zoho.errors import ZohoRequestError

log = logging.getLogger(__name__)

EMAIL_TTL = 7 * 24 * 3600
MISSING_TTL = 24 * 3600
LOOKUP_SECONDS = 20.0
"""A scheduler tick must not wait long on an e-mail: the reminder can be matched next tick."""


class TrainerEmails:
    def __init__(self, zoho: ZohoClient, cache: diskcache.Cache, clock: Clock) -> None:
        self._zoho = zoho
        self._cache = cache
        self._clock = clock

    async def email(self, erecno: str) -> str | None:
        """The employee's e-mail, or None when Zoho has none (remembered for a day).

        Raises ZohoError when Zoho cannot be asked now, so a passing failure is not
        mistaken for a trainer without an e-mail.
        """
        key = f"trainer-email:{erecno}"
        cached = self._cache.get(key)
        if cached is not None:
            return cached or None
        try:
            deadline = self._clock.time() + LOOKUP_SECONDS
            record = await self._zoho.employee(erecno, Call(Priority.BACKGROUND, deadline))
        except ZohoRequestError:
            record = None
        email = str((record or {}).get("EmailID") or "").strip()
        self._cache.set(key, email, expire=EMAIL_TTL if email else MISSING_TTL)
        return email or None
