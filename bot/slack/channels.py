"""What the bot asks Slack about a channel: whether a person is in it."""

from __future__ import annotations

import logging
from enum import Enum

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery import SLACK_FAILURES, narrow

log = logging.getLogger(__name__)

MEMBER_PAGES = 10
MEMBER_PAGE_SIZE = 1000
"""Up to 10,000 members are read; past that a person is not found (a very large channel)."""


class Membership(Enum):
    MEMBER = "member"
    NOT_MEMBER = "not a member"
    HIDDEN = "a private channel the bot is not in, or no channel"
    UNKNOWN = "Slack could not say"


async def membership(client: AsyncWebClient, channel: str, user: str) -> Membership:
    """Whether `user` is in `channel`, from `conversations.members` (bounded pages)."""
    cursor = ""
    try:
        for _ in range(MEMBER_PAGES):
            response = await client.conversations_members(
                channel=channel, limit=MEMBER_PAGE_SIZE, cursor=cursor or None
            )
            if user in (response.get("members") or []):
                return Membership.MEMBER
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
    except SLACK_FAILURES as exc:
        reason = narrow(exc).reason
        log.info("conversations.members of %s failed: %s", channel, reason)
        return Membership.HIDDEN if reason == "channel_not_found" else Membership.UNKNOWN
    return Membership.NOT_MEMBER
