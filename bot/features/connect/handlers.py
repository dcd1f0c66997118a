"""Listeners of the setup card: Connect (a link: only acknowledged), Disconnect, and the
organisation-settings modal; and the two pages of the browser flow."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import available_timezones

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.features.connect.render import ConnectAction, ConnectField, settings_modal
from bot.features.connect.service import CONNECT_PATH, Answer, ConnectService, Republish
from bot.sessions.link import REDIRECT_PATH
from bot.slack.actions import on_action
from bot.slack.messages import sentence_view
from bot.slack.users import person
from bot.slack.views import open_view

log = logging.getLogger(__name__)

ONLY_ADMINS = "Only a Slack workspace admin (or someone in BOT_ADMINS) may change the bot's Zoho connection."
REGIONS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
ZONES = sorted(
    zone
    for zone in available_timezones()
    if "/" in zone
    and zone.split("/", 1)[0]
    in ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
)
"""The IANA zones offered in the settings form (the deprecated aliases and Etc/ ones left out)."""


class ConnectListeners:
    def __init__(self, service: ConnectService, republish: Republish, slack: AsyncWebClient) -> None:
        """`slack`: the client the browser flow republishes a person's Home with (no request to
        hold one then)."""
        self._service = service
        self._republish = republish
        self._slack = slack

    def register(self, app: AsyncApp) -> None:
        on_action(app, ConnectAction.CONNECT, self.on_link)
        on_action(app, ConnectAction.DISCONNECT, self.on_disconnect)
        on_action(app, ConnectAction.SETTINGS, self.on_settings)
        app.view(ConnectAction.SETTINGS.value)(self.on_settings_saved)

    async def _may_set_up(self, client: AsyncWebClient, user: str) -> bool:
        return self._service.may_set_up(user, await person(client, user, self._service.zone()))

    def routes(self) -> list[web.RouteDef]:
        """The browser flow's two pages, served on the bot's public address."""
        return [web.get(CONNECT_PATH, self.connect_page), web.get(REDIRECT_PATH, self.redirect_page)]

    async def on_link(self, ack: Any, *_: object) -> None:
        """The Connect button is a link; Slack still expects the click acknowledged."""
        await ack()

    async def on_disconnect(self, ack: Any, body: dict[str, Any], _: Any, client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        if not await self._may_set_up(client, user):
            view = sentence_view(ONLY_ADMINS)
        else:
            view = sentence_view(await self._service.disconnect(user), ":white_check_mark:")
        await open_view(client, body["trigger_id"], view)
        await self._republish(client, user)

    async def on_settings(self, ack: Any, body: dict[str, Any], _: Any, client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        someone = await person(client, user, self._service.zone())
        if not self._service.may_set_up(user, someone):
            await open_view(client, body["trigger_id"], sentence_view(ONLY_ADMINS))
            return
        modal = settings_modal(someone.zone.key, self._service.status().date_format, ZONES)
        await open_view(client, body["trigger_id"], modal)

    async def on_settings_saved(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        user = body["user"]["id"]
        if not await self._may_set_up(client, user):
            await ack(response_action="update", view=sentence_view(ONLY_ADMINS))
            return
        values = body["view"]["state"].get("values") or {}
        zone = _chosen(values, ConnectField.ZONE, ConnectAction.ZONE)
        date_format = _chosen(values, ConnectField.DATE_FORMAT, ConnectAction.DATE_FORMAT)
        problem = await self._service.tell_settings(user, zone, date_format)
        if problem is not None:
            await ack(response_action="errors", errors={ConnectField.ZONE.value: problem})
            return
        await ack()
        await self._republish(client, user)

    async def connect_page(self, request: web.Request) -> web.Response:
        return _respond(self._service.begin(request.query.get("state", "")))

    async def redirect_page(self, request: web.Request) -> web.Response:
        answer = await self._service.finish({key: request.query[key] for key in request.query})
        if answer.republish_for:
            await self._republish(self._slack, answer.republish_for)
        return _respond(answer)


def _chosen(values: dict[str, Any], block: str, action: str) -> str:
    element = (values.get(block) or {}).get(action) or {}
    option = element.get("selected_option") if isinstance(element, dict) else None
    return str((option or {}).get("value") or "") if isinstance(option, dict) else ""


def _respond(answer: Answer) -> web.Response:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if answer.location:
        return web.Response(status=answer.status, headers={**headers, "Location": answer.location})
    return web.Response(status=answer.status, text=answer.page, content_type="text/html", headers=headers)
