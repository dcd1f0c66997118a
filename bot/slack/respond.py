"""Answering within Slack's 3 seconds whatever Zoho does.

The answer is computed in a task; if it is ready within the acknowledgement
budget it travels in the acknowledgement itself, otherwise a short placeholder
is acknowledged at once and the answer replaces it through `response_url`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.slack import observe
from bot.slack.errors import error_message
from bot.slack.messages import Message

AckFn = Callable[..., Awaitable[Any]]
RespondFn = Callable[..., Awaitable[Any]]

ACK_BUDGET_SECONDS = 2.0
"""Comfortably inside Slack's 3 s, leaving room for the network and Bolt itself."""


async def answer_command(
    ack: AckFn,
    respond: RespondFn,
    answer: Coroutine[Any, Any, Message],
    placeholder: Message,
    user: str,
    budget: float = ACK_BUDGET_SECONDS,
) -> None:
    """Ack with the answer if it is ready in time, else with `placeholder` and follow up.

    A failure of `answer` becomes its sentence here (`error_message`), so the person
    is never left without a word.
    """
    task = asyncio.ensure_future(answer)
    done, _ = await asyncio.wait({task}, timeout=budget)
    if done:
        await ack(response_type="ephemeral", **_outcome(task, user))
        return
    observe.answering_later()
    await ack(response_type="ephemeral", **placeholder)
    await asyncio.wait({task})
    try:
        await respond(response_type="ephemeral", replace_original=True, **_outcome(task, user))
    finally:
        observe.finish_current()


def _outcome(task: asyncio.Future[Message], user: str) -> Message:
    error = task.exception()
    return task.result() if error is None else error_message(error, user)
