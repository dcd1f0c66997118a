"""What the bot asks Slack about a person."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery import SLACK_FAILURES, narrow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    """What the bot needs to know of someone, from one `users.info`."""

    zone: ZoneInfo
    """Their Slack profile's time zone, or the fallback when Slack can't say."""
    runs_workspace: bool
    """A workspace admin or owner (False when Slack can't say)."""


async def person(client: AsyncWebClient, user_id: str, fallback: ZoneInfo) -> Person:
    try:
        response = await client.users_info(user=user_id)
    except SLACK_FAILURES as exc:
        log.info("users.info for %s failed (%s); using %s", user_id, narrow(exc).reason, fallback)
        return Person(fallback, runs_workspace=False)
    found = response.get("user") or {}
    runs = any(bool(found.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner"))
    name = found.get("tz") or ""
    try:
        return Person(ZoneInfo(name) if name else fallback, runs)
    except (ZoneInfoNotFoundError, ValueError):
        return Person(fallback, runs)


async def user_zone(client: AsyncWebClient, user_id: str, fallback: ZoneInfo) -> ZoneInfo:
    """The person's time zone from their Slack profile, or `fallback` when Slack can't say."""
    return (await person(client, user_id, fallback)).zone


async def user_by_email(client: AsyncWebClient, email: str) -> str | None:
    """The Slack user id with this e-mail; raises DeliveryError, permanent when nobody has it."""
    try:
        response = await client.users_lookupByEmail(email=email)
    except SLACK_FAILURES as exc:
        raise narrow(exc) from exc
    return str((response.get("user") or {}).get("id") or "") or None
