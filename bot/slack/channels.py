"""What the bot asks Slack about a channel: whether a person is in it, and whether the bot may post there."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery import SLACK_FAILURES, DeliveryError, narrow

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


@dataclass(frozen=True)
class Postable:
    """Whether the bot may post in a conversation; when not, Slack's reason and whether it lasts."""

    can_post: bool
    refusal: DeliveryError | None = None


async def postable(client: AsyncWebClient, channel: str, user: str = "") -> Postable:
    """Asked without posting: a public channel takes the bot's posts (`chat:write.public`), a
    private one only once the bot is in it, an archived one never. A direct message only when it
    is `user`'s own with the bot (asked from there: `conversations.open` names it); a DM between
    people, or a group DM Slack won't describe to the bot, never."""
    if channel.startswith("D"):
        return await _own_dm(client, channel, user)
    try:
        response = await client.conversations_info(channel=channel)
    except SLACK_FAILURES as exc:
        refusal = narrow(exc)
        log.info("conversations.info of %s failed: %s", channel, refusal.reason)
        if refusal.reason == "missing_scope":  # a group DM: the bot is not one of its members
            return Postable(False, DeliveryError("channel_not_found", permanent=True))
        return Postable(False, refusal)
    info = response.get("channel") or {}
    if info.get("is_archived"):
        return Postable(False, DeliveryError("is_archived", permanent=True))
    if info.get("is_private") and not info.get("is_member") and not info.get("is_im"):
        return Postable(False, DeliveryError("not_in_channel", permanent=True))
    return Postable(True)


async def _own_dm(client: AsyncWebClient, channel: str, user: str) -> Postable:
    not_ours = Postable(False, DeliveryError("channel_not_found", permanent=True))
    if not user:
        return not_ours
    try:
        response = await client.conversations_open(users=user)
    except SLACK_FAILURES as exc:
        refusal = narrow(exc)
        log.info("conversations.open with %s failed: %s", user, refusal.reason)
        return Postable(False, refusal)
    return Postable(True) if (response.get("channel") or {}).get("id") == channel else not_ours
