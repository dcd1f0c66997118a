"""Opening and updating modals: Slack's views.open and views.update, failures logged, never raised.

A modal opens only with the `trigger_id` of the interaction that asked for it, within
3 seconds of it and once; a refusal then is logged and the caller is told False, for
there is nothing a person could do about it but click again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery import SLACK_FAILURES, narrow

log = logging.getLogger(__name__)


async def open_view(client: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> str | None:
    """views.open; the new view's id, or None when Slack refused or could not be reached."""
    try:
        response = await client.views_open(trigger_id=trigger_id, view=view)
    except SLACK_FAILURES as exc:
        log.warning("views.open %s failed: %s", view.get("callback_id") or "", narrow(exc).reason)
        return None
    return str((response.get("view") or {}).get("id") or "") or None


async def update_view(client: AsyncWebClient, view_id: str, view: dict[str, Any]) -> bool:
    """views.update of an open modal; False when Slack refused (the modal was closed…)."""
    try:
        await client.views_update(view_id=view_id, view=view)
    except SLACK_FAILURES as exc:
        log.info("views.update of %s failed: %s", view_id, narrow(exc).reason)
        return False
    return True
