"""What the bot asks Slack about a person."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


async def user_zone(client: AsyncWebClient, user_id: str, fallback: ZoneInfo) -> ZoneInfo:
    """The person's time zone from their Slack profile, or `fallback` when Slack can't say."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.info("users.info for %s failed (%s); using %s", user_id, exc.response.get("error"), fallback)
        return fallback
    except (SlackClientError, OSError, TimeoutError) as exc:
        log.info("users.info for %s unreachable (%s); using %s", user_id, exc, fallback)
        return fallback
    name = (response.get("user") or {}).get("tz") or ""
    try:
        return ZoneInfo(name) if name else fallback
    except (ZoneInfoNotFoundError, ValueError):
        return fallback
