"""A fake Zoho People server: accounts (OAuth) and People/LMS APIs on one port.

Why: the bot must survive Zoho's real rules (token errors in HTTP 200 bodies,
10 token requests per 10 minutes, 30 LMS calls a minute then a 5-minute lock,
25-record pages), so tests run the real client against a real HTTP server that
keeps those rules on a clock the test controls.

It also plays the browser side of "Connect Zoho People": the consent page
(`/oauth/v2/auth`, where a test decides what the person does), single-use
codes that die after 2 minutes, 20 refresh tokens per user, revocation, and
`/api/v3/organization` (admins only, 20 calls a minute). `follow_consent`
walks a browser through the bot's connect link and back.

One server can play several Zoho organisations (`add_organisation`), each
with its own data, settings, `Company`, tokens, threshold and lock: a request
is served by the organisation that issued its token or code.

Run it by hand with `python -m tests.fakes.zoho --port 9000 [--today YYYY-MM-DD]`.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import html
import itertools
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
from aiohttp import web

from .zoho_data import (
    STORED_DATE_FORMAT,
    Batch,
    Course,
    Module,
    Org,
    OrgSettings,
    Trainer,
    parse_stored_date,
    sample_org,
)

PAGE_SIZE = 25
LMS_PREFIX = "/api/v1/"
FORMS_PREFIX = "/api/forms/"
ORG_PATH = "/api/v3/organization"
TOKEN_PATH = "/oauth/v2/token"
AUTH_PATH = "/oauth/v2/auth"
REVOKE_PATH = "/oauth/v2/token/revoke"
THRESHOLD_MESSAGE = "API access blocked since threshold limit exceeded. Please try after some time"
TOO_MANY_TOKENS = "You have made too many requests continuously. Please try again after some time."
NO_PERMISSION = {
    "code": "NO_PERMISSION",
    "message": "You don't have permission to perform this operation as you are not an Admin.",
}
SCOPE_LMS = "ZOHOPEOPLE.training.READ"
SCOPE_FORMS = "ZOHOPEOPLE.forms.READ"
SCOPE_ORG = "ZOHOPEOPLE.organization.READ"
READ_SCOPES = (SCOPE_LMS, SCOPE_FORMS, SCOPE_ORG)
"""Every scope the bot's endpoints need; `issue_code` grants these unless told otherwise."""
REDIRECTS = (301, 302, 303, 307, 308)
ORGANISATION_KEY: web.RequestKey[FakeZoho] = web.RequestKey("fake_zoho_organisation")
"""Where the record middleware leaves the organisation a request was routed to."""

JSON = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Recorded:
    """One request as the fake saw it. `status` is 0 while the answer is still pending."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # keys lower-cased
    form: dict[str, str]  # POST only: query merged with the form body
    at: float  # fake-clock time of arrival
    status: int = 0


@dataclass
class _Token:
    """An access token. `user` None and `scopes` None: the operator's (Self Client) token, every scope."""

    refresh_token: str
    expires_at: float
    user: str | None = None
    scopes: frozenset[str] | None = None


@dataclass
class _Grant:
    """A refresh token a person's consent produced (the operator's own is not one of these)."""

    token: str
    user: str
    scopes: frozenset[str]
    issued_at: float


@dataclass
class _Code:
    """An authorization code waiting to be exchanged: once, within `code_ttl`, with the same redirect_uri."""

    code: str
    redirect_uri: str
    scopes: frozenset[str]
    user: str
    offline: bool
    prompt_consent: bool
    issued_at: float
    used: bool = False


@dataclass
class ConsentPlan:
    """What the person does on Zoho's consent page, for every visit until a test changes it.

    `accounts_server` is what the redirect names: None names this fake; a
    string is named as is (the code still lives here, e.g. to test that the
    bot refuses a host that is not Zoho's); another FakeZoho is a second data
    centre: the code is issued there and must be exchanged there.
    `organisation` is whose user approves: None is this fake's own (default)
    organisation, else one from `add_organisation`; the code is issued in it.
    """

    approve: bool = True
    user: str = "admin@example.com"
    admin: bool = True
    location: str = "us"
    accounts_server: str | FakeZoho | None = None
    organisation: FakeZoho | None = None


@dataclass
class ConsentRequest:
    """One visit to the consent page as the fake saw it, and what it answered.

    `outcome` is "code" (approved), "access_denied" (refused), or the error
    Zoho's page shows without redirecting ("invalid_client",
    "unsupported_response_type", "invalid_redirect_uri", "invalid_scope").
    `redirect` is the 302's Location ("" for an error page).
    """

    params: dict[str, str]
    scopes: list[str]
    at: float
    outcome: str
    redirect: str = ""
    code: str = ""
    user: str = ""

    @property
    def client_id(self) -> str | None:
        return self.params.get("client_id")

    @property
    def redirect_uri(self) -> str | None:
        return self.params.get("redirect_uri")

    @property
    def state(self) -> str | None:
        return self.params.get("state")

    @property
    def access_type(self) -> str | None:
        return self.params.get("access_type")

    @property
    def prompt(self) -> str | None:
        return self.params.get("prompt")


class _Reply(Exception):
    """Raised by helpers to answer at once with a JSON error."""

    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(status)
        self.status = status
        self.body = body

    def response(self) -> web.Response:
        return web.json_response(self.body, status=self.status)


def _people_error(code: int, message: str) -> JSON:
    """The People error envelope (auth errors, forms API)."""
    return {"response": {"errors": {"code": code, "message": message}, "status": 1}}


def _not_found(what: str) -> _Reply:
    return _Reply(404, {"code": 404, "message": f"{what} not found"})


