"""What the bot asks Slack about a person."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery import SLACK_FAILURES, narrow

log = logging.getLogger(__name__)


async def user_zone(client: AsyncWebClient, user_id: str, fallback: ZoneInfo) -> ZoneInfo:
    """The person's time zone from their Slack profile, or `fallback` when Slack can't say."""
    try:
        response = await client.users_info(user=user_id)
    except SLACK_FAILURES as exc:
        log.info("users.info for %s failed (%s); using %s", user_id, narrow(exc).reason, fallback)
        return fallback
    name = (response.get("user") or {}).get("tz") or ""
    try:
        return ZoneInfo(name) if name else fallback
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


async def user_by_email(client: AsyncWebClient, email: str) -> str | None:
    """The Slack user id with this e-mail; raises DeliveryError, permanent when nobody has it."""
    try:
        response = await client.users_lookupByEmail(email=email)
    except SLACK_FAILURES as exc:
        raise narrow(exc) from exc
    return str((response.get("user") or {}).get("id") or "") or None
