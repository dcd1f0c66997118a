"""Listeners of the listing: unpack the payload, delegate, answer. Rendering lives in render.py."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.features.deps import Deps
from bot.features.listing.ids import Action, ListingRef, decode_listing
from bot.features.listing.render import (
    ambiguous_message,
    listing_message,
    looking_up_message,
    not_found_message,
)
from bot.sessions.matching import Ambiguous, Found
from bot.sessions.modules import ModuleRef
from bot.sessions.windows import Window, named_window, next_days
from bot.slack import delivery
from bot.slack.actions import action_value, on_action
from bot.slack.messages import Message, sentence_message
from bot.slack.respond import AckFn, RespondFn, answer_command
from bot.slack.text import escape
from bot.slack.users import user_zone

log = logging.getLogger(__name__)

OLD_BUTTON = "This button is from an older message the bot can no longer read; run `/sessions` again."
CANNOT_POST = (
    "I can't post in this channel. Invite me first (`/invite @Sessions`), or share it in a channel I'm in."
)


def register(app: AsyncApp, deps: Deps) -> None:
    listing = ListingActions(deps)
    on_action(app, Action.SHOW_MORE, listing.on_show_more)
    on_action(app, Action.SHARE, listing.on_share)
    on_action(app, Action.PICK_MODULE, listing.on_pick)
    on_action(app, Action.SELECT_MODULE, listing.on_pick)
    on_action(app, Action.CALENDAR, just_ack)


async def just_ack(ack: AckFn, *_: object) -> None:
    """Link buttons open their URL in the browser; Slack still expects an acknowledgement."""
    await ack()


async def show_sessions(
    deps: Deps,
    ack: AckFn,
    respond: RespondFn,
    client: AsyncWebClient,
    user_id: str,
    query: str,
    window_word: str,
) -> None:
    """`/sessions <module> [window]`: the answer in the ack when at hand, else through response_url."""
    await answer_command(
        ack,
        respond,
        listing_answer(deps, client, user_id, query, window_word),
        looking_up_message(query),
        user_id,
    )


async def listing_answer(
    deps: Deps, client: AsyncWebClient, user_id: str, query: str, window_word: str, offset: int = 0
) -> Message:
    resolution = await deps.catalog.lookup(query, deps.deadline())
    if isinstance(resolution, Ambiguous):
        return ambiguous_message(query, resolution.candidates, window_word)
    if not isinstance(resolution, Found):
        discovering = deps.catalog.walked_at() is None
        return not_found_message(query, resolution.nearest, window_word, discovering)
    return await _render_listing(deps, client, user_id, resolution.module, window_word, offset)


async def _render_listing(
    deps: Deps,
    client: AsyncWebClient,
    user_id: str,
    module: ModuleRef,
    window_word: str,
    offset: int = 0,
    shared_by: str | None = None,
) -> Message:
    window = await _window(deps, client, user_id, window_word)
    listing = await deps.sessions.upcoming(module, deps.clock.now(), window, deps.deadline())
    offset = min(max(0, offset), max(0, len(listing.sessions) - 1))
    return listing_message(
        listing, window.label, window_word, deps.zoho_zone, offset, shared_by, deps.calendar_links
    )


async def _window(deps: Deps, client: AsyncWebClient, user_id: str, word: str) -> Window:
    now = deps.clock.now()
    if word in ("today", "tomorrow"):
        return named_window(word, now, await user_zone(client, user_id, deps.zoho_zone))
    if word:
        return named_window(word, now, deps.zoho_zone)
    return next_days(now)


class ListingActions:
    """The buttons on a listing; each acks at once, then replaces or posts."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def on_show_more(
        self, ack: AckFn, body: dict[str, Any], respond: RespondFn, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = _listing_ref(body)
        if ref is None:
            await respond(replace_original=False, **sentence_message(OLD_BUTTON))
            return
        message = await self._answer(client, body["user"]["id"], ref)
        await respond(replace_original=True, **message)

    async def on_pick(
        self, ack: AckFn, body: dict[str, Any], respond: RespondFn, client: AsyncWebClient
    ) -> None:
        await self.on_show_more(ack, body, respond, client)

    async def on_share(
        self, ack: AckFn, body: dict[str, Any], respond: RespondFn, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = _listing_ref(body)
        user_id = body["user"]["id"]
        if ref is None:
            await respond(replace_original=False, **sentence_message(OLD_BUTTON))
            return
        message = await self._answer(client, user_id, ref, shared_by=user_id)
        channel = (body.get("channel") or {}).get("id") or ""
        try:
            await delivery.post(client, channel, message)
        except delivery.DeliveryError as exc:
            log.info("share in %s by %s failed: %s", channel, user_id, exc.reason)
            if exc.reason in ("not_in_channel", "channel_not_found"):
                sentence = CANNOT_POST
            elif exc.permanent:
                sentence = f"I can't post the listing here: {escape(exc.pause_reason)}."
            else:
                sentence = f"Slack refused to post the listing ({escape(exc.reason)}); please try again."
            await respond(replace_original=False, **sentence_message(sentence))

    async def _answer(
        self, client: AsyncWebClient, user_id: str, ref: ListingRef, shared_by: str | None = None
    ) -> Message:
        module = self._deps.catalog.module(ref.module)
        if module is None:
            return sentence_message(OLD_BUTTON)
        return await _render_listing(self._deps, client, user_id, module, ref.window, ref.offset, shared_by)


def _listing_ref(body: dict[str, Any]) -> ListingRef | None:
    value = action_value(body)
    try:
        return decode_listing(value)
    except ValueError as exc:
        log.info("undecodable listing button value: %s", exc)
        return None
