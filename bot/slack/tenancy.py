"""Every request runs for the tenant it came from, or not at all.

A request whose signature is valid may still name another team than the one the bot
serves: one installed elsewhere, or a team id swapped in a payload built by someone who
holds the signing secret. Its tenant (the enterprise for an org-wide install, else the
team) is compared with the bot's before any listener runs; another tenant's command gets
a sentence, anything else an empty acknowledgement, and nothing is read or changed.
Events are left to Bolt: a shared channel's events may carry a team of either side.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.logs import tenant_context
from bot.slack import observe
from bot.tenants.tenant import UNNAMED, Tenant

log = logging.getLogger(__name__)

NOT_HERE = (
    "This app is not installed for your workspace, so it cannot answer here. "
    "Ask a workspace admin to add it to Slack."
)
Middleware = Callable[..., Awaitable[BoltResponse]]


def request_tenant(context: AsyncBoltContext) -> str:
    """The tenant a request names: its enterprise for an org-wide install, else its team."""
    if context.is_enterprise_install and context.enterprise_id:
        return str(context.enterprise_id)
    return str(context.team_id or "")


def only_tenant(tenant: Tenant) -> Middleware:
    """Bolt middleware letting through only requests of `tenant` (all, while it is unnamed)."""

    async def gate(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        came = request_tenant(context)
        if tenant.id == UNNAMED or body.get("type") == "event_callback" or came in ("", tenant.id):
            with tenant_context(tenant.id or came):
                return await next()
        log.warning("request of tenant %s refused: this bot serves %s", came, tenant)
        observe.dropped("another_tenant")
        return BoltResponse(status=200, body=NOT_HERE if "command" in body else "")

    return gate
