"""Who the bot is, for Bolt, without making every request depend on Slack's `auth.test`.

Bolt's single-workspace authorization asks `auth.test` before the first request it
handles and, when that call fails, answers the person "your installation with this
app is no longer available, please reinstall" (or, when Slack is out of reach, lets
the request fail with a 500). Neither is true: the bot has one workspace and one
token. So the configured token is always the answer, at once; `auth.test` is asked
in the background, one call at a time, only for the bot's own ids (used by Bolt to
ignore the bot's own events), and a failure leaves them unknown until a later
request asks again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery import SLACK_FAILURES

log = logging.getLogger(__name__)


class SingleWorkspace:
    """`authorize` is Bolt's, for the one workspace the configured bot token belongs to."""

    def __init__(self, client: AsyncWebClient, identity: dict[str, Any] | None = None) -> None:
        """`identity`: what `auth.test` answered at start, when it did."""
        self._client = client
        self._identity: dict[str, Any] = dict(identity or {})
        self._asking: asyncio.Task[None] | None = None

    def for_bolt(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """A plain function: Bolt passes arguments by the names it reads off the signature."""

        async def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            return self.result(enterprise_id, team_id, user_id)

        return authorize

    def result(self, enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        identity = self._identity
        if not identity and (self._asking is None or self._asking.done()):
            self._asking = asyncio.create_task(self._ask(), name="slack auth.test")
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id or identity.get("team_id"),
            bot_token=self._client.token,
            bot_id=identity.get("bot_id"),
            bot_user_id=identity.get("user_id"),
            user_id=user_id,
        )

    async def team_id(self) -> str:
        """The workspace's id, from the one auth.test Bolt's authorization also reads."""
        if not self._identity:
            if self._asking is None or self._asking.done():
                self._asking = asyncio.create_task(self._ask(), name="slack auth.test")
            await asyncio.shield(self._asking)
        return str(self._identity.get("team_id") or "")

    async def _ask(self) -> None:
        self._identity = await ask_identity(self._client)


async def ask_identity(client: AsyncWebClient) -> dict[str, Any]:
    """What `auth.test` says of the token (its team, enterprise, bot ids); {} when it failed."""
    try:
        response = await client.auth_test()
    except SLACK_FAILURES as exc:
        log.warning("slack auth.test failed (%s); answering with the configured token", type(exc).__name__)
        return {}
    return dict(response.data) if isinstance(response.data, dict) else {}
