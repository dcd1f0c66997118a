"""A fake Slack for tests: Web API, response_url and Socket Mode on 127.0.0.1.

Why: the bot must be exercised end to end (slack_sdk clients, Bolt, Socket Mode)
without the internet, and against Slack's real answers and failure modes (429s,
not_in_channel, messages_tab_disabled, the response_url limit, trigger_ids that
expire after 3 seconds and work once) under test control.
The server runs in its own thread and event loop so that sync tests and async
tests (whose loop runs the bot) can both drive it.

Usage::

    with FakeSlack() as fake:
        fake.add_user("U1", name="ada", tz="Europe/Paris")
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        ...
        calls = await fake.wait_for_calls_async("chat.postMessage", 1)

Modals: hand the bot a trigger from `issue_trigger()` (inside a payload built by
tests/fakes/signing.py), then read what it opened with `modals` / `modal(view_id)`.

Workspaces: `xoxb-test` is the default team's (TEAM_ID) token. `add_team` adds
another, `issue_token(team_id)` or an install through `authorize_url` (after
`approve_next(team_id)`) gives it a token, and that token reaches only its own
team's channels and people (tests/fakes/slack_teams.py, slack_oauth.py).
"""

# The *_async waiters take `timeout` on purpose, mirroring their blocking twins.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import html
import json
import socket
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import WSCloseCode, WSMsgType, web

from tests.fakes.blockkit import MESSAGE_MAX_BLOCKS, block_errors, view_errors
from tests.fakes.slack_functions import FunctionRun, FunctionRuns
from tests.fakes.slack_oauth import (
    AUTHORIZE_PATH,
    CLIENT_ID,
    CLIENT_SECRET,
    ConsentVisit,
    Install,
    InstallPlan,
    OAuth,
)
from tests.fakes.slack_teams import BOT_ID, BOT_USER_ID, ROTATION_SECONDS, TEAM_ID, Grant, Team, Teams

T = TypeVar("T")
JSON = dict[str, Any]

BOT_USER_NAME = "sessions-bot"
APP_ID = "A0001"

RESPONSE_URL_MAX_POSTS = 5
POLL_INTERVAL = 0.01
TRIGGER_SECONDS = 3.0
"""How long a trigger_id opens a view, in real time (Slack: 3 seconds)."""
MEMBERS_MAX_LIMIT = 1000

#: View fields Slack owns: whatever a caller sends for them is ignored.
SERVER_VIEW_FIELDS = frozenset(
    {"id", "team_id", "hash", "state", "app_id", "bot_id", "root_view_id", "previous_view_id"}
)

#: Methods the app calls with its client id and secret (HTTP Basic) instead of a token.
CLIENT_METHODS = frozenset({"oauth.v2.access"})
#: Methods that take the app-level (xapp-) token instead of the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
#: Fields that form-encoded callers send as JSON strings.
JSON_STRING_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "outputs"})

_TZ_LABELS = {
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "UTC": "Coordinated Universal Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "IST": "India Standard Time",
    "JST": "Japan Standard Time",
}


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake received it, with the answer it gave."""

    method: str
    args: JSON
    token: str | None
    at: float
    status: int = 200
    response: JSON = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when Slack would have accepted the call."""
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        """Slack's error code ("ratelimited", "not_in_channel", ...), None on success."""
        return None if self.ok else self.response.get("error")


@dataclass(frozen=True)
class Response:
    """One post to a response_url; `path` is the request path ("/response/r1")."""

    path: str
    body: Any
    at: float
    status: int = 200

    @property
    def name(self) -> str:
        """The name given to `FakeSlack.response_url`."""
        return self.path.removeprefix("/response/")


@dataclass(frozen=True)
class SocketAck:
    """An acknowledgement the Socket Mode client sent back for an envelope."""

    envelope_id: str
    payload: Any
    at: float


@dataclass
class _User:
    id: str
    name: str
    real_name: str
    tz: str
    tz_label: str | None
    email: str
    locale: str
    is_bot: bool = False
    deleted: bool = False
    messages_tab: bool = True
    is_admin: bool = False
    is_owner: bool = False
    team_id: str = TEAM_ID


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool
    is_member: bool
    is_archived: bool
    members: list[str] = field(default_factory=list)
    team_id: str = TEAM_ID


@dataclass
class _Fault:
    status: int
    body: JSON
    headers: dict[str, str]
    remaining: int
    passes: int = 0
    """Calls that go through untouched before this fault starts answering."""


@dataclass(frozen=True)
class _Answer:
    status: int
    body: JSON
    headers: dict[str, str] = field(default_factory=dict)


def _ok(**fields: Any) -> JSON:
    return {"ok": True, **fields}


def _err(error: str, **fields: Any) -> JSON:
    return {"ok": False, "error": error, **fields}


# --------------------------------------------------------------------------- the fake


