"""What a person is told when something fails: a sentence, never a trace or silence.

This is the one place failures become words for a person. The domain's failures
(`SessionsError`: Zoho locked, down, refusing…) map to a sentence that says what
happened and what to do; anything else is logged under a short reference and the
person is told that reference. Listeners let failures rise to here: through
`answer_command`, `after_ack_errors` or Bolt's `app.error` handler.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.sessions.errors import (
    ApiPaused,
    CallLimitReached,
    DailyAllowanceSpent,
    ModuleGone,
    NeedsAdmin,
    NotConnected,
    RequestRefused,
    SessionsError,
    SettingsUnknown,
    SignInsPaused,
)
from bot.slack import observe
from bot.slack.messages import Message, message_view, sentence_message
from bot.slack.text import date_token
from bot.slack.views import open_view

log = logging.getLogger(__name__)

ADMIN_NEEDED = "The bot's connection to Zoho People needs an admin: ask them to run `python -m bot check`."
MODULE_GONE_PAUSE = "Zoho no longer has this module; subscribe again if it comes back"
NOT_CONNECTED_PAUSE = (
    "Zoho People is not connected; it resumes when someone connects it from the bot's Home tab"
)
SETTINGS_PAUSE = (
    "Zoho People's time zone and date format are not known yet; it resumes once they are set in the "
    "bot's Home tab"
)
NOT_THE_CHANNELS = (MODULE_GONE_PAUSE, NOT_CONNECTED_PAUSE, SETTINGS_PAUSE)
"""Pauses that are not about the channel: a digest saved there again does not lift them."""
"""Why a subscription is paused when Zoho answers 404 for its module (shown in the lists)."""


SETTINGS_UNKNOWN = (
    "Zoho People is connected, but I don't know its time zone and date format yet, so I'd show "
    "sessions at the wrong times. A Slack workspace admin can set them in my Home tab."
)
NOT_CONNECTED = (
    "Zoho People isn't connected to this bot yet, so I can't read any sessions. A Slack workspace "
    "admin (or anyone in BOT_ADMINS) can connect it with *Connect Zoho People* in my Home tab."
)


def sentence_for(error: SessionsError, fallback_zone: tzinfo = UTC) -> str:
    """The sentence for a domain failure (date tokens are filled in by Slack for each reader;
    where Slack cannot, their fallback text is in `fallback_zone`)."""
    if isinstance(error, NotConnected):
        return NOT_CONNECTED
    if isinstance(error, SettingsUnknown):
        return SETTINGS_UNKNOWN
    if isinstance(error, NeedsAdmin):
        return ADMIN_NEEDED
    if isinstance(error, SignInsPaused):
        return "Zoho is refusing new sign-ins from the bot for a few minutes; try again in 10 minutes."
    if isinstance(error, ApiPaused):
        until = datetime.fromtimestamp(error.until, UTC)
        return (
            "Zoho has paused the bot's access for a few minutes after too many requests; "
            f"try again after {date_token(until, '{time}', fallback_zone)}."
        )
    if isinstance(error, CallLimitReached):
        seconds = max(1, round(error.retry_after))
        return f"The bot is at its Zoho call limit right now; try again in {seconds} seconds."
    if isinstance(error, DailyAllowanceSpent):
        frees = datetime.fromtimestamp(error.frees_at, UTC)
        return (
            "The bot has used up its daily Zoho allowance, so it can't fetch this module now; "
            f"more frees at {date_token(frees, '{date_short_pretty} {time}', fallback_zone)}."
        )
    if isinstance(error, ModuleGone):
        return "Zoho no longer knows this module (it may have been removed); pick another with `/sessions`."
    if isinstance(error, RequestRefused):
        return (
            f"Zoho refused the request (HTTP {error.status}): the bot may lack access to this course. "
            f"{ADMIN_NEEDED}"
        )
    return "Zoho People isn't answering right now; try again in a few minutes."


def error_message(error: BaseException, user: str) -> Message:
    """What the person is told about `error`: the domain's sentence, or a logged reference."""
    if isinstance(error, SessionsError):
        log.info("user %s told: %s", user, error)
        observe.told(type(error).__name__)
        return sentence_message(sentence_for(error))
    return _reference_message(error, user)


def _reference_message(error: BaseException, user: str) -> Message:
    """Log the cause under a short reference, and tell the person that reference."""
    reference = uuid.uuid4().hex[:8]
    log.error("unexpected error %s for user %s", reference, user, exc_info=error)
    observe.failed(reference)
    return sentence_message(
        f"Something went wrong on the bot's side (reference {reference}); please try again."
    )


async def handle_unexpected(error: Exception, body: dict[str, Any], respond: Any, client: Any = None) -> None:
    """Bolt's global error handler, and `after_ack_errors`': tell the person, ephemerally, or in
    a modal when the interaction has no response_url (App Home, a modal, a shortcut)."""
    user = (body.get("user") or {}).get("id") or body.get("user_id") or "?"
    message = error_message(error, user)
    if respond is None or not (body.get("response_url") or body.get("response_urls")):
        if client is not None and isinstance(body.get("trigger_id"), str):
            await open_view(client, body["trigger_id"], message_view(message))
        return
    try:
        await respond(response_type="ephemeral", replace_original=False, **message)
    except Exception:  # the person cannot be told; the log already has the cause
        log.warning("could not tell user %s about an error", user)


ActionListener = Callable[[Any, dict[str, Any], Any, Any], Awaitable[None]]


def after_ack_errors(listener: ActionListener) -> ActionListener:
    """Wrap an action listener `(ack, body, respond, client)` that acks first.

    A failure after its ack is told to the person here instead of reaching Bolt:
    Bolt 1.x overwrites an earlier ack with nothing when a listener raises within
    its 10 ms polling interval, then answers Slack 404 after 3 s (the button shows
    an error). Acking again is harmless when the ack already left.
    """

    async def guarded(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        observe.answering_later()
        try:
            await listener(ack, body, respond, client)
        except Exception as error:
            await ack()
            await handle_unexpected(error, body, respond, client)
        finally:
            observe.finish_current()

    guarded.__name__ = getattr(listener, "__name__", "action_listener")
    guarded.__qualname__ = getattr(listener, "__qualname__", guarded.__name__)
    return guarded
