"""Paged GETs against the Zoho People LMS API, within its limits, with errors translated once.

Every request first takes a slot from the call budget, carries the shared
access token, and is answered in one of four ways: data; a lock that stops
every request until it ends; a passing failure (5xx, timeout) retried a bounded
number of times with jittered backoff; or a refusal (400, 403, 404, 422) raised
at once.

Zoho does not document the LMS's lock answer, so every throttle answer Zoho is
known to give counts as the lock: code 7209, HTTP 429, `422 Maximum limit
exceeded` (the LMS error table) and a 400 titled `URL_ROLLING_THROTTLES_LIMIT_EXCEEDED`
(other Zoho APIs). A five-minute pause is cheap; calling into a lock is not. The
first such answer is logged whole, once, so an operator can report what Zoho sent.

Every attempt is one log line (`zoho read`: path, outcome, milliseconds; never
a search text or a token) and counts in `sessions_bot_zoho_calls`.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bot import metrics
from bot.clock import Clock
from bot.logs import record
from bot.zoho.auth import TokenSource
from bot.zoho.budget import CallBudget, Priority
from bot.zoho.connection import ZohoConnection, ZohoNotConnectedError
from bot.zoho.errors import (
    ZohoAuthError,
    ZohoLockedError,
    ZohoRequestError,
    ZohoUnavailableError,
)
from bot.zoho.state import ZohoState

log = logging.getLogger(__name__)

LOCK_SECONDS = 300.0
LOCK_CODE = "7209"
LOCK_MARKERS = {422: "maximum limit exceeded", 400: "url_rolling_throttles_limit_exceeded"}
"""Statuses that are the lock when their body says so (compared in lower case)."""
EXPIRED_TOKEN_CODES = frozenset({"7213"})
SCOPE_CODES = frozenset({"7103", "7218"})
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
"""An escaped UTF-16 surrogate in a JSON body: only then are its texts looked at again."""

Record = dict[str, Any]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with full-jitter exponential backoff."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    request_timeout: float = 10.0

    def delay(self, retry: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**retry))


@dataclass(frozen=True)
class Pages:
    """Every record of a paged list, and whether Zoho gave all of them.

    Incomplete: the page cap was reached, or a page came back empty although the one before
    said more follow. The records are still worth showing, but what is missing from them
    says nothing (a session absent from an incomplete read was not cancelled).
    """

    records: list[Record]
    complete: bool


@dataclass(frozen=True)
class Call:
    """How one logical call may spend: whose turn it is and when it must be done by."""

    priority: Priority = Priority.INTERACTIVE
    deadline: float | None = None


class ZohoClient:
    """The LMS endpoints the bot reads, each returning every record across pages."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        connection: ZohoConnection,
        tokens: TokenSource,
        budget: CallBudget,
        state: ZohoState,
        clock: Clock,
        retry: RetryPolicy | None = None,
        max_pages: int = 200,
    ) -> None:
        self._http = http
        self._connection = connection
        self._tokens = tokens
        self._budget = budget
        self._state = state
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._max_pages = max_pages
        self._lock_answer_logged = False

    async def module_sessions(self, course: str, batch: str, module: str, call: Call) -> Pages:
        path = f"/api/v1/courses/{course}/batches/{batch}/modules/{module}/sessions"
        return await self.get_pages(path, "sessions", call)

    async def batch_sessions(self, course: str, batch: str, call: Call) -> Pages:
        return await self.get_pages(f"/api/v1/courses/{course}/batches/{batch}/sessions", "sessions", call)

    async def courses(self, call: Call, search: str | None = None, blended_only: bool = True) -> list[Record]:
        params = {"type": "2"} if blended_only else {}
        if search:
            params["search"] = search
        return await self.get_all("/api/v1/courses", "courses", call, params)

    async def first_courses_page(self, call: Call) -> list[Record]:
        """One page of blended courses: a single cheap call that proves the connection works."""
        body = await self.get_json("/api/v1/courses", {"startIndex": "0", "type": "2"}, call)
        return _records(body, "courses")

    async def batches(self, course: str, call: Call) -> list[Record]:
        return await self.get_all(f"/api/v1/courses/{course}/batches", "batches", call)

    async def modules(self, course: str, batch: str, call: Call) -> list[Record]:
        return await self.get_all(f"/api/v1/courses/{course}/batches/{batch}/modules", "modules", call)

    async def employee(self, erecno: str, call: Call) -> Record | None:
        """One employee record (for a trainer's e-mail), or None when Zoho has none."""
        body = await self.get_json("/api/forms/employee/getDataByID", {"recordId": erecno}, call)
        result = (body.get("response") or {}).get("result")
        if isinstance(result, list) and result and isinstance(result[0], dict):
            return result[0]
        return None

    async def get_all(
        self, path: str, key: str, call: Call, params: Mapping[str, str] | None = None
    ) -> list[Record]:
        """Every record `get_pages` could read."""
        return (await self.get_pages(path, key, call, params)).records

    async def get_pages(
        self, path: str, key: str, call: Call, params: Mapping[str, str] | None = None
    ) -> Pages:
        """Follow `hasMoreRecords`, advancing `startIndex` by the records received."""
        records: list[Record] = []
        start = 0
        more = False
        for _ in range(self._max_pages):
            body = await self.get_json(path, {**(params or {}), "startIndex": str(start)}, call)
            page = _records(body, key)
            records.extend(page)
            if not page and more:
                log.warning("zoho %s: an empty page at %d though Zoho said more follow", path, start)
                return Pages(records, complete=False)
            more = _has_more(body)
            if not page or not more:
                return Pages(records, complete=True)
            start += len(page)
        log.warning("zoho %s: stopped after %d pages though Zoho said more follow", path, self._max_pages)
        return Pages(records, complete=False)

    async def get_json(self, path: str, params: Mapping[str, str], call: Call) -> Record:
        """One GET, with the budget, the lock guard, one token renewal and bounded retries."""
        if not self._connection.connected:
            raise ZohoNotConnectedError
        renewed = False
        retries = 0
        while True:
            await self._budget.spend(call.priority, call.deadline)
            token = await self._tokens.token()
            failure = await self._observed_attempt(path, params, token, call)
            if isinstance(failure, dict):
                return failure
            if failure == "renew":
                if renewed:
                    raise ZohoAuthError(
                        "Zoho rejected a freshly issued access token: check that ZOHO_DC "
                        "(or ZOHO_PEOPLE_URL) is the data centre of the Zoho account."
                    )
                renewed = True
                await self._tokens.renew_rejected(token)
                continue
            retries += 1
            delay = self._retry.delay(retries)
            too_late = call.deadline is not None and self._clock.time() + delay > call.deadline
            if retries >= self._retry.attempts or too_late:
                raise ZohoUnavailableError(
                    f"Zoho People is not answering properly ({failure}); try again later."
                )
            log.info("zoho %s: %s, retry %d in %.1f s", path, failure, retries, delay)
            await self._clock.sleep(delay)

    async def _observed_attempt(
        self, path: str, params: Mapping[str, str], token: str, call: Call
    ) -> Record | str:
        started = time.perf_counter()
        outcome, detail = "error", "failed"
        try:
            answer = await self._attempt(path, params, token, call)
            if isinstance(answer, dict):
                outcome = detail = "ok"
            else:
                outcome, detail = ("expired_token", answer) if answer == "renew" else ("unavailable", answer)
            return answer
        except ZohoLockedError:
            outcome = detail = "locked"
            raise
        except ZohoRequestError as exc:
            outcome, detail = "refused", f"HTTP {exc.status}"
            raise
        except ZohoAuthError:
            outcome = detail = "scope_missing"
            raise
        finally:
            ms = (time.perf_counter() - started) * 1000
            metrics.ZOHO_CALLS.labels(metrics.endpoint(path), outcome).inc()
            level = logging.INFO if outcome in ("ok", "expired_token") else logging.WARNING
            record(log, "zoho read", level, path=path, outcome=detail, ms=ms, priority=call.priority.name)

    async def _attempt(self, path: str, params: Mapping[str, str], token: str, call: Call) -> Record | str:
        """Send once. Returns the body, "renew" for an expired token, or why a retry may help."""
        try:
            response = await self._http.get(
                self._connection.data_centre.people_url + path,
                params=params,
                headers={"Authorization": f"Zoho-oauthtoken {token}"},
                timeout=self._timeout(call),
            )
        except httpx.TimeoutException:
            return "timed out"
        except httpx.TransportError as exc:
            return f"connection failed: {type(exc).__name__}"
        body = _json(response)
        code = _body_code(body)
        if _is_lock(response, code):
            now = self._clock.time()
            await self._state.lock(now + LOCK_SECONDS, now)
            self._log_lock_answer(path, response)
            raise ZohoLockedError(now + LOCK_SECONDS)
        if response.status_code == 401 or code in EXPIRED_TOKEN_CODES:
            return "renew"
        if code in SCOPE_CODES:
            raise ZohoAuthError(
                "The Zoho refresh token lacks the ZOHOPEOPLE.training.READ scope: "
                "generate a new one with it (README, 'Connecting Zoho')."
            )
        if response.status_code in RETRIED_STATUSES:
            return f"HTTP {response.status_code}"
        if response.status_code >= 400:
            raise ZohoRequestError(
                f"Zoho refused {path} with HTTP {response.status_code}: {_message(body)}",
                status=response.status_code,
                code=code,
            )
        if body is None:
            return "answer was not JSON"
        return body

    def _log_lock_answer(self, path: str, response: httpx.Response) -> None:
        log.warning(
            "zoho %s: Zoho locked the API for %.0f s (HTTP %d)", path, LOCK_SECONDS, response.status_code
        )
        if not self._lock_answer_logged:
            self._lock_answer_logged = True
            log.warning(
                "zoho lock answer, logged once for reporting: HTTP %d %s",
                response.status_code,
                response.text[:2000],
            )

    def _timeout(self, call: Call) -> float:
        timeout = self._retry.request_timeout
        if call.deadline is not None:
            timeout = min(timeout, max(0.5, call.deadline - self._clock.time()))
        return timeout


