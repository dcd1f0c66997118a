"""`digest` and the Slack and store half of `check`: operator commands that need the whole bot."""

from __future__ import annotations

import json

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.app import Bot
from bot.config import Settings
from bot.fleet import Fleet
from bot.slack import delivery

_EPHEMERAL = (
    "This platform wipes the disk on restart: subscriptions in SQLite would be lost. "
    "Set DATABASE_URL to a PostgreSQL database."
)


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


def mode(settings: Settings) -> str:
    """Which of the two modes the settings choose, in the words `check` prints."""
    if settings.distribution:
        return (
            "Mode: many workspaces (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET): workspaces install from "
            f"{settings.public_url}/slack/install; add {settings.public_url}/slack/oauth_redirect "
            "to the app's Redirect URLs (OAuth & Permissions)"
        )
    return "Mode: one workspace (SLACK_BOT_TOKEN)"


async def check_fleet(fleet: Fleet) -> tuple[list[str], list[str]]:
    """The distribution mode's half of `check`: the store, the installations, their Zoho."""
    good, warnings = [mode(fleet.settings), f"Store: ok ({fleet.root.dialect})"], []
    if fleet.root.dialect == "sqlite" and fleet.settings.disk_is_ephemeral:
        warnings.append(_EPHEMERAL)
    installed = await fleet.slack_stores.installations.installed_tenants()
    summaries = {summary.tenant: summary for summary in await fleet.root.tenant_summaries()}
    connected = sum(1 for entry in installed if (s := summaries.get(entry.tenant_id)) and s.data_centre)
    good.append(f"Slack: {len(installed)} workspace(s) installed; {connected} connected to Zoho People")
    good.append(
        "Zoho: each workspace connects its own organisation from App Home "
        "(ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET are this deployment's Zoho app)"
    )
    return good, warnings


async def check_slack_and_store(bot: Bot, settings: Settings) -> tuple[list[str], list[str]]:
    """(what went well, warnings); raises nothing for a Slack refusal, it becomes a warning."""
    good, warnings = [], []
    await bot.start()
    good.append(f"Store: ok ({bot.root.dialect})")
    if bot.root.dialect == "sqlite" and settings.disk_is_ephemeral:
        warnings.append(_EPHEMERAL)
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
