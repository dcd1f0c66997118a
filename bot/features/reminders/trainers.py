"""Matching Zoho trainers to Slack people by e-mail, for trainers' reminders."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from slack_sdk.web.async_client import AsyncWebClient

from bot.sessions.errors import SessionsError
from bot.sessions.people import TrainerEmails
from bot.slack.delivery import DeliveryError
from bot.slack.users import user_by_email

log = logging.getLogger(__name__)


class TrainerDirectory:
    """erecno -> Slack user id; a trainer who cannot be matched is logged once a day."""

    def __init__(self, emails: TrainerEmails, slack: AsyncWebClient) -> None:
        self._emails = emails
        self._slack = slack
        self._users: dict[str, str] = {}
        self._unmatched: dict[str, date] = {}
        """Trainers no one could match today: not asked about again until tomorrow."""

    async def slack_users(self, erecnos: Iterable[str], today: date) -> dict[str, str]:
        found = {}
        for erecno in erecnos:
            if self._unmatched.get(erecno) == today:
                continue
            user = self._users.get(erecno) or await self._match(erecno, today)
            if user:
                found[erecno] = user
        return found

    async def _match(self, erecno: str, today: date) -> str | None:
        try:
            email = await self._emails.email(erecno)
        except SessionsError as exc:
            log.info("trainer %s: e-mail lookup failed for now, next tick tries again: %s", erecno, exc)
            return None
        if email is None:
            self._report(erecno, today, "Zoho has no e-mail for this trainer")
            return None
        try:
            user = await user_by_email(self._slack, email)
        except DeliveryError as exc:
            if exc.permanent:
                self._report(erecno, today, f"no Slack user with their e-mail ({exc.reason})")
            else:
                log.info("trainer %s: Slack lookup failed for now (%s), next tick tries again", erecno, exc)
            return None
        if user:
            self._users[erecno] = user
        return user

    def _report(self, erecno: str, today: date, why: str) -> None:
        self._unmatched[erecno] = today
        log.warning("trainer %s gets no reminders today: %s", erecno, why)
