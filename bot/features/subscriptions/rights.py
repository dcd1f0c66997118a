"""Who may change a subscription: a reminder is its person's alone; a digest belongs to its
channel, so its creator and anyone in the channel may edit or stop it (as Slack's own
channel settings work)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.channels import Membership, membership
from bot.store.records import Digest, Reminder


def owns_reminder(reminder: Reminder | None, user: str) -> bool:
    return reminder is not None and reminder.user_id == user


async def may_change_digest(client: AsyncWebClient, digest: Digest, user: str, here: str = "") -> bool:
    """`here`: the conversation the person acts from (a command typed in the channel): being
    there needs no question to Slack."""
    if digest.created_by == user or digest.channel_id == here:
        return True
    return await membership(client, digest.channel_id, user) is Membership.MEMBER
