"""`digest` and the Slack and store half of `check`: operator commands that need the whole bot."""

from __future__ import annotations

import json

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.app import Bot
from bot.config import Settings
from bot.slack import delivery


async def digest(bot: Bot, channel: str, dry_run: bool) -> int:
    messages = await bot.digests.preview(channel)
    if not messages:
        print(f"Channel {channel} has no digest, or nothing is upcoming in its modules this week.")
        return 0
    if dry_run:
        print(json.dumps(messages, indent=2, ensure_ascii=False))
        return 0
    for message in messages:
        try:
            await delivery.post(bot.slack, channel, message)
        except delivery.DeliveryError as exc:
            print(f"Slack refused the digest for {channel}: {exc.pause_reason}.")
            return 1
    print(f"Posted {len(messages)} message(s) to {channel}.")
    return 0


async def check_slack_and_store(bot: Bot, settings: Settings) -> tuple[list[str], list[str]]:
    """(what went well, warnings); raises nothing for a Slack refusal, it becomes a warning."""
    good, warnings = [], []
    await bot.start()
    good.append(f"Store: ok ({bot.root.dialect})")
    if bot.root.dialect == "sqlite" and settings.disk_is_ephemeral:
        warnings.append(
            "This platform wipes the disk on restart: subscriptions in SQLite would be lost. "
            "Set DATABASE_URL to a PostgreSQL database."
        )
    try:
        response = await bot.slack.auth_test()
        good.append(f"Slack: ok, bot user {response.get('user')} in {response.get('team')}")
    except SlackApiError as exc:
        warnings.append(
            f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}): copy it again from the app."
        )
    except (SlackClientError, OSError, TimeoutError) as exc:
        warnings.append(
            f"Slack could not be reached ({type(exc).__name__}); check the network or SLACK_API_URL."
        )
    if not settings.slack_app_token and not settings.slack_signing_secret:
        warnings.append("Neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is set.")
    return good, warnings
