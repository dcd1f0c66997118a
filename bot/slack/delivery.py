"""Posting what the bot says first (digests, reminders), and Slack's refusals narrowed.

Slack's answers fall into three kinds: permanent for that target (pause the
subscription, never retry), rate limited (the client already waited for
Retry-After twice), and passing (a later tick retries). Only this module
looks at Slack's error strings: every other caller gets a `DeliveryError`
from `narrow`.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "user_not_found",
        "account_inactive",
        "messages_tab_disabled",
        "user_disabled",
        "cannot_dm_bot",
        "users_not_found",
    }
)
PAUSE_REASONS = {
    "not_in_channel": "the bot is not in this channel; invite it with /invite @Sessions",
    "channel_not_found": "the channel is private or gone; invite the bot with /invite @Sessions",
    "is_archived": "the channel is archived",
    "user_not_found": "the Slack user no longer exists",
    "account_inactive": "the Slack account is deactivated",
    "messages_tab_disabled": "direct messages to the bot are turned off in its App Home settings",
    "users_not_found": "no Slack user has this e-mail address",
}
SLACK_FAILURES = (SlackApiError, SlackClientError, OSError, TimeoutError)
"""What a Web API call may raise: a refusal, or Slack out of reach."""


class DeliveryError(Exception):
    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    @property
    def pause_reason(self) -> str:
        """What the lists show for a subscription paused by this refusal."""
        return PAUSE_REASONS.get(self.reason, self.reason)


def narrow(exc: BaseException) -> DeliveryError:
    """One of `SLACK_FAILURES` as permanent for its target, or passing."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        return DeliveryError(error, permanent=error in PERMANENT_ERRORS)
    return DeliveryError(f"could not reach Slack: {type(exc).__name__}", permanent=False)


async def post(client: AsyncWebClient, channel: str, message: dict[str, Any]) -> str:
    """chat.postMessage; returns the message ts or raises DeliveryError."""
    try:
        response = await client.chat_postMessage(
            channel=channel, unfurl_links=False, unfurl_media=False, **message
        )
    except SLACK_FAILURES as exc:
        raise narrow(exc) from exc
    return str(response.get("ts") or "")
