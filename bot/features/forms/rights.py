"""Who may change a subscription: a reminder is its person's alone; a digest belongs to its
channel, so its creator and anyone in the channel may edit or stop it (as Slack's own
channel settings work)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.channels import Membership, membership
from bot.store.records import Digest, Reminder

NOT_YOUR_REMINDER = "That reminder isn't yours, or it was already stopped, so nothing changed."
DIGEST_GONE = "That digest was already stopped, so nothing changed."


def owns_reminder(reminder: Reminder | None, user: str) -> bool:
    return reminder is not None and reminder.user_id == user


async def may_change_digest(client: AsyncWebClient, digest: Digest, user: str) -> bool:
    if digest.created_by == user:
        return True
    return await membership(client, digest.channel_id, user) is Membership.MEMBER


def not_in_channel(digest: Digest) -> str:
    return f"Only people in <#{digest.channel_id}> can change its digest, so nothing changed."