@dataclass
class _Window:
    """Timestamps of events in a sliding window, to enforce Zoho's rate limits."""

    seconds: float
    events: deque[float] = field(default_factory=deque)

    def add(self, now: float) -> int:
        """Record an event; return how many fall inside the window ending now."""
        self.count(now)
        self.events.append(now)
        return len(self.events)

    def count(self, now: float) -> int:
        """How many events fall inside the window ending now (nothing recorded)."""
        while self.events and self.events[0] <= now - self.seconds:
            self.events.popleft()
        return len(self.events)


def _with_query(url: str, pairs: Iterable[tuple[str, str]]) -> str:
    """`url` with `pairs` appended to whatever query it already has (as Zoho's redirect does)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(pairs)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _scope_allows(granted: frozenset[str] | None, needed: str) -> bool:
    """Zoho scopes are Service.area.OPERATION, case-insensitive; `.ALL` covers every operation."""
    if granted is None:
        return True
    area = needed.rsplit(".", 1)[0].casefold()
    return needed.casefold() in granted or f"{area}.all" in granted


class FakeZoho:
    """Zoho accounts + People LMS on 127.0.0.1, served from a background thread.

    It serves a deep copy of `org`, so a test's own Org stays as built. All
    mutable state is guarded by `self.lock` (an RLock: tests may hold it while
    calling the helpers below or editing `courses` / `trainers` / `settings`
    in place).

    Two kinds of refresh token are accepted: the operator's (`refresh_token`,
    from a Self Client: every scope, admin as `admin` says, never evicted), and
    the ones consents produce (bound to a person, their scopes and their
    admin status; at most `max_refresh_tokens` per person).
    """

    def __init__(
        self,
        org: Org | None = None,
        *,
        client_id: str = "client-id",
        client_secret: str = "client-secret",
        refresh_token: str = "1000.refresh.token",
        grant_code: str = "1000.grant.code",
        token_ttl: float = 3600,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        org = copy.deepcopy(org or Org())
        self.lock = threading.RLock()
        self.courses: list[Course] = org.courses
        self.trainers: list[Trainer] = org.trainers
        self.settings: OrgSettings = org.settings
        """What /api/v3/organization answers; its zone and DateFormat shape the LMS answers."""
        self.admin = True
        """Whether the operator's connection (`refresh_token`, `issue_token`) is a People admin."""
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.grant_code = grant_code
        self.token_ttl = token_ttl
        self.clock: Callable[[], float] = time.time
        # Zoho's limits, adjustable by tests.
        self.token_limit = 10
        self.token_window = 600.0
        self.max_live_tokens = 10
        self.threshold = 30
        self.threshold_window = 60.0
        self.lock_seconds = 300.0
        self.lock_status = 400
        self.org_threshold = 20
        self.org_threshold_window = 60.0
        self.code_ttl = 120.0
        self.max_refresh_tokens = 20
        """Live refresh tokens a person holds for this client; one more deletes their oldest."""
        self.refresh_token_limit = 10
        """Refresh tokens a person may get per `token_window` (Zoho: 10 per user and client)."""
        self.api_domain = "https://www.zohoapis.com"
        # The consent page.
        self.consent_plan = ConsentPlan()
        self.redirect_uris: set[str] | None = None
        """The client's registered redirect URIs; None accepts any (the bot's port is not known up front)."""
        # Fault injection.
        self.delay = 0.0
        self.never_ending = False
        self.cut_at: int | None = None
        """Lists end after this many records though their last page says more follow."""
        self.down_until: float | None = None
        """Until this fake-clock time every /api/ request answers 503 (Zoho down)."""
        self._faults: deque[int | tuple[int, JSON]] = deque()
        # Internal state.
        self._host = host
        self._port = port
        self._requests: list[Recorded] = []
        self._tokens: dict[str, _Token] = {}
        self._token_numbers = itertools.count(1)
        self._revoked: set[str] = set()
        self._token_attempts: dict[str, _Window] = {}
        self._lms_calls = _Window(self.threshold_window)
        self._locked_until: float | None = None
        self._org_calls = _Window(self.org_threshold_window)
        self._org_locked_until: float | None = None
        self._consents: list[ConsentRequest] = []
        self._codes: dict[str, _Code] = {}
        self._code_numbers = itertools.count(1)
        self._grants: dict[str, _Grant] = {}  # issue order: oldest first
        self._grant_numbers = itertools.count(1)
        self._refresh_issues: dict[str, _Window] = {}
        self._user_admin: dict[str, bool] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._parent: FakeZoho | None = None
        self._organisations: list[FakeZoho] = [self]

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> FakeZoho:
        """Serve in a background thread; returns once the port is bound.

        Everything runs on the thread's own loop, so this works from sync and
        async tests alike.
        """
        if self._thread is not None:
            raise RuntimeError("FakeZoho already started")
        if self._parent is not None:
            raise RuntimeError("an organisation from add_organisation is served by its FakeZoho")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(ready, failure), name="fake-zoho", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=30):
            raise RuntimeError("FakeZoho did not start within 30 s")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close the server and its loop; in-flight answers get 1 s to finish."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._loop = self._thread = None

    def __enter__(self) -> FakeZoho:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for both ZOHO_ACCOUNTS_URL and ZOHO_PEOPLE_URL (an added organisation's: its server's)."""
        if self._parent is not None:
            return self._parent.url
        return f"http://{self._host}:{self._port}"

    def bot_environment(self) -> dict[str, str]:
        """The settings that point the bot at this fake: both hosts and the credentials."""
        return {
            "ZOHO_ACCOUNTS_URL": self.url,
            "ZOHO_PEOPLE_URL": self.url,
            "ZOHO_CLIENT_ID": self.client_id,
            "ZOHO_CLIENT_SECRET": self.client_secret,
            "ZOHO_REFRESH_TOKEN": self.refresh_token,
        }

    async def _open(self) -> web.AppRunner:
        runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        return runner

    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        """Thread body: bind, report readiness, serve until `stop`, then clean up."""
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            try:
                runner = loop.run_until_complete(self._open())
            except BaseException as exc:
                failure.append(exc)
                return
            self._loop = loop
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            ready.set()
            loop.close()

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._record_mw, self._api_gate_mw])
        courses = "/api/v1/courses/{course_id}"
        batch = courses + "/batches/{batch_id}"
        app.router.add_post(TOKEN_PATH, _routed(FakeZoho._token))
        app.router.add_get(AUTH_PATH, self._consent)
        app.router.add_post(REVOKE_PATH, _routed(FakeZoho._revoke_endpoint))
        app.router.add_get(ORG_PATH, _routed(FakeZoho._organization))
        app.router.add_get("/api/v1/courses", _routed(FakeZoho._courses))
        app.router.add_get(courses, _routed(FakeZoho._course))
        app.router.add_get(courses + "/batches", _routed(FakeZoho._batches))
        app.router.add_get(batch + "/modules", _routed(FakeZoho._modules))
        app.router.add_get(batch + "/modules/{module_id}/sessions", _routed(FakeZoho._module_sessions))
        app.router.add_get(batch + "/sessions", _routed(FakeZoho._batch_sessions))
        app.router.add_get("/api/v1/trainers", _routed(FakeZoho._trainers))
        app.router.add_get("/api/forms/employee/getDataByID", _routed(FakeZoho._employee))
        return app

    # --- recording -----------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of every request so far, oldest first."""
        with self.lock:
            return list(self._requests)

    def calls(self, path_prefix: str = "/api/v1") -> list[Recorded]:
        """Recorded requests whose path starts with `path_prefix` (LMS calls by default)."""
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def token_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == TOKEN_PATH]

    def revoke_requests(self) -> list[Recorded]:
        """Every POST to /oauth/v2/token/revoke, oldest first (`form["token"]` names the token)."""
        return [r for r in self.requests if r.path == REVOKE_PATH]

    def clear(self) -> None:
        """Forget recorded requests and consent visits (limits, tokens and locks are kept)."""
        with self.lock:
            self._requests.clear()
            self._consents.clear()

    @web.middleware
    async def _record_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        form: dict[str, str] = {}
        if request.method == "POST":
            body = await request.post()
            form = {**request.query, **{k: str(v) for k, v in body.items()}}
        with self.lock:
            org = self._route(request, form)
            request[ORGANISATION_KEY] = org
            entry = Recorded(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                form=form,
                at=self.clock(),
            )
            org._requests.append(entry)
        try:
            response = await handler(request)
        except _Reply as reply:
            response = reply.response()
        except web.HTTPException as exc:
            self._set_status(entry, exc.status)
            raise
        except Exception:
            self._set_status(entry, 500)
            raise
        self._set_status(entry, response.status)
        return response

    def _set_status(self, entry: Recorded, status: int) -> None:
        with self.lock:
            entry.status = status

    # --- clock, tokens, limits --------------------------------------------------

    def now(self) -> float:
        """The fake clock's current time (tests replace `clock` to move it)."""
        return self.clock()

    def issue_token(self) -> str:
        """A fresh valid access token, bypassing the endpoint and its rate limit."""
        with self.lock:
            return self._new_token(self.refresh_token)

    def live_tokens(self) -> list[str]:
        """Access tokens still accepted, oldest first."""
        with self.lock:
            now = self.clock()
            return [t for t, info in self._tokens.items() if info.expires_at > now]

    def expire_all_tokens(self) -> None:
        """Kill every access token: the next LMS call gets 401 / 7213."""
        with self.lock:
            self._tokens.clear()

    def revoke_refresh_token(self, token: str | None = None) -> None:
        """Revoke a refresh token (the operator's by default) and its access tokens, as the Zoho console does.

        KeyError if `token` is given and is no live refresh token.
        """
        with self.lock:
            if token is None:
                self._revoked.add(self.refresh_token)
                self._kill_access_tokens(self.refresh_token)
            elif not self._revoke(token):
                raise KeyError(token)

    def live_refresh_tokens(self, user: str | None = None) -> list[str]:
        """Refresh tokens Zoho still honours, oldest first.

        Without `user`: the operator's (unless revoked) then every consent's.
        With `user`: only the ones that person's consents produced.
        """
        with self.lock:
            mine = [g.token for g in self._grants.values() if user is None or g.user == user]
            if user is None and self.refresh_token not in self._revoked:
                return [self.refresh_token, *mine]
            return mine

    def _revoke(self, token: str) -> bool:
        """Revoke a live refresh token and kill its access tokens; False if it is none."""
        operator = token == self.refresh_token and token not in self._revoked
        if not operator and self._grants.pop(token, None) is None:
            return False
        self._revoked.add(token)
        self._kill_access_tokens(token)
        return True

    def _kill_access_tokens(self, refresh_token: str) -> None:
        self._tokens = {t: i for t, i in self._tokens.items() if i.refresh_token != refresh_token}

    @property
    def locked_until(self) -> float | None:
        """Fake-clock time the threshold lock ends (None if never locked; may be past)."""
        with self.lock:
            return self._locked_until

    def is_locked(self) -> bool:
        with self.lock:
            return self._locked_until is not None and self.clock() < self._locked_until

    @property
    def org_locked_until(self) -> float | None:
        """Fake-clock time the /api/v3/organization lock ends (None if never locked; may be past)."""
        with self.lock:
            return self._org_locked_until

    def reset_limits(self) -> None:
        """Forget rate-limit history and any lock (token, refresh-token, LMS and organization)."""
        with self.lock:
            self._token_attempts.clear()
            self._refresh_issues.clear()
            self._lms_calls = _Window(self.threshold_window)
            self._locked_until = None
            self._org_calls = _Window(self.org_threshold_window)
            self._org_locked_until = None

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next n /api/ requests answer `status` with {"code": status, ...}."""
        with self.lock:
            self._faults.extend([status] * n)

    def answer_next(self, status: int, body: JSON) -> None:
        """The next /api/ request answers `status` with exactly `body` (Zoho's other throttle answers)."""
        with self.lock:
            self._faults.append((status, body))

    def answer_429_next(self, n: int) -> None:
        """The next n /api/ requests answer HTTP 429 with the 7209 threshold body."""
        self.fail_next(n, status=429)

    def _new_token(self, refresh_token: str) -> str:
        """Issue a token; the 11th live one for a refresh token kills the oldest."""
        now = self.clock()
        self._tokens = {t: i for t, i in self._tokens.items() if i.expires_at > now}
        mine = [t for t, i in self._tokens.items() if i.refresh_token == refresh_token]
        for old in mine[: max(len(mine) - self.max_live_tokens + 1, 0)]:
            del self._tokens[old]
        token = f"tok-{next(self._token_numbers)}"
        grant = self._grants.get(refresh_token)
        user, scopes = (grant.user, grant.scopes) if grant else (None, None)
        self._tokens[token] = _Token(refresh_token, now + self.token_ttl, user, scopes)
        return token

    def _attempts(self, key: str) -> _Window:
        """The 10-minute window of access-token requests made with one refresh token."""
        window = self._token_attempts.setdefault(key, _Window(self.token_window))
        window.seconds = self.token_window
        return window

    def _token_reply(self, params: dict[str, str]) -> JSON:
        """The token endpoint's body; Zoho answers errors with HTTP 200 too.

        Access-token requests are limited per refresh token (10 per 10
        minutes); the operator's grant-code exchange counts against the
        operator's refresh token, as it always did. A consent's code has its
        own rules (`_exchange_code`).
        """
        grant = params.get("grant_type")
        if grant == "authorization_code" and params.get("code") != self.grant_code:
            return self._exchange_code(params)
        now = self.clock()
        key = params.get("refresh_token", "") if grant == "refresh_token" else self.refresh_token
        if self._attempts(key).add(now) > self.token_limit:
            return {"error_description": TOO_MANY_TOKENS, "error": "Access Denied"}
        if not self._client_ok(params):
            return {"error": "invalid_client"}
        if grant == "refresh_token":
            refresh = params.get("refresh_token", "")
            operator = refresh == self.refresh_token and refresh not in self._revoked
            if not operator and refresh not in self._grants:
                return {"error": "invalid_code"}
            return self._token_body(self._new_token(refresh))
        if grant == "authorization_code":
            if self.refresh_token in self._revoked:
                return {"error": "invalid_code"}
            body = self._token_body(self._new_token(self.refresh_token))
            return {"access_token": body.pop("access_token"), "refresh_token": self.refresh_token, **body}
        return {"error": "unsupported_grant_type"}

    def _client_ok(self, params: dict[str, str]) -> bool:
        return (params.get("client_id"), params.get("client_secret")) == (self.client_id, self.client_secret)

    def _exchange_code(self, params: dict[str, str]) -> JSON:
        """A consent's code for tokens: once, before `code_ttl`, with the consent's redirect_uri.

        A refresh token comes back only for `access_type=offline`, and only at
        a person's first consent unless the consent said `prompt=consent`. A
        redirect_uri mismatch or the refresh-token limit leaves the code unused.
        """
        now = self.clock()
        if not self._client_ok(params):
            return {"error": "invalid_client"}
        code = self._codes.get(params.get("code", ""))
        if code is None or code.used or now >= code.issued_at + self.code_ttl:
            return {"error": "invalid_code"}
        if params.get("redirect_uri") != code.redirect_uri:
            return {"error": "invalid_redirect_uri"}
        has_one = any(g.user == code.user for g in self._grants.values())
        with_refresh = code.offline and (code.prompt_consent or not has_one)
        issues = self._refresh_issues.setdefault(code.user, _Window(self.token_window))
        issues.seconds = self.token_window
        if with_refresh and issues.count(now) >= self.refresh_token_limit:
            return {"error_description": TOO_MANY_TOKENS, "error": "Access Denied"}
        code.used = True
        if not with_refresh:
            token = f"tok-{next(self._token_numbers)}"
            self._tokens[token] = _Token(f"online:{code.code}", now + self.token_ttl, code.user, code.scopes)
            return self._token_body(token)
        issues.add(now)
        refresh = self._new_grant(code.user, code.scopes, now)
        body = self._token_body(self._new_token(refresh))
        return {"access_token": body.pop("access_token"), "refresh_token": refresh, **body}

    def _new_grant(self, user: str, scopes: frozenset[str], now: float) -> str:
        """A new refresh token for `user`; their oldest past `max_refresh_tokens` dies, access tokens too."""
        refresh = f"{self.refresh_token}.{next(self._grant_numbers)}"
        self._grants[refresh] = _Grant(refresh, user, scopes, now)
        theirs = [g.token for g in self._grants.values() if g.user == user]
        for old in theirs[: max(len(theirs) - self.max_refresh_tokens, 0)]:
            self._revoke(old)
        return refresh

    def _token_body(self, token: str) -> JSON:
        return {
            "access_token": token,
            "expires_in": int(self.token_ttl),
            "api_domain": self.api_domain,
            "token_type": "Bearer",
        }

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.post()
        params = {**request.query, **{k: str(v) for k, v in body.items()}}
        with self.lock:
            reply = self._token_reply(params)
        return web.json_response(reply)

    @web.middleware
    async def _api_gate_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Delay, auth, threshold lock and injected faults for every /api/ request."""
        if not request.path.startswith("/api/"):
            return await handler(request)
        org: FakeZoho = request[ORGANISATION_KEY]
        with self.lock:
            delay = org.delay
        if delay > 0:
            await asyncio.sleep(delay)
        with self.lock:
            org._admit(request)
        try:
            return await handler(request)
        except web.HTTPNotFound as exc:
            raise _Reply(404, {"code": 404, "message": f"URL {request.path} not found"}) from exc

    def _admit(self, request: web.Request) -> None:
        """Raise the answer Zoho would give before serving data, if any."""
        token = self._check_auth(request.headers.get("Authorization", ""))
        self._check_scope(token, request.path)
        if request.path.startswith(LMS_PREFIX):
            self._check_threshold()
        elif request.path == ORG_PATH:
            self._check_org_threshold()
        if self.down_until is not None and self.clock() < self.down_until:
            raise _Reply(503, {"code": 503, "message": "Service unavailable"})
        if self._faults:
            status = self._faults.popleft()
            if isinstance(status, tuple):
                raise _Reply(*status)
            if status == 429:
                raise _Reply(429, {"code": 7209, "message": THRESHOLD_MESSAGE})
            raise _Reply(status, {"code": status, "message": "Internal error"})

    def _check_auth(self, header: str) -> _Token:
        """The live access token the header carries; raises Zoho's 400 / 401 otherwise."""
        scheme, _, token = header.partition(" ")
        if scheme != "Zoho-oauthtoken" or not token.strip():
            raise _Reply(400, _people_error(7202, "Authorization header with OAuth token missing"))
        info = self._tokens.get(token.strip())
        if info is None or info.expires_at <= self.clock():
            raise _Reply(401, _people_error(7213, "Invalid OAuth token"))
        return info

    def _check_scope(self, token: _Token, path: str) -> None:
        """A consent's token reaches only what its scopes allow (7218 is *assumed*, as the reference says)."""
        needed = (
            SCOPE_LMS
            if path.startswith(LMS_PREFIX)
            else SCOPE_FORMS
            if path.startswith(FORMS_PREFIX)
            else SCOPE_ORG
            if path == ORG_PATH
            else None
        )
        if needed is not None and not _scope_allows(token.scopes, needed):
            raise _Reply(401, _people_error(7218, f"Invalid OAuthScope: {needed} was not granted"))

    def _check_threshold(self) -> None:
        """30 LMS calls a sliding minute; the 31st locks for 5 minutes (not extended)."""
        until = self._over_threshold(
            self._lms_calls, self.threshold, self.threshold_window, self._locked_until
        )
        if until is not None:
            self._locked_until = until
            raise _Reply(self.lock_status, {"code": 7209, "message": THRESHOLD_MESSAGE})

    def _check_org_threshold(self) -> None:
        """/api/v3/organization has its own count: 20 calls a sliding minute, then its own 5-minute lock."""
        until = self._over_threshold(
            self._org_calls, self.org_threshold, self.org_threshold_window, self._org_locked_until
        )
        if until is not None:
            self._org_locked_until = until
            raise _Reply(self.lock_status, {"code": 7209, "message": THRESHOLD_MESSAGE})

    def _over_threshold(
        self, calls: _Window, limit: int, window: float, locked_until: float | None
    ) -> float | None:
        """When the lock refusing this call ends, or None if the call is admitted (and counted)."""
        now = self.clock()
        if locked_until is not None and now < locked_until:
            return locked_until
        calls.seconds = window
        if calls.add(now) > limit:
            calls.events.clear()
            return now + self.lock_seconds
        return None

    def _is_admin(self, token: _Token) -> bool:
        """Zoho checks the person's role at each call: demoting them takes effect at once."""
        return self.admin if token.user is None else self._user_admin.get(token.user, True)

    # --- data lookups (call with the lock held) ---------------------------------

    def _find_course(self, course_id: str) -> Course:
        for course in self.courses:
            if course.course_id == course_id:
                return course
        raise _not_found(f"Course {course_id}")

    def _find_batch(self, course_id: str, batch_id: str) -> Batch:
        for batch in self._find_course(course_id).batches:
            if batch.batch_id == batch_id:
                return batch
        raise _not_found(f"Batch {batch_id}")

    def _find_module(self, course_id: str, batch_id: str, module_id: str) -> Module:
        for module in self._find_batch(course_id, batch_id).modules:
            if module.module_id == module_id:
                return module
        raise _not_found(f"Module {module_id}")

    def _page(self, request: web.Request, key: str, items: list[JSON], code: int | str) -> JSON:
        """One page of at most 25 records from offset `startIndex`."""
        raw = request.query.get("startIndex", "0")
        if not (raw.isascii() and raw.isdigit()):
            raise _Reply(400, {"code": 400, "message": f"Invalid value for startIndex: {raw!r}"})
        start = int(raw)
        if self.never_ending:
            page = [items[(start + i) % len(items)] for i in range(PAGE_SIZE)] if items else []
            more = True
        elif self.cut_at is not None:
            page, more = items[start : min(start + PAGE_SIZE, self.cut_at)], True
        else:
            page, more = items[start : start + PAGE_SIZE], start + PAGE_SIZE < len(items)
        return {
            "code": code,
            "message": f"{key.capitalize()} fetched successfully",
            "hasMoreRecords": more,
            key: copy.deepcopy(page),
        }

    # --- LMS handlers -----------------------------------------------------------

    async def _courses(self, request: web.Request) -> web.Response:
        search = request.query.get("search", "").casefold()
        kind = request.query.get("type")
        if kind is not None and not (kind.isascii() and kind.isdigit()):
            raise _Reply(400, {"code": 400, "message": f"Invalid value for type: {kind!r}"})
        with self.lock:
            found = [
                c.to_api()
                for c in self.courses
                if search in c.name.casefold() and (kind is None or c.type == int(kind))
            ]
            return web.json_response(self._page(request, "courses", found, "200"))

    async def _course(self, request: web.Request) -> web.Response:
        with self.lock:
            course = self._find_course(request.match_info["course_id"]).to_api()
        return web.json_response({"code": "200", "message": "Course fetched successfully", "course": course})

    async def _batches(self, request: web.Request) -> web.Response:
        course_id = request.match_info["course_id"]
        with self.lock:
            found = [b.to_api(course_id) for b in self._find_course(course_id).batches]
            return web.json_response(self._page(request, "batches", found, "200"))

    async def _modules(self, request: web.Request) -> web.Response:
        course_id, batch_id = request.match_info["course_id"], request.match_info["batch_id"]
        with self.lock:
            batch = self._find_batch(course_id, batch_id)
            found = [m.to_api(course_id, batch_id) for m in batch.modules]
            return web.json_response(self._page(request, "modules", found, "200"))

    async def _module_sessions(self, request: web.Request) -> web.Response:
        ids = request.match_info
        with self.lock:
            module = self._find_module(ids["course_id"], ids["batch_id"], ids["module_id"])
            sessions = self._served(module.sessions)
            return web.json_response(self._page(request, "sessions", sessions, 200))

    async def _batch_sessions(self, request: web.Request) -> web.Response:
        ids = request.match_info
        with self.lock:
            batch = self._find_batch(ids["course_id"], ids["batch_id"])
            sessions = self._served(batch.sessions())
            return web.json_response(self._page(request, "sessions", sessions, 200))

    def _served(self, sessions: list[JSON]) -> list[JSON]:
        """Sessions as this org's Zoho writes them: `sessionStartDate` in the org's DateFormat.

        Stored dates are dd-MM-yyyy (what `make_session` writes); one a test
        stored in another shape on purpose is served untouched.
        """
        pattern = self.settings.date_format
        if pattern == STORED_DATE_FORMAT:
            return sessions
        served = []
        for session in sessions:
            day = parse_stored_date(session.get("sessionStartDate", ""))
            served.append(
                session if day is None else {**session, "sessionStartDate": self.settings.format_date(day)}
            )
        return served

    async def _trainers(self, request: web.Request) -> web.Response:
        status = request.query.get("employeeStatus", "").casefold()
        with self.lock:
            found = [t.to_api() for t in self.trainers if status in ("", t.status.casefold())]
            return web.json_response(self._page(request, "trainers", found, 200))

    async def _employee(self, request: web.Request) -> web.Response:
        """People forms API: not counted in the LMS threshold, People envelope."""
        record_id = request.query.get("recordId", "")
        if not record_id:
            raise _Reply(400, _people_error(7012, "recordId is mandatory"))
        with self.lock:
            trainer = next((t for t in self.trainers if t.erecno == record_id), None)
            if trainer is None:
                raise _Reply(404, _people_error(7024, f"Record {record_id} not found"))
            record = trainer.to_employee_record()
        return web.json_response(
            {"response": {"result": [record], "message": "Data fetched successfully", "status": 0}}
        )

    async def _organization(self, request: web.Request) -> web.Response:
        """GET /api/v3/organization: the org's settings, for admins only."""
        with self.lock:
            token = self._check_auth(request.headers.get("Authorization", ""))  # admitted: still live
            if not self._is_admin(token):
                raise _Reply(403, dict(NO_PERMISSION))
            return web.json_response(self.settings.to_api())

    # --- connecting from a browser ------------------------------------------------

    async def _consent(self, request: web.Request) -> web.StreamResponse:
        """GET /oauth/v2/auth: Zoho's consent page, with the person's answer decided by `consent_plan`.

        A malformed request gets Zoho's error page (HTTP 400 here, no redirect:
        Zoho never sends an unverified request back to its redirect_uri).
        """
        params = dict(request.query)
        scopes = [s.strip() for s in params.get("scope", "").split(",") if s.strip()]
        state = [("state", params["state"])] if "state" in params else []
        with self.lock:
            plan = replace(self.consent_plan)
            entry = ConsentRequest(params, scopes, self.clock(), "", user=plan.user)
            self._consents.append(entry)
            error = self._consent_error(params, scopes)
            if error:
                entry.outcome = error
                page = f"<html><body><h1>Zoho Accounts</h1><p>{html.escape(error)}</p></body></html>"
                return web.Response(status=400, text=page, content_type="text/html")
            if not plan.approve:
                entry.outcome = "access_denied"
                entry.redirect = _with_query(params["redirect_uri"], [("error", "access_denied"), *state])
                return web.Response(status=302, headers={"Location": entry.redirect})
        issuer = (
            plan.accounts_server if isinstance(plan.accounts_server, FakeZoho) else plan.organisation or self
        )
        code = issuer.issue_code(
            params["redirect_uri"],
            scopes,
            user=plan.user,
            admin=plan.admin,
            access_type=params.get("access_type", "online"),
            prompt=params.get("prompt", ""),
        )
        server = plan.accounts_server if isinstance(plan.accounts_server, str) else issuer.url
        pairs = [*state, ("code", code), ("location", plan.location), ("accounts-server", server)]
        with self.lock:
            entry.outcome, entry.code = "code", code
            entry.redirect = _with_query(params["redirect_uri"], pairs)
        return web.Response(status=302, headers={"Location": entry.redirect})

    def _consent_error(self, params: dict[str, str], scopes: list[str]) -> str:
        """The error Zoho's consent page would show for these parameters, or ""."""
        if params.get("client_id") != self.client_id:
            return "invalid_client"
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        redirect = params.get("redirect_uri", "")
        if not redirect or (self.redirect_uris is not None and redirect not in self.redirect_uris):
            return "invalid_redirect_uri"
        if not scopes:
            return "invalid_scope"
        return ""

    async def _revoke_endpoint(self, request: web.Request) -> web.Response:
        """POST /oauth/v2/token/revoke?token=: the token and its access tokens die; 400 if it is none."""
        body = await request.post()
        token = {**request.query, **{k: str(v) for k, v in body.items()}}.get("token", "")
        with self.lock:
            if self._revoke(token):
                return web.json_response({"status": "success"})
        return web.json_response({"error": "invalid_token"}, status=400)

    def issue_code(
        self,
        redirect_uri: str,
        scopes: Iterable[str] = READ_SCOPES,
        *,
        user: str = "admin@example.com",
        admin: bool = True,
        access_type: str = "offline",
        prompt: str = "consent",
    ) -> str:
        """A code as an approved consent would give, without the browser (valid `code_ttl` from now)."""
        with self.lock:
            self._user_admin[user] = admin
            code = f"1000.code.{next(self._code_numbers)}"
            self._codes[code] = _Code(
                code=code,
                redirect_uri=redirect_uri,
                scopes=frozenset(s.casefold() for s in scopes),
                user=user,
                offline=access_type == "offline",
                prompt_consent=prompt == "consent",
                issued_at=self.clock(),
            )
            return code

    def approve_as(
        self,
        user: str = "admin@example.com",
        *,
        admin: bool = True,
        location: str = "us",
        accounts_server: str | FakeZoho | None = None,
        organisation: FakeZoho | None = None,
    ) -> None:
        """From now on the person at the consent page approves, as `user` (People admin or not)
        of `organisation` (this fake's own by default; an added one's `approve_as` names itself).

        `location` / `accounts_server` are what Zoho's redirect names (see
        `ConsentPlan`). Calling it again for a connected user changes their
        admin status at once, as demoting them in People would.
        """
        if self._parent is not None:
            self._parent.approve_as(
                user, admin=admin, location=location, accounts_server=accounts_server, organisation=self
            )
            return
        member = organisation or self
        with self.lock:
            self.consent_plan = ConsentPlan(True, user, admin, location, accounts_server, organisation)
            member._user_admin[user] = admin
        if isinstance(accounts_server, FakeZoho) and accounts_server is not self:
            with accounts_server.lock:
                accounts_server._user_admin[user] = admin

    def refuse(self) -> None:
        """From now on the person at the consent page refuses: Zoho redirects with error=access_denied."""
        if self._parent is not None:
            self._parent.refuse()
            return
        with self.lock:
            self.consent_plan = replace(self.consent_plan, approve=False)

    @property
    def consents(self) -> list[ConsentRequest]:
        """Every visit to the consent page, oldest first."""
        with self.lock:
            return list(self._consents)

    def consent_url_params(self, index: int = -1) -> dict[str, str]:
        """The query the bot sent the browser to the consent page with (the last visit by default)."""
        with self.lock:
            if not self._consents:
                raise LookupError("no browser has visited /oauth/v2/auth")
            return dict(self._consents[index].params)

    # --- organisations -----------------------------------------------------------

    def add_organisation(
        self,
        org: Org | None = None,
        *,
        company: str | None = None,
        refresh_token: str | None = None,
    ) -> FakeZoho:
        """Another Zoho organisation served by this fake, with its own data and settings (`org`:
        time zone, DateFormat), `Company`, operator refresh token, tokens, consents, threshold,
        lock and faults; returns its handle, which has this fake's API (`calls()`,
        `answer_429_next`, `is_locked()`, `update_session`, `approve_as`…). It shares the
        server, client id and secret, clock and lock. A token belongs to one organisation: LMS
        calls with it see only that one's data and count against only its limits.

        `company` defaults to the org's own, or a new one if that is taken; naming one that is
        taken is a ValueError: two workspaces reaching the same Zoho organisation are two
        consents to one organisation, not two organisations.
        """
        if self._parent is not None:
            return self._parent.add_organisation(org, company=company, refresh_token=refresh_token)
        with self.lock:
            taken = {o.settings.company for o in self._organisations}
            child = FakeZoho(
                org,
                client_id=self.client_id,
                client_secret=self.client_secret,
                refresh_token=refresh_token or f"{self.refresh_token}.org{len(self._organisations) + 1}",
                grant_code=f"{self.grant_code}.org{len(self._organisations) + 1}",
                token_ttl=self.token_ttl,
            )
            if company is not None and company in taken:
                raise ValueError(f"Company {company} is already served: approve twice against that one")
            chosen = company or child.settings.company
            while chosen in taken:
                chosen = str(int(chosen) + 1)
            child.settings = replace(child.settings, company=chosen)
            child._parent, child.lock, child.clock = self, self.lock, lambda: self.clock()
            child._token_numbers, child._code_numbers = self._token_numbers, self._code_numbers
            self._organisations.append(child)
            return child

    @property
    def organisations(self) -> list[FakeZoho]:
        """Every organisation served, this fake's own first."""
        root = self._parent or self
        with self.lock:
            return list(root._organisations)

    @property
    def company(self) -> str:
        """This organisation's `Company` id (what /api/v3/organization reports)."""
        with self.lock:
            return self.settings.company

    def calls_today(self) -> int:
        """LMS calls this organisation answered or refused since midnight UTC (fake clock)."""
        with self.lock:
            midnight = self.clock() // 86_400 * 86_400
            return sum(1 for r in self._requests if r.path.startswith(LMS_PREFIX) and r.at >= midnight)

    def _route(self, request: web.Request, form: dict[str, str]) -> FakeZoho:
        """The organisation a request is for: the one that issued its access token, refresh
        token or code; this fake's own when none did (it then answers as Zoho would)."""
        if request.path == TOKEN_PATH:
            refreshing = form.get("grant_type") == "refresh_token"
            key = form.get("refresh_token" if refreshing else "code", "")
        elif request.path == REVOKE_PATH:
            key = form.get("token", "")
        else:
            key = request.headers.get("Authorization", "").partition(" ")[2].strip()
        return next((o for o in self._organisations if o._issued(key)), self)

    def _issued(self, key: str) -> bool:
        """Whether this organisation issued `key` (an access token, refresh token or code)."""
        grants = (self.refresh_token, self.grant_code)
        return bool(key) and (
            key in grants or key in self._grants or key in self._codes or key in self._tokens
        )

    # --- mutation helpers for tests ---------------------------------------------

    def set_org(self, org: Org) -> None:
        """Replace all courses, trainers and the org's settings at once (with a deep copy of `org`)."""
        org = copy.deepcopy(org)
        with self.lock:
            self.courses, self.trainers, self.settings = org.courses, org.trainers, org.settings

    def add_session(self, course_id: str, batch_id: str, module_id: str, raw: JSON) -> None:
        """Add a copy of `raw` to a module (moduleId forced). KeyError if an id is unknown."""
        with self.lock:
            try:
                module = self._find_module(course_id, batch_id, module_id)
            except _Reply as exc:
                raise KeyError(exc.body["message"]) from None
            module.sessions.append({**copy.deepcopy(raw), "moduleId": module_id})

    def remove_session(self, session_id: str) -> JSON:
        """Delete a session wherever it is; returns it. KeyError if unknown."""
        with self.lock:
            for module, index in self._find_session(session_id):
                return module.sessions.pop(index)
        raise KeyError(session_id)

    def update_session(self, session_id: str, **fields: Any) -> JSON:
        """Change fields (Zoho key names) of a session; returns a copy. KeyError if unknown."""
        with self.lock:
            for module, index in self._find_session(session_id):
                module.sessions[index].update(fields)
                return copy.deepcopy(module.sessions[index])
        raise KeyError(session_id)

    def _find_session(self, session_id: str) -> Iterator[tuple[Module, int]]:
        for course in self.courses:
            for batch in course.batches:
                for module in batch.modules:
                    for index, session in enumerate(module.sessions):
                        if session.get("sessionId") == session_id:
                            yield module, index


def _routed(handler: Callable[[FakeZoho, web.Request], Awaitable[web.Response]]) -> Handler:
    """A route handler that runs `handler` as the organisation the request was routed to."""

    async def serve(request: web.Request) -> web.Response:
        return await handler(request[ORGANISATION_KEY], request)

    return serve


async def consent_return_url(http: httpx.AsyncClient, connect_url: str, *, max_hops: int = 10) -> str:
    """Be the browser from the bot's connect link to Zoho's consent page; return where Zoho sends it back.

    Follows every redirect (the bot's, then to /oauth/v2/auth) and stops at
    the consent page's 302 without visiting its Location, so a test can move
    the clock, replay or tamper with the return before `http.get`-ing it.
    The client's cookie jar carries cookies as a browser's would.
    AssertionError if a hop is not a redirect (the page's text says why).
    """
    url = connect_url
    for _ in range(max_hops):
        response = await http.get(url, follow_redirects=False)
        if response.status_code not in REDIRECTS:
            raise AssertionError(
                f"GET {url} answered {response.status_code}, not a redirect: {response.text[:300]}"
            )
        location = urljoin(str(response.url), response.headers["location"])
        if response.url.path == AUTH_PATH:
            return location
        url = location
    raise AssertionError(f"no consent page within {max_hops} redirects of {connect_url}")


async def follow_consent(http: httpx.AsyncClient, connect_url: str) -> httpx.Response:
    """Be the browser through the whole connect flow; return the bot's answer at its redirect_uri.

    The bot's own further redirects (to a "done" page, to Slack) are not
    followed: the response is what the bot answered Zoho's return.
    """
    return await http.get(await consent_return_url(http, connect_url), follow_redirects=False)


def _env_lines(fz: FakeZoho) -> list[str]:
    """What to put in `.env` to point the bot at this fake."""
    return [f"{name}={value}" for name, value in fz.bot_environment().items()]


def main(argv: list[str] | None = None) -> int:
    """Serve `sample_org(today)` until Ctrl-C, for trying the bot by hand."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.zoho", description=__doc__)
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    today = args.today or date.today()
    try:  # around everything: Ctrl-C may come as soon as the settings are printed
        with FakeZoho(sample_org(today), port=args.port) as fz:
            print(f"Fake Zoho People serving sample data around {today} at {fz.url}")
            print("Use these settings (Ctrl-C stops):")
            print("\n".join(_env_lines(fz)), flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        print("Stopping.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
