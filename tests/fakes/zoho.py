"""A fake Zoho People server: accounts (OAuth) and People/LMS APIs on one port.

Why: the bot must survive Zoho's real rules (token errors in HTTP 200 bodies,
10 token requests per 10 minutes, 30 LMS calls a minute then a 5-minute lock,
25-record pages), so tests run the real client against a real HTTP server that
keeps those rules on a clock the test controls.

It also serves the org's settings (`/api/v3/organization`, admins only, 20
calls a minute) and writes session dates in the org's DateFormat.

Run it by hand with `python -m tests.fakes.zoho --port 9000 [--today YYYY-MM-DD]`.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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
ORG_PATH = "/api/v3/organization"
TOKEN_PATH = "/oauth/v2/token"
THRESHOLD_MESSAGE = "API access blocked since threshold limit exceeded. Please try after some time"
TOO_MANY_TOKENS = "You have made too many requests continuously. Please try again after some time."
NO_PERMISSION = {
    "code": "NO_PERMISSION",
    "message": "You don't have permission to perform this operation as you are not an Admin.",
}

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
    refresh_token: str
    expires_at: float


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
        while self.events and self.events[0] <= now - self.seconds:
            self.events.popleft()
        self.events.append(now)
        return len(self.events)


class FakeZoho:
    """Zoho accounts + People LMS on 127.0.0.1, served from a background thread.

    It serves a deep copy of `org`, so a test's own Org stays as built. All
    mutable state is guarded by `self.lock` (an RLock: tests may hold it while
    calling the helpers below or editing `courses` / `trainers` / `settings`
    in place).
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
        self._token_attempts = _Window(self.token_window)
        self._lms_calls = _Window(self.threshold_window)
        self._locked_until: float | None = None
        self._org_calls = _Window(self.org_threshold_window)
        self._org_locked_until: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> FakeZoho:
        """Serve in a background thread; returns once the port is bound.

        Everything runs on the thread's own loop, so this works from sync and
        async tests alike.
        """
        if self._thread is not None:
            raise RuntimeError("FakeZoho already started")
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
        """Base URL for both ZOHO_ACCOUNTS_URL and ZOHO_PEOPLE_URL."""
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
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_get(ORG_PATH, self._organization)
        app.router.add_get("/api/v1/courses", self._courses)
        app.router.add_get(courses, self._course)
        app.router.add_get(courses + "/batches", self._batches)
        app.router.add_get(batch + "/modules", self._modules)
        app.router.add_get(batch + "/modules/{module_id}/sessions", self._module_sessions)
        app.router.add_get(batch + "/sessions", self._batch_sessions)
        app.router.add_get("/api/v1/trainers", self._trainers)
        app.router.add_get("/api/forms/employee/getDataByID", self._employee)
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

    def clear(self) -> None:
        """Forget recorded requests (limits, tokens and locks are kept)."""
        with self.lock:
            self._requests.clear()

    @web.middleware
    async def _record_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        form: dict[str, str] = {}
        if request.method == "POST":
            body = await request.post()
            form = {**request.query, **{k: str(v) for k, v in body.items()}}
        with self.lock:
            entry = Recorded(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                form=form,
                at=self.clock(),
            )
            self._requests.append(entry)
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

    def revoke_refresh_token(self) -> None:
        """Revoke the refresh token and its access tokens, as the Zoho console does."""
        with self.lock:
            self._revoked.add(self.refresh_token)
            self._tokens = {
                t: info for t, info in self._tokens.items() if info.refresh_token not in self._revoked
            }

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
        """Forget rate-limit history and any lock (token, LMS and organization)."""
        with self.lock:
            self._token_attempts = _Window(self.token_window)
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
        self._tokens[token] = _Token(refresh_token, now + self.token_ttl)
        return token

    def _token_reply(self, params: dict[str, str]) -> JSON:
        """The token endpoint's body; Zoho answers errors with HTTP 200 too."""
        now = self.clock()
        self._token_attempts.seconds = self.token_window
        if self._token_attempts.add(now) > self.token_limit:
            return {"error_description": TOO_MANY_TOKENS, "error": "Access Denied"}
        if (params.get("client_id"), params.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return {"error": "invalid_client"}
        grant = params.get("grant_type")
        if grant == "refresh_token":
            refresh = params.get("refresh_token")
            if refresh != self.refresh_token or refresh in self._revoked:
                return {"error": "invalid_code"}
            return self._token_body(self._new_token(refresh))
        if grant == "authorization_code":
            if params.get("code") != self.grant_code or self.refresh_token in self._revoked:
                return {"error": "invalid_code"}
            body = self._token_body(self._new_token(self.refresh_token))
            return {"access_token": body.pop("access_token"), "refresh_token": self.refresh_token, **body}
        return {"error": "unsupported_grant_type"}

    def _token_body(self, token: str) -> JSON:
        return {
            "access_token": token,
            "expires_in": int(self.token_ttl),
            "api_domain": "https://www.zohoapis.com",
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
        with self.lock:
            delay = self.delay
        if delay > 0:
            await asyncio.sleep(delay)
        with self.lock:
            self._admit(request)
        try:
            return await handler(request)
        except web.HTTPNotFound as exc:
            raise _Reply(404, {"code": 404, "message": f"URL {request.path} not found"}) from exc

    def _admit(self, request: web.Request) -> None:
        """Raise the answer Zoho would give before serving data, if any."""
        self._check_auth(request.headers.get("Authorization", ""))
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

    def _check_auth(self, header: str) -> None:
        scheme, _, token = header.partition(" ")
        if scheme != "Zoho-oauthtoken" or not token.strip():
            raise _Reply(400, _people_error(7202, "Authorization header with OAuth token missing"))
        info = self._tokens.get(token.strip())
        if info is None or info.expires_at <= self.clock():
            raise _Reply(401, _people_error(7213, "Invalid OAuth token"))

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
            if not self.admin:
                raise _Reply(403, dict(NO_PERMISSION))
            return web.json_response(self.settings.to_api())

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