def _is_lock(response: httpx.Response, code: str | None) -> bool:
    if code == LOCK_CODE or response.status_code == 429:
        return True
    marker = LOCK_MARKERS.get(response.status_code)
    return marker is not None and marker in response.text.lower()


def _json(response: httpx.Response) -> Record | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if _SURROGATE_ESCAPE.search(response.content):
        body = _without_lone_surrogates(body)
    return body if isinstance(body, dict) else None


def _without_lone_surrogates(value: Any) -> Any:
    """Zoho's JSON may escape half of a character (`\\ud83d` alone): Python keeps it as a lone
    surrogate, which no UTF-8 text (a Slack message, a calendar file) can carry. Each becomes
    U+FFFD; whole characters escaped as pairs were joined by the JSON decoder already."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(key): _without_lone_surrogates(item) for key, item in value.items()}
    return value


def _body_code(body: Record | None) -> str | None:
    """Zoho puts its code in several envelopes, as a number or a string."""
    if body is None:
        return None
    candidates = [body.get("code")]
    for outer, inner in (("response", "errors"), ("error", None)):
        envelope = body.get(outer)
        if isinstance(envelope, dict):
            target = envelope.get(inner) if inner else envelope
            if isinstance(target, dict):
                candidates.append(target.get("code"))
    for value in candidates:
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _message(body: Record | None) -> str:
    if body is None:
        return "no readable body"
    for value in (body.get("message"), (body.get("response") or {}).get("message")):
        if isinstance(value, str) and value:
            return value
    return "no message"


def _records(body: Record, key: str) -> list[Record]:
    items = body.get(key)
    if items is None and isinstance(body.get("response"), dict):
        items = body["response"].get(key) or body["response"].get("result")
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict)]


def _has_more(body: Record) -> bool:
    value = body.get("hasMoreRecords")
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
