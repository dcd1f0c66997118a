"""Posting what the bot says first (digests, reminders, notices), and Slack's refusals narrowed.

Each post carries the send keys it settles in its message `metadata`, so after a
crash the bot can look in the conversation's history for a message whose
outcome it never recorded (`already_posted`) instead of posting it again.

Slack's answers fall into three kinds: permanent for that target (pause the
subscription, never retry), rate limited (the client already waited for
Retry-After twice), and passing (a later tick retries). Only this module
looks at Slack's error strings: every other caller gets a `DeliveryError`
from `narrow`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
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


SEND_EVENT_TYPE = "sessions_bot_send"
"""The `metadata.event_type` of every scheduled message; its payload names the send keys."""
HISTORY_PAGES = 3
HISTORY_PAGE_SIZE = 200


async def post(
    client: AsyncWebClient, channel: str, message: dict[str, Any], keys: Sequence[str] = ()
) -> str:
    """chat.postMessage, labelled with `keys`; returns the message ts or raises DeliveryError."""
    labels: dict[str, Any] = {}
    if keys:
        labels["metadata"] = {"event_type": SEND_EVENT_TYPE, "event_payload": {"keys": list(keys)}}
    try:
        response = await client.chat_postMessage(
            channel=channel, unfurl_links=False, unfurl_media=False, **labels, **message
        )
    except SLACK_FAILURES as exc:
        raise narrow(exc) from exc
    return str(response.get("ts") or "")


async def already_posted(
    client: AsyncWebClient, target: str, keys: Sequence[str], since: datetime
) -> set[str]:
    """Which of `keys` a message in `target`'s conversation since `since` was labelled with.

    A person's user id is opened as their DM first. Reads at most `HISTORY_PAGES` pages; raises
    DeliveryError when the history cannot be read (missing scope, Slack out of reach)."""
    wanted, found = set(keys), set()
    try:
        channel = await _conversation(client, target)
        cursor = None
        for _ in range(HISTORY_PAGES):
            page = await client.conversations_history(
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                limit=HISTORY_PAGE_SIZE,
                include_all_metadata=True,
                cursor=cursor,
            )
            for item in page.get("messages") or []:
                found |= wanted & _labels(item)
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if found == wanted or not cursor:
                break
    except SLACK_FAILURES as exc:
        raise narrow(exc) from exc
    return found


async def _conversation(client: AsyncWebClient, target: str) -> str:
    if target[:1] not in ("U", "W"):
        return target
    opened = await client.conversations_open(users=target)
    return str((opened.get("channel") or {}).get("id") or target)


def _labels(message: Any) -> set[str]:
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != SEND_EVENT_TYPE:
        return set()
    keys = (metadata.get("event_payload") or {}).get("keys")
    return {key for key in keys if isinstance(key, str)} if isinstance(keys, list) else set()


async def post_ephemeral(client: AsyncWebClient, channel: str, user: str, message: dict[str, Any]) -> None:
    """chat.postEphemeral: a message only `user` sees in `channel`; raises DeliveryError."""
    try:
        await client.chat_postEphemeral(channel=channel, user=user, **message)
    except SLACK_FAILURES as exc:
        raise narrow(exc) from exc
