"""The Workflow Builder step's listener: a run's `function_executed` in, one
`functions.completeSuccess` or `functions.completeError` out.

The module is found as `/sessions` finds it and its sessions come from the session service, so a
run costs no Zoho call when the data is held and fresh, and answers from older data with its
"as of" line when Zoho is down or locked; only when nothing is held does the step fail.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail
from slack_sdk.errors import SlackApiError

from bot.features.deps import Deps
from bot.features.resolve import Chosen, choose_module
from bot.features.workflow.step import CALLBACK_ID, StepAsk, read_inputs, step_outputs
from bot.sessions.errors import SessionsError
from bot.sessions.windows import next_days
from bot.slack.errors import sentence_for
from bot.slack.text import unformatted

log = logging.getLogger(__name__)


class WorkflowStep:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def register(self, app: AsyncApp) -> None:
        app.function(CALLBACK_ID)(self.on_executed)

    async def on_executed(
        self, inputs: dict[str, Any], body: dict[str, Any], complete: AsyncComplete, fail: AsyncFail
    ) -> None:
        run = (body.get("event") or {}).get("function_execution_id", "")
        outcome = await self._outcome(inputs)
        try:
            if isinstance(outcome, str):
                log.info("workflow step %s failed: %s", run, outcome)
                await fail(error=unformatted(outcome))
            else:
                log.info("workflow step %s completed: %d sessions", run, outcome["count"])
                await complete(outputs=outcome)
        except SlackApiError as exc:
            log.warning("workflow step %s could not be ended: %s", run, exc.response.get("error"))

    async def _outcome(self, inputs: dict[str, Any]) -> dict[str, Any] | str:
        """The outputs, or the sentence the step fails with."""
        ask = read_inputs(inputs or {})
        if isinstance(ask, str):
            return ask
        try:
            return await self._outputs(ask)
        except SessionsError as exc:
            return sentence_for(exc, self._deps.zoho_zone)

    async def _outputs(self, ask: StepAsk) -> dict[str, Any] | str:
        deps = self._deps
        choice = await choose_module(deps, ask.module, "/sessions")
        if not isinstance(choice, Chosen):
            return str(choice.message["text"])
        now = deps.clock.now()
        listing = await deps.sessions.upcoming(choice.module, now, next_days(now, ask.days), deps.deadline())
        log.info("workflow step read %s: %d sessions", choice.module.key, len(listing.sessions))
        return step_outputs(listing, ask.days, deps.zoho_zone)