class FakeSlack:
    """A local Slack: Web API at `api_url`, response_urls and a Socket Mode websocket.

    All state is guarded by one lock, so tests may read records and change the
    configuration from any thread while the server thread answers the bot.
    """

    def __init__(
        self,
        *,
        valid_tokens: Iterable[str] = ("xoxb-test",),
        valid_app_tokens: Iterable[str] = ("xapp-test",),
        clock: Callable[[], float] | None = None,
        trigger_seconds: float = TRIGGER_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
    ) -> None:
        """`clock` stamps message ts and runs token expiry (`token_clock`, real time without it);
        trigger expiry runs on `monotonic` (real time, as Slack's does, not the bot's clock), after
        `trigger_seconds`, both replaceable so tests need not sleep 3 s.

        `valid_tokens` are the default team's (TEAM_ID) bot tokens; other teams' come from
        `issue_token` or an OAuth install (`approve_next`) of the app `client_id`/`client_secret`."""
        self._clock = clock
        self.token_clock: Callable[[], float] = clock or time.time
        """When rotating tokens and OAuth codes expire; replace it to move past 12 hours at once."""
        self.trigger_seconds = trigger_seconds
        self._monotonic = monotonic
        self.valid_tokens: set[str] = set(valid_tokens)
        self.valid_app_tokens: set[str] = set(valid_app_tokens)
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._responses: list[Response] = []
        self._rejected_responses: list[Response] = []
        self._response_posts: defaultdict[str, int] = defaultdict(int)
        self._socket_acks: list[SocketAck] = []
        self._socket_envelopes: list[JSON] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._users: dict[str, _User] = {}
        self._channels: dict[str, _Channel] = {}
        self._faults: defaultdict[str, deque[_Fault]] = defaultdict(deque)
        self._messages: dict[tuple[str, str], JSON] = {}
        self._home_views: dict[str, JSON] = {}
        self._modals: dict[str, JSON] = {}
        self._triggers: dict[str, tuple[float, str]] = {}
        self._teams = Teams()
        self._oauth = OAuth(self._teams, APP_ID, client_id, client_secret)
        self._used_triggers: set[str] = set()
        self._ts_counter = 0
        self._view_counter = 0
        self._functions = FunctionRuns(APP_ID)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        functions = self._functions
        self._handlers: dict[str, Callable[[JSON, Grant], JSON]] = {
            "auth.test": self._api_auth_test,
            "chat.postMessage": self._api_chat_post_message,
            "chat.postEphemeral": self._api_chat_post_ephemeral,
            "chat.update": self._api_chat_update,
            "views.open": self._api_views_open,
            "views.update": self._api_views_update,
            "views.publish": self._api_views_publish,
            "users.info": self._api_users_info,
            "users.lookupByEmail": self._api_users_lookup_by_email,
            "conversations.open": self._api_conversations_open,
            "conversations.info": self._api_conversations_info,
            "conversations.history": self._api_conversations_history,
            "conversations.members": self._api_conversations_members,
            "apps.connections.open": self._api_apps_connections_open,
            "functions.completeSuccess": lambda args, _: functions.complete_success(args),
            "functions.completeError": lambda args, _: functions.complete_error(args),
        }

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeSlack:
        """Start the server thread; returns self so `fake = FakeSlack().start()` works."""
        if self._thread is not None:
            raise RuntimeError("FakeSlack is already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=_run_loop_forever, args=(loop,), name="fake-slack", daemon=True
        )
        self._thread.start()
        self._run(self._start_server())
        return self

    def stop(self) -> None:
        """Close websockets, stop the server and join its thread (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._run(self._stop_server())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            self._loop = None
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. "http://127.0.0.1:PORT"."""
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """Web API base URL for slack_sdk's `base_url` / SLACK_API_URL (ends with "/")."""
        return self.url + "/api/"

    @property
    def socket_url(self) -> str:
        """The websocket URL apps.connections.open hands out."""
        return self.url.replace("http://", "ws://", 1) + "/socket"

    @property
    def authorize_url(self) -> str:
        """Slack's consent page ("Add to Slack" sends the browser there): Bolt's `authorization_url`."""
        return self.url + AUTHORIZE_PATH

    @property
    def client_id(self) -> str:
        return self._oauth.client_id

    @property
    def client_secret(self) -> str:
        return self._oauth.client_secret

    def response_url(self, name: str = "r1") -> str:
        """A response_url to put in command/action payloads; posts land in `responses`."""
        return f"{self.url}/response/{name}"

    # ------------------------------------------------------------- configuration

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        real_name: str | None = None,
        tz: str = "Europe/Paris",
        tz_label: str | None = None,
        email: str | None = None,
        locale: str = "en-US",
        is_bot: bool = False,
        is_admin: bool = False,
        is_owner: bool = False,
        team_id: str = TEAM_ID,
    ) -> None:
        """Register a member of team `team_id` (replaces any earlier one with that ID); `is_admin`
        and `is_owner` are the workspace roles users.info reports. Only that team's tokens see them."""
        ZoneInfo(tz)  # fail here, not in the middle of a bot request
        handle = name or user_id.lower()
        user = _User(
            id=user_id,
            name=handle,
            real_name=real_name or handle.title(),
            tz=tz,
            tz_label=tz_label,
            email=email or f"{handle}@example.com",
            locale=locale,
            is_bot=is_bot,
            is_admin=is_admin,
            is_owner=is_owner,
            team_id=team_id,
        )
        with self._lock:
            self._teams.known(team_id)
            self._users[user_id] = user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        is_member: bool = True,
        is_archived: bool = False,
        members: Iterable[str] = (),
        team_id: str = TEAM_ID,
    ) -> None:
        """Register a channel of team `team_id` (replaces any earlier one with that ID); `members`
        are the user IDs conversations.members lists, in that order (the bot's membership is
        `is_member`). Another team's token gets channel_not_found for it, as at Slack."""
        members = list(dict.fromkeys(members))
        channel = _Channel(channel_id, name, is_private, is_member, is_archived, members, team_id)
        with self._lock:
            self._teams.known(team_id)
            self._channels[channel_id] = channel

    def add_team(self, team_id: str, name: str | None = None, **details: str | None) -> Team:
        """Register a workspace; `details` are `domain`, and `enterprise_id` / `enterprise_name`
        for a workspace of an Enterprise Grid org. The app's bot user there is
        `team(team_id).bot_user_id`. The default team TEAM_ID always exists."""
        with self._lock:
            return self._teams.add(team_id, name, **details)

    def team(self, team_id: str = TEAM_ID) -> Team:
        """A registered team: its names, enterprise and bot user/bot ids."""
        with self._lock:
            return self._teams.known(team_id)

    def issue_token(self, team_id: str = TEAM_ID, *, is_enterprise_install: bool = False) -> str:
        """A new bot token for a registered team (org-wide for its enterprise), as an install
        without the browser would give; it never expires."""
        with self._lock:
            return self._teams.issue(team_id, is_enterprise_install=is_enterprise_install).token

    def approve_next(
        self,
        team_id: str,
        team_name: str | None = None,
        *,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
        is_enterprise_install: bool = False,
        rotation: bool = False,
        user_id: str = "UINSTALLER",
        expires_in: int = ROTATION_SECONDS,
    ) -> None:
        """At the next visit to the consent page, `user_id` installs the app into `team_id`
        (registered if new; org-wide for `enterprise_id` with `is_enterprise_install`); with
        `rotation` the token lasts 12 hours (or `expires_in` seconds) and comes with a refresh
        token. Plans queue up."""
        plan = InstallPlan(
            team_id,
            team_name,
            enterprise_id,
            enterprise_name,
            is_enterprise_install,
            rotation,
            expires_in,
            user_id,
        )
        with self._lock:
            self._oauth.plans.append(plan)

    def deny_next(self) -> None:
        """At the next visit to the consent page the person cancels: error=access_denied."""
        with self._lock:
            self._oauth.plans.append(InstallPlan("", approve=False))

    @property
    def redirect_urls(self) -> set[str] | None:
        """The app's registered redirect URLs (None: any redirect_uri is accepted)."""
        with self._lock:
            return None if self._oauth.redirect_urls is None else set(self._oauth.redirect_urls)

    @redirect_urls.setter
    def redirect_urls(self, urls: Iterable[str] | None) -> None:
        with self._lock:
            self._oauth.redirect_urls = None if urls is None else set(urls)

    @property
    def installs(self) -> list[Install]:
        """Every install oauth.v2.access completed with a code, oldest first."""
        with self._lock:
            return list(self._oauth.installs)

    @property
    def consent_visits(self) -> list[ConsentVisit]:
        """Every visit to the consent page, oldest first."""
        with self._lock:
            return list(self._oauth.visits)

    def uninstall(self, team_id: str | None = None, *, enterprise_id: str | None = None) -> list[str]:
        """The app is removed from a team (or, with `enterprise_id` alone, an org-wide install):
        every token of that install, access and refresh, now answers token_revoked. Returns the
        access tokens killed. Send the bot the event with `signing.app_uninstalled_payload`."""
        with self._lock:
            return self._teams.revoke(team_id, enterprise_id)

    def join(self, channel_id: str, user_id: str) -> None:
        """`user_id` joins the channel (last in conversations.members); the team's bot user
        (BOT_USER_ID in the default team) sets is_member."""
        with self._lock:
            channel = self._known_channel_locked(channel_id)
            if user_id not in channel.members:
                channel.members.append(user_id)
            if user_id == self._teams.known(channel.team_id).bot_user_id:
                channel.is_member = True

    def leave(self, channel_id: str, user_id: str) -> None:
        """`user_id` leaves the channel; the team's bot user clears is_member (a private one then
        vanishes)."""
        with self._lock:
            channel = self._known_channel_locked(channel_id)
            if user_id in channel.members:
                channel.members.remove(user_id)
            if user_id == self._teams.known(channel.team_id).bot_user_id:
                channel.is_member = False

    def issue_trigger(self, team_id: str = TEAM_ID) -> str:
        """A new trigger_id, as Slack puts in a command, click or shortcut payload from team
        `team_id`: views.open takes it once, within `trigger_seconds` of now, with a token of
        that team (another team's is invalid_trigger_id)."""
        trigger_id = f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"
        with self._lock:
            self._triggers[trigger_id] = (self._monotonic(), team_id)
        return trigger_id

    def run_step(self, callback_id: str, definition: JSON, inputs: JSON) -> JSON:
        """A workflow reaches the app's custom step `callback_id` (declared as `definition`, a
        manifest `functions:` entry): the `function_executed` event Slack then sends."""
        with self._lock:
            return self._functions.start(callback_id, definition, inputs)

    def step_run(self, execution_id: str) -> FunctionRun:
        """A copy of the run: `running`, or how the app ended it."""
        with self._lock:
            return copy.deepcopy(self._functions.runs[execution_id])

    def disable_messages_tab(self, user_id: str) -> None:
        """DMs to this user now fail with messages_tab_disabled."""
        with self._lock:
            self._known_user_locked(user_id).messages_tab = False

    def deactivate_user(self, user_id: str) -> None:
        """DMs to this user now fail with account_inactive; users.info shows deleted."""
        with self._lock:
            self._known_user_locked(user_id).deleted = True

    def rate_limit_next(self, method: str, n: int = 1, retry_after: int = 1) -> None:
        """The next n calls of `method` answer HTTP 429 with Retry-After."""
        fault = _Fault(429, _err("ratelimited"), {"Retry-After": str(retry_after)}, n)
        self._add_fault(method, fault)

    def error_next(self, method: str, error: str, n: int = 1, after: int = 0) -> None:
        """The next n calls of `method`, once `after` calls went through, answer an error."""
        self._add_fault(method, _Fault(200, _err(error), {}, n, after))

    def clear_records(self) -> None:
        """Forget recorded calls, responses and acks; keep users, channels and faults."""
        with self._lock:
            self._calls.clear()
            self._responses.clear()
            self._rejected_responses.clear()
            self._socket_acks.clear()
            self._socket_envelopes.clear()

    def take_records(self) -> tuple[list[Call], list[Response]]:
        """The calls and accepted response_url posts recorded since the last take, forgotten as
        they are handed over, in one step: a long run (bench/tenants.py) reads them as it goes
        and keeps the fake's memory flat, and nothing recorded meanwhile is lost between a read
        and a `clear_records`."""
        with self._lock:
            calls, responses = self._calls, self._responses
            self._calls, self._responses = [], []
        return calls, responses

    def forget_messages(self) -> None:
        """Forget the posted messages the fake keeps for `messages`, chat.update and
        conversations.history (users, channels and records stay)."""
        with self._lock:
            self._messages.clear()

    # ------------------------------------------------------------------- records

    @property
    def calls(self) -> list[Call]:
        """Every Web API call so far, failed ones included, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls to one method; `ok=True`/`False` keeps only accepted/refused ones."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    @property
    def responses(self) -> list[Response]:
        """Accepted response_url posts, oldest first."""
        with self._lock:
            return list(self._responses)

    @property
    def rejected_responses(self) -> list[Response]:
        """response_url posts that were refused (over the limit, bad JSON)."""
        with self._lock:
            return list(self._rejected_responses)

    def responses_to(self, name: str) -> list[Response]:
        """Accepted posts to the response_url made with `response_url(name)`."""
        return [r for r in self.responses if r.name == name]

    @property
    def messages(self) -> list[JSON]:
        """Current state of posted (non-ephemeral) messages, with "channel", oldest first."""
        with self._lock:
            return [{**m, "channel": ch} for (ch, _), m in sorted(self._messages.items())]

    def home_view(self, user_id: str) -> JSON | None:
        """The Home tab view last published for the user, or None."""
        with self._lock:
            return self._home_views.get(user_id)

    def modal(self, view_id: str) -> JSON | None:
        """The current version of an opened modal, as Slack returned it (a copy), or None."""
        with self._lock:
            found = self._modals.get(view_id)
            return copy.deepcopy(found) if found is not None else None

    @property
    def modals(self) -> list[JSON]:
        """Current versions of every opened modal (copies), oldest opened first."""
        with self._lock:
            return copy.deepcopy(list(self._modals.values()))

    @property
    def socket_acks(self) -> list[SocketAck]:
        """Socket Mode acknowledgements received, oldest first."""
        with self._lock:
            return list(self._socket_acks)

    @property
    def socket_envelopes(self) -> list[JSON]:
        """Envelopes sent with `socket_send`, oldest first."""
        with self._lock:
            return list(self._socket_envelopes)

    @property
    def socket_connected(self) -> bool:
        """True while at least one Socket Mode client is connected (hello sent)."""
        with self._lock:
            return any(not ws.closed for ws in self._sockets)

    # ------------------------------------------------------------------- Socket Mode

    def socket_send(
        self,
        payload: JSON,
        type: str = "slash_commands",
        *,
        accepts_response_payload: bool | None = None,
        timeout: float = 5.0,
    ) -> str:
        """Send an envelope to the newest connected client; returns its envelope_id.

        Blocking, but only on the fake's own loop, so async tests may call it.
        """
        envelope = _envelope(payload, type, accepts_response_payload)
        self._run(self._send_to_socket(envelope), timeout)
        with self._lock:
            self._socket_envelopes.append(envelope)
        return envelope["envelope_id"]

    def socket_disconnect(self, reason: str = "refresh_requested", timeout: float = 5.0) -> None:
        """Ask the client to reconnect, as Slack does every few hours."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        self._run(self._send_to_socket(message), timeout)

    # ------------------------------------------------------------------- waiting

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "") -> T:
        """Poll `predicate` until it returns something truthy; return that value.

        Refuses to sleep inside a running event loop (it would freeze the bot that
        runs there): use `wait_for_async` in async tests.
        """
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(what or "condition", timeout))
            _refuse_to_block_running_loop()
            time.sleep(POLL_INTERVAL)
        return result

    async def wait_for_async(self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "") -> T:
        """`wait_for` for async tests: yields to the event loop between polls."""
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(what or "condition", timeout))
            await asyncio.sleep(POLL_INTERVAL)
        return result

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until `method` was called at least `count` times; returns all its calls."""
        return self.wait_for(*self._calls_probe(method, count, timeout))

    async def wait_for_calls_async(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Async `wait_for_calls`."""
        return await self.wait_for_async(*self._calls_probe(method, count, timeout))

    def wait_for_responses(
        self, count: int = 1, timeout: float = 5.0, name: str | None = None
    ) -> list[Response]:
        """Wait for `count` accepted response_url posts (to `name` if given); returns them."""
        return self.wait_for(*self._responses_probe(count, timeout, name))

    async def wait_for_responses_async(
        self, count: int = 1, timeout: float = 5.0, name: str | None = None
    ) -> list[Response]:
        """Async `wait_for_responses`."""
        return await self.wait_for_async(*self._responses_probe(count, timeout, name))

    def wait_socket_connected(self, timeout: float = 5.0) -> None:
        """Wait until a Socket Mode client is connected and greeted."""
        self.wait_for(lambda: self.socket_connected, timeout, "a Socket Mode connection")

    async def wait_socket_connected_async(self, timeout: float = 5.0) -> None:
        """Async `wait_socket_connected`."""
        await self.wait_for_async(lambda: self.socket_connected, timeout, "a Socket Mode connection")

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck:
        """Wait for the client's ack of one envelope."""
        return self.wait_for(*self._ack_probe(envelope_id, timeout))

    async def wait_for_ack_async(self, envelope_id: str, timeout: float = 5.0) -> SocketAck:
        """Async `wait_for_ack`."""
        return await self.wait_for_async(*self._ack_probe(envelope_id, timeout))

    def _calls_probe(
        self, method: str, count: int, timeout: float
    ) -> tuple[Callable[[], list[Call] | None], float, str]:
        _require_positive(count)

        def probe() -> list[Call] | None:
            found = self.calls_to(method)
            return found if len(found) >= count else None

        return probe, timeout, f"{count} call(s) to {method}"

    def _responses_probe(
        self, count: int, timeout: float, name: str | None
    ) -> tuple[Callable[[], list[Response] | None], float, str]:
        _require_positive(count)

        def probe() -> list[Response] | None:
            found = self.responses if name is None else self.responses_to(name)
            return found if len(found) >= count else None

        return probe, timeout, f"{count} response_url post(s)"

    def _ack_probe(
        self, envelope_id: str, timeout: float
    ) -> tuple[Callable[[], SocketAck | None], float, str]:
        def probe() -> SocketAck | None:
            return next((a for a in self.socket_acks if a.envelope_id == envelope_id), None)

        return probe, timeout, f"the ack of envelope {envelope_id}"

    def _timeout_message(self, what: str, timeout: float) -> str:
        seen = [c.method if c.ok else f"{c.method}({c.error})" for c in self.calls]
        return (
            f"timed out after {timeout}s waiting for {what}; calls so far: {seen}; "
            f"response_url posts: {len(self.responses)}; socket acks: {len(self.socket_acks)}"
        )

    # ------------------------------------------------------------------- server

    def _run(self, coro: Awaitable[T], timeout: float = 10.0) -> T:
        """Run a coroutine on the fake's loop from any other thread."""
        if self._loop is None:
            raise RuntimeError("FakeSlack is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    async def _start_server(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{name:.+}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_get(AUTHORIZE_PATH, self._handle_authorize)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self._port = sock.getsockname()[1]

    async def _stop_server(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for ws in sockets:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake slack stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            args, bad_json = await _read_args(request), False
        except ValueError:
            args, bad_json = {}, True
        token = _take_token(request, args)
        with self._lock:
            if bad_json:
                answer = _Answer(200, _err("invalid_json"))
            elif method in CLIENT_METHODS:
                answer = self._answer_client_locked(method, args, _basic_credentials(request))
            else:
                answer = self._answer_locked(method, args, token)
            self._calls.append(Call(method, args, token, time.time(), answer.status, answer.body))
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)

    def _answer_locked(self, method: str, args: JSON, token: str | None) -> _Answer:
        """Authenticate, apply injected faults, then run the method's handler as the token's team."""
        caller, auth_error = self._authorize_locked(method, token)
        if caller is None:
            return _Answer(200, _err(auth_error))
        fault = self._pop_fault_locked(method)
        if fault is not None:
            return _Answer(fault.status, dict(fault.body), fault.headers)
        handler = self._handlers.get(method)
        return _Answer(200, handler(args, caller) if handler else _ok())

    def _answer_client_locked(self, method: str, args: JSON, credentials: tuple[str, str] | None) -> _Answer:
        """oauth.v2.access: the app's client id and secret stand for it, not a token."""
        fault = self._pop_fault_locked(method)
        if fault is not None:
            return _Answer(fault.status, dict(fault.body), fault.headers)
        return _Answer(200, self._oauth.access(args, credentials, self.token_clock()))

    async def _handle_authorize(self, request: web.Request) -> web.Response:
        """The consent page: a 302 back to the app, or Slack's error page (no redirect)."""
        with self._lock:
            status, answer = self._oauth.authorize(dict(request.query), self.token_clock())
        if status == 302:
            return web.Response(status=302, headers={"Location": answer})
        page = f"<html><body><h1>Slack</h1><p>{html.escape(answer)}</p></body></html>"
        return web.Response(status=status, text=page, content_type="text/html")

    def _authorize_locked(self, method: str, token: str | None) -> tuple[Grant | None, str]:
        """The install a token stands for, or Slack's error: not_authed, invalid_auth,
        not_allowed_token_type, token_expired (a rotating token past its 12 hours), token_revoked."""
        if not token:
            return None, "not_authed"
        app_method = method in APP_TOKEN_METHODS
        wanted, other = self.valid_tokens, self.valid_app_tokens
        if app_method:
            wanted, other = other, wanted
        if token in wanted or (not app_method and self._functions.accepts(token)):
            return Grant(token, TEAM_ID), ""
        grant = self._teams.grants.get(token)
        if grant is None or app_method:
            return None, "not_allowed_token_type" if token in other or grant else "invalid_auth"
        if grant.revoked:
            return None, "token_revoked"
        if grant.expires_at is not None and self.token_clock() >= grant.expires_at:
            return None, "token_expired"
        return grant, ""

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._faults[method].append(fault)

    def _pop_fault_locked(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        if fault.passes > 0:
            fault.passes -= 1
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        with self._lock:
            status, answer = self._accept_response_locked(request.path, body)
        return web.json_response(answer, status=status)

    def _accept_response_locked(self, path: str, body: Any) -> tuple[int, JSON]:
        """Apply Slack's rules: a JSON object, at most 5 posts per response_url."""
        if not isinstance(body, dict):
            status, answer = 400, _err("invalid_payload")
        elif self._response_posts[path] >= RESPONSE_URL_MAX_POSTS:
            status, answer = 404, _err("expired_url")
        else:
            self._response_posts[path] += 1
            self._responses.append(Response(path, body, time.time()))
            return 200, _ok()
        self._rejected_responses.append(Response(path, body, time.time(), status))
        return status, answer

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        # autoping answers the client's pings ("sdk-ping-pong:<t>") with pongs, as Slack does.
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        with self._lock:
            count = len(self._sockets) + 1
        await ws.send_json(_hello(count))
        with self._lock:
            self._sockets.append(ws)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._record_socket_message(message.data)
        finally:
            with self._lock:
                self._sockets.remove(ws)
        return ws

    def _record_socket_message(self, data: str) -> None:
        with contextlib.suppress(ValueError):
            message = json.loads(data)
            if isinstance(message, dict) and "envelope_id" in message:
                ack = SocketAck(str(message["envelope_id"]), message.get("payload"), time.time())
                with self._lock:
                    self._socket_acks.append(ack)

    async def _send_to_socket(self, message: JSON) -> None:
        with self._lock:
            live = [ws for ws in self._sockets if not ws.closed]
        if not live:
            raise RuntimeError("no Socket Mode client is connected (wait_socket_connected first)")
        await live[-1].send_json(message)

    # ------------------------------------------------------------ Web API methods
    # Handlers run with the lock held; they must not take it again. `caller` is the install the
    # token stands for: a handler shows it only what belongs to a team it sees.

    def _api_auth_test(self, args: JSON, caller: Grant) -> JSON:
        """Who the token is. An org-wide install answers for its enterprise (team and team_id are
        the enterprise's), with `is_enterprise_install` true."""
        team = self._teams.known(caller.team_id)
        answer = _ok(
            url=team.url,
            team=team.name,
            user=BOT_USER_NAME,
            team_id=team.id,
            user_id=team.bot_user_id,
            bot_id=team.bot_id,
            is_enterprise_install=caller.is_enterprise_install,
        )
        if team.enterprise_id is not None:
            answer["enterprise_id"] = team.enterprise_id
        if caller.is_enterprise_install:
            answer |= {"team": team.enterprise_name, "team_id": team.enterprise_id}
        return answer

    def _api_chat_post_message(self, args: JSON, caller: Grant) -> JSON:
        channel_id, error = self._resolve_target_locked(str(args.get("channel") or ""), caller)
        if error:
            return _err(error)
        content_error = _content_error(args)
        if content_error:
            return content_error
        ts = self._next_ts_locked()
        message = _message_json(args, ts, self._team_of_locked(caller))
        self._messages[(channel_id, ts)] = message
        return _ok(channel=channel_id, ts=ts, message=dict(message))

    def _api_chat_post_ephemeral(self, args: JSON, caller: Grant) -> JSON:
        _, error = self._resolve_target_locked(str(args.get("channel") or ""), caller)
        if error:
            return _err(error)
        if not args.get("user"):
            return _err("invalid_arguments")
        return _content_error(args) or _ok(message_ts=self._next_ts_locked())

    def _api_chat_update(self, args: JSON, caller: Grant) -> JSON:
        ts = str(args.get("ts") or "")
        if not ts:
            return _err("message_not_found")
        content_error = _content_error(args)
        if content_error:
            return content_error
        channel_id = _dm_channel_id(str(args.get("channel") or ""))
        if not self._conversation_visible_locked(channel_id, caller):
            return _err("channel_not_found")
        team = self._team_of_locked(caller)
        old = self._messages.get((channel_id, ts), {})
        changes = {k: args[k] for k in ("text", "blocks", "attachments") if k in args}
        message = {**_message_json(args, ts, team), **old, **changes, "edited": {"user": team.bot_user_id}}
        self._messages[(channel_id, ts)] = message
        return _ok(channel=channel_id, ts=ts, text=message.get("text", ""), message=dict(message))

    def _api_views_open(self, args: JSON, caller: Grant) -> JSON:
        """Check the view, then take the trigger: a refused view leaves the trigger unused, so a
        test can tell a bad view from a bad trigger (Slack does not document its order)."""
        view = args.get("view")
        trigger_id = str(args.get("trigger_id") or args.get("interactivity_pointer") or "")
        if not isinstance(view, dict):
            return _err("invalid_arguments")
        refused = _view_refusal(view, ("modal",))
        if refused:
            return refused
        trigger_error = self._take_trigger_locked(trigger_id, caller)
        if trigger_error:
            return _err(trigger_error)
        external_id = view.get("external_id")
        if external_id and self._view_by_external_id_locked(str(external_id)) is not None:
            return _err("duplicate_external_id")
        self._view_counter += 1
        opened = _stored_view(_view_defaults(self._view_counter, self._team_of_locked(caller)), view)
        self._modals[opened["id"]] = opened
        return _ok(view=copy.deepcopy(opened))

    def _api_views_update(self, args: JSON, caller: Grant) -> JSON:
        """Replace a modal or Home tab by view_id or external_id; a `hash` must be the current one.
        Another team's view is as unknown as a missing one."""
        view = args.get("view")
        view_id, external_id = str(args.get("view_id") or ""), str(args.get("external_id") or "")
        if not isinstance(view, dict) or not (view_id or external_id):
            return _err("invalid_arguments")
        current = self._views_by_id_locked().get(view_id) if view_id else None
        if not view_id:
            current = self._view_by_external_id_locked(external_id)
        if current is None or not self._teams.visible(caller, current["team_id"]):
            return _err("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            return _err("hash_conflict")
        refused = _view_refusal(view, (current["type"],))
        if refused:
            return refused
        kept = {k: current[k] for k in ("id", "root_view_id", "previous_view_id", "state", "external_id")}
        defaults = _view_defaults(0, self._teams.known(current["team_id"]))
        updated = _stored_view({**defaults, **kept, "hash": _view_hash()}, view)
        self._replace_view_locked(current, updated)
        return _ok(view=copy.deepcopy(updated))

    def _api_views_publish(self, args: JSON, caller: Grant) -> JSON:
        """Publish a Home tab; a person the fake knows in a team the token does not reach is
        user_not_found (one the fake does not know is accepted, as before teams existed)."""
        view, user_id = args.get("view"), str(args.get("user_id") or "")
        if not isinstance(view, dict) or not user_id:
            return _err("invalid_arguments")
        user = self._users.get(user_id)
        if user is not None and not self._teams.visible(caller, user.team_id):
            return _err("user_not_found")
        refused = _view_refusal(view, ("home",))
        if refused:
            return refused
        current = self._home_views.get(user_id)
        if args.get("hash") and current is not None and args["hash"] != current["hash"]:
            return _err("hash_conflict")
        self._view_counter += 1
        published = _stored_view(_view_defaults(self._view_counter, self._team_of_locked(caller)), view)
        self._home_views[user_id] = published
        return _ok(view=copy.deepcopy(published))

    def _api_users_info(self, args: JSON, caller: Grant) -> JSON:
        user = self._visible_user_locked(str(args.get("user") or ""), caller)
        return _ok(user=_user_json(user)) if user else _err("user_not_found")

    def _api_users_lookup_by_email(self, args: JSON, caller: Grant) -> JSON:
        email = str(args.get("email") or "").lower()
        found = (u for u in self._users.values() if u.email.lower() == email)
        user = next((u for u in found if self._teams.visible(caller, u.team_id)), None)
        return _ok(user=_user_json(user)) if user else _err("users_not_found")

    def _api_conversations_open(self, args: JSON, caller: Grant) -> JSON:
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users and args.get("channel"):
            return _ok(no_op=True, already_open=True, channel={"id": str(args["channel"])})
        if not users or any(self._visible_user_locked(u, caller) is None for u in users):
            return _err("user_not_found")
        channel_id = f"D{users[0]}" if len(users) == 1 else "G" + "".join(sorted(users))
        return _ok(no_op=True, already_open=True, channel={"id": channel_id})

    def _api_conversations_info(self, args: JSON, caller: Grant) -> JSON:
        channel_id = str(args.get("channel") or "")
        channel = self._visible_channel_locked(channel_id, caller)
        if channel is not None:
            return _ok(channel=_channel_json(channel))
        user = self._dm_user_locked(channel_id, caller)
        if user is not None:
            return _ok(channel=_im_json(f"D{user.id}", user))
        return _err("channel_not_found")

    def _api_conversations_history(self, args: JSON, caller: Grant) -> JSON:
        """Newest first, from `oldest`, `limit` a page with a cursor; `metadata` only when
        `include_all_metadata` is true, as Slack does."""
        channel_id = _dm_channel_id(str(args.get("channel") or ""))
        if self._visible_channel_locked(channel_id, caller) is None and (
            self._dm_user_locked(channel_id, caller) is None
        ):
            return _err("channel_not_found")
        oldest = float(args.get("oldest") or 0)
        limit = min(int(args.get("limit") or 100), 999)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted(
            (m for (ch, ts), m in self._messages.items() if ch == channel_id and float(ts) > oldest),
            key=lambda m: float(m["ts"]),
            reverse=True,
        )
        start = int(args.get("cursor") or 0)
        page = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in found[start : start + limit]
        ]
        more = start + limit < len(found)
        cursor = {"next_cursor": str(start + limit) if more else ""}
        return _ok(messages=page, has_more=more, response_metadata=cursor)

    def _api_conversations_members(self, args: JSON, caller: Grant) -> JSON:
        """Member IDs a page at a time (`limit` default 100, at most 1000), with an opaque cursor;
        a private channel the bot is not in is as unknown as a missing one, as Slack answers."""
        members = self._members_locked(str(args.get("channel") or ""), caller)
        if members is None:
            return _err("channel_not_found")
        try:
            limit = int(args.get("limit") or 100)
        except (TypeError, ValueError):
            return _err("invalid_limit")
        if limit < 1:
            return _err("invalid_limit")
        limit = min(limit, MEMBERS_MAX_LIMIT)
        start = _cursor_offset(str(args.get("cursor") or ""))
        if start is None:
            return _err("invalid_cursor")
        end = start + limit
        cursor = _cursor(end) if end < len(members) else ""
        return _ok(members=members[start:end], response_metadata={"next_cursor": cursor})

    def _api_apps_connections_open(self, args: JSON, caller: Grant) -> JSON:
        return _ok(url=self.socket_url)

    def _members_locked(self, channel_id: str, caller: Grant) -> list[str] | None:
        """Who conversations.members lists, None where Slack says channel_not_found."""
        channel = self._visible_channel_locked(channel_id, caller)
        if channel is not None:
            return None if channel.is_private and not channel.is_member else list(channel.members)
        user = self._dm_user_locked(channel_id, caller) if channel_id[:1] == "D" else None
        if user is None:
            return None
        return [user.id, self._teams.known(user.team_id).bot_user_id]

    # ------------------------------------------------------------ teams

    def _team_of_locked(self, caller: Grant) -> Team:
        return self._teams.known(caller.team_id)

    def _visible_channel_locked(self, channel_id: str, caller: Grant) -> _Channel | None:
        """The channel, if it exists in a team the token reaches (else Slack's channel_not_found)."""
        channel = self._channels.get(channel_id)
        return channel if channel is not None and self._teams.visible(caller, channel.team_id) else None

    def _visible_user_locked(self, user_id: str, caller: Grant) -> _User | None:
        """The person, if they belong to a team the token reaches (else Slack's user_not_found)."""
        user = self._users.get(user_id)
        return user if user is not None and self._teams.visible(caller, user.team_id) else None

    def _conversation_visible_locked(self, channel_id: str, caller: Grant) -> bool:
        """False only for a channel or DM the fake knows in a team the token does not reach."""
        channel = self._channels.get(channel_id)
        if channel is not None:
            return self._teams.visible(caller, channel.team_id)
        user = self._dm_user_locked(channel_id, None)
        return user is None or self._teams.visible(caller, user.team_id)

    # ------------------------------------------------------------ views and triggers

    def _take_trigger_locked(self, trigger_id: str, caller: Grant) -> str | None:
        """Slack's trigger rules: issued by this fake for a team the token reaches, not used yet,
        at most `trigger_seconds` old."""
        issued = self._triggers.get(trigger_id)
        if issued is None or not self._teams.visible(caller, issued[1]):
            return "invalid_trigger_id"
        if trigger_id in self._used_triggers:
            return "exchanged_trigger_id"
        if self._monotonic() - issued[0] > self.trigger_seconds:
            return "expired_trigger_id"
        self._used_triggers.add(trigger_id)
        return None

    def _views_by_id_locked(self) -> dict[str, JSON]:
        return {**{v["id"]: v for v in self._home_views.values()}, **self._modals}

    def _view_by_external_id_locked(self, external_id: str) -> JSON | None:
        found = (v for v in self._views_by_id_locked().values() if v.get("external_id") == external_id)
        return next(found, None)

    def _replace_view_locked(self, current: JSON, updated: JSON) -> None:
        if current["id"] in self._modals:
            self._modals[current["id"]] = updated
            return
        for user_id, view in self._home_views.items():
            if view is current:
                self._home_views[user_id] = updated

    # ------------------------------------------------------------ posting rules

    def _resolve_target_locked(self, target: str, caller: Grant) -> tuple[str, str | None]:
        """Map a `channel` argument to (conversation id, Slack error or None); a channel or person
        of a team the token does not reach is channel_not_found."""
        if target.startswith("#"):
            by_name = (c.id for c in self._channels.values() if c.name == target[1:])
            by_name = (i for i in by_name if self._visible_channel_locked(i, caller))
            target = next(by_name, target)
        channel = self._visible_channel_locked(target, caller)
        if channel is not None:
            return target, _channel_post_error(channel)
        user = self._dm_user_locked(target, caller)
        if user is not None:
            return f"D{user.id}", _dm_post_error(user)
        return target, "channel_not_found"

    def _dm_user_locked(self, target: str, caller: Grant | None) -> _User | None:
        """The user behind a user ID ("U…"/"W…") or a DM ID ("D" + user ID), if the token (when
        given) reaches their team."""
        if target[:1] in ("U", "W"):
            user = self._users.get(target)
        elif target[:1] == "D":
            user = self._users.get(target[1:])
        else:
            return None
        if user is None or (caller is not None and not self._teams.visible(caller, user.team_id)):
            return None
        return user

    def _known_user_locked(self, user_id: str) -> _User:
        try:
            return self._users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id!r}: call add_user first") from None

    def _known_channel_locked(self, channel_id: str) -> _Channel:
        try:
            return self._channels[channel_id]
        except KeyError:
            raise KeyError(f"unknown channel {channel_id!r}: call add_channel first") from None

    def _next_ts_locked(self) -> str:
        """Unique, increasing message timestamps in Slack's "seconds.micros" form; from `clock` when
        given, so `conversations.history`'s `oldest` works against a test's clock."""
        self._ts_counter += 1
        micros = 1_700_000_000_000_000 + self._ts_counter * 100
        if self._clock is not None:
            micros = int(self._clock() * 1_000_000) + self._ts_counter
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


# --------------------------------------------------------------------------- helpers


def _run_loop_forever(loop: asyncio.AbstractEventLoop) -> None:
    """Body of the server thread: run the loop until stop(), then close it."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _require_positive(count: int) -> None:
    """Waiting for zero items is always true: check the records directly instead."""
    if count < 1:
        raise ValueError("count must be at least 1 (to check for no calls, read calls_to())")


def _refuse_to_block_running_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        "a blocking FakeSlack.wait_* call inside a running event loop would freeze the bot; "
        "use the *_async variant (await fake.wait_for_calls_async(...))"
    )


async def _read_args(request: web.Request) -> JSON:
    """Merge query string and body (JSON or form), as Slack accepts all of them."""
    args: JSON = dict(request.query)
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("a JSON body must be an object")
            args.update(body)
        else:
            form = await request.post()
            args.update({key: _form_value(value) for key, value in form.items()})
    return _decode_json_fields(args)


def _form_value(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, web.FileField):
        return {"filename": value.filename, "content_type": value.content_type}
    return str(value)


def _decode_json_fields(args: JSON) -> JSON:
    """Turn JSON-string fields ("blocks" sent form-encoded) into lists/dicts."""
    for key in JSON_STRING_FIELDS & args.keys():
        if isinstance(args[key], str):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    """(client_id, client_secret) from `Authorization: Basic`, as slack_sdk sends them."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _take_token(request: web.Request, args: JSON) -> str | None:
    """Token from `Authorization: Bearer`, else from a `token` argument (removed from args)."""
    param = args.pop("token", None)
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    return param if isinstance(param, str) and param else None


def _dm_channel_id(channel: str) -> str:
    return f"D{channel}" if channel[:1] in ("U", "W") else channel


def _channel_post_error(channel: _Channel) -> str | None:
    if channel.is_archived:
        return "is_archived"
    if channel.is_private and not channel.is_member:
        return "not_in_channel"
    return None  # public channels accept posts from non-members (chat:write.public)


def _dm_post_error(user: _User) -> str | None:
    if user.deleted:
        return "account_inactive"
    if not user.messages_tab:
        return "messages_tab_disabled"
    return None


def _content_error(args: JSON) -> JSON | None:
    """Slack's checks on a message body: something to show, valid blocks."""
    blocks = args.get("blocks")
    if not (args.get("text") or blocks or args.get("attachments")):
        return _err("no_text")
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        return _err("invalid_blocks_format")
    errors = block_errors(blocks, MESSAGE_MAX_BLOCKS)
    return _err("invalid_blocks", errors=errors) if errors else None


def _message_json(args: JSON, ts: str, team: Team) -> JSON:
    message: JSON = {
        "type": "message",
        "user": team.bot_user_id,
        "bot_id": team.bot_id,
        "app_id": APP_ID,
        "team": team.id,
        "ts": ts,
        "text": args.get("text", ""),
        "blocks": args.get("blocks") or [],
    }
    for key in ("attachments", "thread_ts", "metadata"):
        if key in args:
            message[key] = args[key]
    return message


def _view_refusal(view: JSON, types: tuple[str, ...]) -> JSON | None:
    """invalid_arguments with Slack's "[ERROR] …" messages when the view breaks Block Kit's rules."""
    errors = view_errors(view, types=types)
    if not errors:
        return None
    return _err("invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})


def _stored_view(defaults: JSON, view: JSON) -> JSON:
    """The view as Slack keeps and returns it: the caller's fields over the defaults, except the
    ones Slack owns (id, hash, state…); a modal's absent submit and close come back as null."""
    stored = {**defaults, **{k: v for k, v in view.items() if k not in SERVER_VIEW_FIELDS}}
    if stored.get("type") == "modal":
        stored.setdefault("submit", None)
        stored.setdefault("close", None)
        stored.setdefault("submit_disabled", False)
    return copy.deepcopy(stored)


def _cursor(offset: int) -> str:
    """An opaque next_cursor, base64 like Slack's ("dXNlcjpVMDYxTkZUVDI=")."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _cursor_offset(cursor: str) -> int | None:
    """The offset a cursor stands for: 0 for none, None for one this fake did not hand out."""
    if not cursor:
        return 0
    try:
        kind, _, offset = base64.b64decode(cursor, validate=True).decode().partition(":")
        return int(offset) if kind == "offset" and int(offset) >= 0 else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _view_defaults(counter: int, team: Team) -> JSON:
    view_id = f"V{counter:08d}"
    return {
        "id": view_id,
        "team_id": team.id,
        "type": "home",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "state": {"values": {}},
        "hash": _view_hash(),
        "clear_on_close": False,
        "notify_on_close": False,
        "external_id": "",
        "app_id": APP_ID,
        "bot_id": team.bot_id,
        "root_view_id": view_id,
        "previous_view_id": None,
    }


def _view_hash() -> str:
    """A new hash each time a view changes, in Slack's "156772938.1827394" shape."""
    return f"{time.time():.6f}.{uuid.uuid4().hex[:8]}"


def _user_json(user: _User) -> JSON:
    now = datetime.now(ZoneInfo(user.tz))
    offset = now.utcoffset()
    abbreviation = now.tzname() or user.tz
    return {
        "id": user.id,
        "team_id": user.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": user.tz_label or _TZ_LABELS.get(abbreviation, abbreviation),
        "tz_offset": int(offset.total_seconds()) if offset else 0,
        "locale": user.locale,
        "is_bot": user.is_bot,
        "is_admin": user.is_admin or user.is_owner,
        "is_owner": user.is_owner,
        "is_primary_owner": False,
        "is_app_user": False,
        "updated": 1_700_000_000,
        "profile": {
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.name,
            "display_name_normalized": user.name,
            "email": user.email,
            "team": user.team_id,
        },
    }


def _channel_json(channel: _Channel) -> JSON:
    return {
        "id": channel.id,
        "name": channel.name,
        "name_normalized": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "is_archived": channel.is_archived,
        "is_member": channel.is_member,
        "is_general": False,
        "created": 1_700_000_000,
        "context_team_id": channel.team_id,
    }


def _im_json(channel_id: str, user: _User) -> JSON:
    return {
        "id": channel_id,
        "is_im": True,
        "is_channel": False,
        "is_group": False,
        "is_private": True,
        "is_archived": False,
        "user": user.id,
        "created": 1_700_000_000,
        "context_team_id": user.team_id,
    }


def _hello(num_connections: int) -> JSON:
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {
            "host": "applink-fake",
            "build_number": 1,
            "approximate_connection_time": 18060,
        },
        "connection_info": {"app_id": APP_ID},
    }


def _envelope(payload: JSON, type: str, accepts_response_payload: bool | None) -> JSON:
    """Wrap a payload as Slack does; events_api envelopes carry retry fields and no response."""
    envelope: JSON = {
        "envelope_id": str(uuid.uuid4()),
        "type": type,
        "payload": payload,
        "accepts_response_payload": (
            type != "events_api" if accepts_response_payload is None else accepts_response_payload
        ),
    }
    if type == "events_api":
        envelope |= {"retry_attempt": 0, "retry_reason": ""}
    return envelope


__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "Call",
    "ConsentVisit",
    "FakeSlack",
    "Install",
    "Response",
    "SocketAck",
]
