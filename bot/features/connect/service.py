"""Connecting Zoho People from Slack: who may, the browser flow's two steps, the organisation's
settings, disconnecting, and keeping every instance on the same connection.

Without BOT_PUBLIC_URL (or with ZOHO_REFRESH_TOKEN set) the connection is the
operator's and fixed: none of this applies, and the setup card is not shown.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.coordination import Coordination
from bot.features.connect import pages
from bot.features.connect.render import Status
from bot.features.connect.state import BadState, read_state, sign_state
from bot.sessions.errors import NeedsAdmin, SessionsError
from bot.sessions.link import ConnectRefused, Linked, NotAnAdmin, ZohoLink
from bot.sessions.orgtime import OrgTime
from bot.slack.errors import NOT_CONNECTED_PAUSE, SETTINGS_PAUSE
from bot.slack.users import Person
from bot.store.connections import OrgSettingsRecord, StoredConnection
from bot.store.scoped import TenantStore
from bot.tenants.organisation import OrganisationScope

log = logging.getLogger(__name__)

CONNECTION = "workspace"
"""The connection's name in the store: this workspace's."""
CONNECT_PATH = "/zoho/connect"
SETTINGS_EVERY = timedelta(days=1)
SETTINGS_RETRY_SECONDS = 300.0
"""Zoho did not answer for the organisation's settings: asked again this much later."""
RELOAD_SECONDS = 60.0
"""How often an instance looks for a connection another instance made or ended."""
FROM_ZOHO = "zoho"


@dataclass(frozen=True)
class SettingsOutcome:
    """The organisation's zone when Zoho told it, else why not (for the page and the card)."""

    zone: str = ""
    problem: str = ""


@dataclass(frozen=True)
class Answer:
    """What the browser gets: a status and a page, or a redirect; and whose Home to republish."""

    status: int
    page: str = ""
    location: str = ""
    republish_for: str = ""


Republish = Callable[[AsyncWebClient, str], Awaitable[None]]


class ConnectService:
    def __init__(
        self,
        store: TenantStore,
        link: ZohoLink,
        orgtime: OrgTime,
        forget_data: Callable[[], None],
        on_connected: Callable[[], None],
        team_id: Callable[[], Awaitable[str]],
        coordination: Coordination,
        clock: Clock,
        public_url: str,
        secret_key: str,
        admins: frozenset[str],
        organisation: OrganisationScope,
    ) -> None:
        """`organisation` learns the connected organisation's `Company`, which names its budget."""
        self._store = store
        self._link = link
        self._orgtime = orgtime
        self._forget_data = forget_data
        self._on_connected = on_connected
        self._team_id = team_id
        self._coordination = coordination
        self._clock = clock
        self._public_url = public_url
        self._secret_key = secret_key
        self._admins = admins
        self._organisation = organisation
        self._stored: StoredConnection | None = None
        self._settings_problem = ""
        self._settings_retry_at = 0.0

    # ------------------------------------------------------------------ who, and the card

    def may_set_up(self, user: str, someone: Person) -> bool:
        """A Slack workspace admin or owner, or someone in BOT_ADMINS."""
        return user in self._admins or someone.runs_workspace

    def zone(self) -> ZoneInfo:
        """The zone the organisation's times are read in now."""
        return self._orgtime.zone

    async def workspace(self) -> str:
        """This workspace's team id, which the state names (Bolt's own auth.test answer)."""
        return await self._team_id()

    def connect_url(self, workspace: str, user: str) -> str:
        state = sign_state(self._secret_key, workspace, user, self._clock.time())
        return f"{self._public_url}{CONNECT_PATH}?state={state}"

    def status(self) -> Status:
        stored = self._stored
        if stored is None:
            return Status(connected=False)
        return Status(
            connected=True,
            data_centre=stored.data_centre,
            connected_by=stored.connected_by,
            connected_at=stored.connected_at,
            zone=self._orgtime.zone.key,
            zone_source=self._orgtime.zone_source,
            date_format=self._orgtime.date_format,
            date_format_source=self._orgtime.date_format_source,
            settings_missing=stored.settings is None,
            settings_problem=self._settings_problem or pages.NOT_ADMIN,
        )

    # ------------------------------------------------------------------ the browser flow

    def begin(self, state: str) -> Answer:
        """`/zoho/connect`: on to Zoho's consent page, if the state is one the bot made and alive."""
        try:
            read_state(self._secret_key, state, self._clock.time())
        except BadState as exc:
            log.info("zoho connect refused: %s", exc)
            return Answer(400, pages.refused(str(exc), pages.AGAIN))
        return Answer(302, location=self._link.consent_url(state))

    async def finish(self, query: Mapping[str, str]) -> Answer:
        """`/zoho/oauth_redirect`: check everything Zoho sent back before anything is asked of it."""
        now = self._clock.time()
        try:
            state = read_state(self._secret_key, query.get("state", ""), now)
        except BadState as exc:
            log.info("zoho redirect refused: %s", exc)
            return Answer(400, pages.refused(str(exc), pages.AGAIN))
        if not await self._coordination.add(f"zoho-connect-state:{state.nonce}", "1", now, state.expires_at):
            log.info("zoho redirect refused: state already used (%s)", state.user)
            return Answer(400, pages.refused("This link was already used.", pages.AGAIN))
        if query.get("error"):
            log.info("zoho redirect: consent refused by %s (%s)", state.user, query["error"][:40])
            why = (
                "Zoho says the request was not allowed."
                if query["error"] == "access_denied"
                else ("Zoho could not complete the request.")
            )
            return Answer(400, pages.refused(why, pages.AGAIN), republish_for=state.user)
        code, server = query.get("code", ""), query.get("accounts-server", "")
        if not code:
            return Answer(400, pages.refused("Zoho sent no code back.", pages.AGAIN))
        server = server or self._link.home_accounts_url()
        if not self._link.knows_server(server):
            log.warning("zoho redirect refused: accounts server %r is not Zoho's", server[:100])
            return Answer(400, pages.refused("Zoho's answer named a server that is not Zoho's.", pages.AGAIN))
        try:
            linked = await self._link.exchange(code, server)
        except ConnectRefused as exc:
            log.info("zoho redirect: code refused for %s", state.user)
            return Answer(400, pages.refused(str(exc), pages.AGAIN))
        except SessionsError as exc:
            log.warning("zoho redirect: Zoho could not be asked: %s", exc)
            return Answer(503, pages.refused("Zoho's accounts server could not be reached.", pages.AGAIN))
        return await self._connected(linked, state.user)

    async def _connected(self, linked: Linked, user: str) -> Answer:
        now = self._clock.now()
        previous = self._link.linked
        centre = (linked.data_centre, linked.accounts_url, linked.people_url)
        await self._store.save_connection(CONNECTION, linked.refresh_token, centre, user, now)
        if previous is not None and previous.refresh_token != linked.refresh_token:
            await self._revoke_quietly()  # a reconnection leaves no older token alive at Zoho
        await self._link.use(linked)
        self._forget_data()  # what was held may be another organisation's, or read in other settings
        resumed = await self._store.resume_paused(NOT_CONNECTED_PAUSE)
        log.info("zoho connected (%s) by %s; %d subscription(s) resumed", linked.data_centre, user, resumed)
        outcome = await self._read_settings()
        self._stored = await self._store.connection(CONNECTION)
        self._on_connected()
        if outcome.zone:
            return Answer(200, pages.connected(linked.data_centre, outcome.zone), republish_for=user)
        return Answer(
            200, pages.connected_without_settings(linked.data_centre, outcome.problem), republish_for=user
        )

    async def _revoke_quietly(self) -> None:
        try:
            await self._link.revoke()
        except SessionsError as exc:
            log.warning("the previous zoho token could not be revoked (%s)", exc)

    # ------------------------------------------------------------------ the organisation's settings

    async def _read_settings(self) -> SettingsOutcome:
        """Read the zone and date format from Zoho and use them. When Zoho won't tell (a
        connection made by someone who is not a Zoho People admin), or says something unusable,
        the setup card asks for them; when Zoho could not be asked, the bot asks again later.
        Meanwhile nothing is read in the wrong zone: listings say why, sends wait."""
        try:
            found = await self._link.organisation()
        except NotAnAdmin:
            log.info("zoho organisation settings: not an admin; the setup card asks for them")
            return await self._without_settings(pages.NOT_ADMIN)
        except NeedsAdmin as exc:
            log.warning("zoho organisation settings could not be used: %s", exc)
            return await self._without_settings(f"Zoho's own settings could not be used: {exc}")
        except SessionsError as exc:
            log.warning("zoho organisation settings could not be read: %s", exc)
            self._settings_retry_at = self._clock.time() + SETTINGS_RETRY_SECONDS
            return await self._without_settings(pages.NOT_ANSWERED)
        record = OrgSettingsRecord(found.zone, found.date_format, found.company, FROM_ZOHO, self._clock.now())
        await self._store.save_org_settings(CONNECTION, record)
        self._organisation.learn(found.company)
        await self._learn(found.zone, found.date_format, "Zoho")
        return SettingsOutcome(zone=found.zone)

    async def _without_settings(self, problem: str) -> SettingsOutcome:
        self._settings_problem = problem
        self._orgtime.expect()
        if self._orgtime.awaiting:
            paused = await self._store.pause_all(SETTINGS_PAUSE)
            log.info("%d subscription(s) wait for the organisation's settings", paused)
        return SettingsOutcome(problem=problem)

    async def _learn(self, zone: str, date_format: str, source: str) -> None:
        """Use these settings; data held was parsed and fetched under the old ones, so it goes."""
        changed = (self._orgtime.zone.key, self._orgtime.date_format) != (zone, date_format)
        self._orgtime.learn(zone, date_format, source)
        self._settings_problem = ""
        self._settings_retry_at = 0.0
        if changed:
            self._forget_data()
        await self._store.resume_paused(SETTINGS_PAUSE)

    async def tell_settings(self, user: str, zone: str, date_format: str) -> str | None:
        """Settings a person gave because Zoho would not; the problem as a sentence, or None."""
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            return "Choose a time zone from the list."
        if self._stored is None:
            return "Zoho People was disconnected meanwhile; connect it again first."
        record = OrgSettingsRecord(zone, date_format, "", f"person:{user}", self._clock.now())
        if not await self._store.save_org_settings(CONNECTION, record):
            return "Zoho People was disconnected meanwhile; connect it again first."
        await self._learn(zone, date_format, _source(record.source))
        self._stored = await self._store.connection(CONNECTION)
        log.info("zoho organisation settings given by %s", user)
        return None

    # ------------------------------------------------------------------ disconnecting

    async def disconnect(self, user: str) -> str:
        """Revoke the token at Zoho, forget it, and pause what needs Zoho; what to tell the person."""
        if self._stored is None:
            return "Zoho People was not connected."
        revoked = True
        try:
            await self._link.revoke()
        except SessionsError as exc:
            revoked = False
            log.warning("zoho token could not be revoked (%s); forgotten here all the same", exc)
        await self._store.forget_connection(CONNECTION)
        await self._link.use(None)
        self._orgtime.forget()
        self._forget_data()
        self._stored = None
        paused = await self._store.pause_all(NOT_CONNECTED_PAUSE)
        log.info("zoho disconnected by %s; %d subscription(s) paused", user, paused)
        said = "Disconnected Zoho People: the bot's access was revoked at Zoho and forgotten here."
        if not revoked:
            said = (
                "Disconnected Zoho People here, but Zoho could not be reached to revoke the bot's access: "
                "remove it under Connected Apps in your Zoho account to be sure."
            )
        return f"{said} Digests and reminders wait until Zoho People is connected again."

    # ------------------------------------------------------------------ every instance, over time

    async def load(self) -> None:
        """Take up the connection the store holds (made by this or another instance), and its settings;
        when the one taken up before is gone, what this instance holds of that organisation goes."""
        stored = await self._store.connection(CONNECTION)
        if stored != self._stored:
            held = self._stored
            self._stored = stored
            await take_up(stored, self._link, self._orgtime, self._organisation)
            if held is not None and (stored is None or stored.refresh_token != held.refresh_token):
                self._forget_data()  # disconnected (or its tenant left) through another instance

    async def keep_fresh(self) -> None:
        """Forever: follow the store's connection, and read Zoho's settings again when due."""
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("keeping the Zoho connection fresh failed; trying again later")
            await self._clock.sleep(RELOAD_SECONDS)

    async def refresh(self) -> None:
        """Follow the store's connection; read Zoho's settings once a day, and again a few minutes
        after Zoho did not answer for them."""
        await self.load()
        stored = self._stored
        settings = stored.settings if stored is not None else None
        daily = (
            settings is not None
            and settings.source == FROM_ZOHO
            and self._clock.now() - settings.at >= SETTINGS_EVERY
        )
        again = stored is not None and settings is None and 0 < self._settings_retry_at <= self._clock.time()
        if daily or again:
            await self._read_settings()
            self._stored = await self._store.connection(CONNECTION)


async def take_up(
    stored: StoredConnection | None,
    link: ZohoLink,
    orgtime: OrgTime,
    organisation: OrganisationScope | None = None,
) -> None:
    """Read Zoho as the stored connection, in its organisation's settings (for the bot, and for the
    operator's commands on a bot connected from Slack), counting its calls against its `Company`."""
    if stored is None:
        await link.use(None)
        orgtime.forget()
        return
    await link.use(Linked(stored.refresh_token, stored.data_centre, stored.accounts_url, stored.people_url))
    if stored.settings is not None and organisation is not None:
        organisation.learn(stored.settings.company)
    if stored.settings is not None:
        orgtime.learn(stored.settings.zone, stored.settings.date_format, _source(stored.settings.source))
    else:
        orgtime.expect()


def _source(stored: str) -> str:
    """How App Home and `check` name where a setting came from."""
    if stored == FROM_ZOHO:
        return "Zoho"
    user = stored.removeprefix("person:")
    if stored.startswith("person:") and user.isascii() and user.isalnum():
        return f"<@{user}> in App Home"
    return "someone in App Home"
