"""One log line and one metric per Slack request: what it was, who, the outcome, how long.

`ObservedApp.async_dispatch`, through which both transports hand Bolt every
request, opens a `Handling` and keeps it in a context variable, which the
listeners' tasks inherit (Bolt's middleware runs before the listeners, not
around them, so it cannot see the outcome). Most answers are known when the
request is acknowledged, and the line is written then. A listener that answers
later (through `response_url`, after a placeholder or a button's ack) calls
`answering_later()` first and `finish()` when its answer is out, and the line is
written then. `told()` and `failed()` mark the outcome on the way
(`slack/errors.py` calls them). Only ids go in the line: never a name, the
command's text or a message. A request of the wrong shape (`payloads.py`) is
refused before Bolt runs anything: its one line says `outcome=refused:malformed`
and, in the shape check's own words, why.
"""

from __future__ import annotations

import contextvars
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot import metrics
from bot.logs import record, tenant_context
from bot.slack.payloads import shape_problem

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 64
REFUSED = 400
"""The status of a request refused for its shape (Socket Mode leaves it unacknowledged)."""
SUBCOMMANDS = ("digest", "remind", "help")
"""First words of `/sessions` that name a feature: logged with the command; anything else typed is not."""

_current: contextvars.ContextVar[Handling | None] = contextvars.ContextVar("slack_handling", default=None)


@dataclass
class Handling:
    kind: str
    name: str
    user: str
    channel: str
    tenant: str = ""
    """The workspace (or the enterprise, installed org-wide) the payload names."""
    started: float = field(default_factory=time.perf_counter)
    outcome: str = "ok"
    detail: str = ""
    why: str = ""
    """Why a malformed request was refused (the shape check's own words, never the payload's)."""
    later: bool = False
    done: bool = False

    def finish(self) -> None:
        """Write the line and count the request, once."""
        if self.done:
            return
        self.done = True
        seconds = time.perf_counter() - self.started
        metrics.SLACK_REQUESTS.labels(self.kind, self.outcome).inc()
        metrics.SLACK_REQUEST_SECONDS.labels(self.kind).observe(seconds)
        fields: dict[str, Any] = {"name": self.name, "user": self.user, "channel": self.channel}
        fields["outcome"] = f"{self.outcome}:{self.detail}" if self.detail else self.outcome
        level = logging.ERROR if self.outcome == "error" else logging.WARNING if self.why else logging.INFO
        fields["ms"] = seconds * 1000
        if self.why:
            fields["why"] = self.why
        with tenant_context(self.tenant):
            record(log, f"slack {self.kind}", level, **fields)


def current() -> Handling | None:
    return _current.get()


def answering_later() -> None:
    """The answer will follow the ack: the line waits for `finish_current()`."""
    handling = _current.get()
    if handling is not None:
        handling.later = True


def finish_current() -> None:
    handling = _current.get()
    if handling is not None:
        handling.finish()


def dropped(why: str) -> None:
    """Acknowledged and deliberately not handled (a resent event)."""
    _mark("dropped", why)


def told(why: str) -> None:
    """The person was told a domain failure (Zoho locked, down…) instead of their answer."""
    _mark("told", why)


def failed(reference: str) -> None:
    """Something unexpected failed; the person was given `reference`."""
    _mark("error", reference)


def _mark(outcome: str, detail: str) -> None:
    handling = _current.get()
    if handling is not None:
        handling.outcome, handling.detail = outcome, detail


class ObservedApp(AsyncApp):
    """Bolt's app, with each request's line and metrics around its dispatch."""

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        handling = describe(req.body)
        problem = shape_problem(req.body)
        if problem is not None:
            handling.outcome, handling.detail, handling.why = "refused", "malformed", problem
            handling.finish()
            return BoltResponse(status=REFUSED, body=f"malformed request: {problem}")
        token = _current.set(handling)
        try:
            response = await super().async_dispatch(req)
        except BaseException:
            handling.outcome = "error"
            handling.finish()
            raise
        finally:
            _current.reset(token)
        if response.status >= 400:
            handling.outcome, handling.detail = "refused", f"HTTP {response.status}"
        if not handling.later or response.status >= 400:
            handling.finish()
        return response


def describe(body: Any) -> Handling:
    """What a request is, by Slack's payload shapes; only ids and Slack's own names are kept."""
    body = _dict(body)
    kind = str(body.get("type") or ("command" if "command" in body else "unknown"))
    name = ""
    if kind == "command":
        words = str(body.get("text") or "").split(maxsplit=1)
        sub = f" {words[0].lower()}" if words and words[0].lower() in SUBCOMMANDS else ""
        name = str(body.get("command") or "") + sub
    elif kind == "event_callback":
        kind, name = "event", str(_dict(body.get("event")).get("type") or "")
    elif kind == "block_actions":
        actions = body.get("actions")
        first = _dict(actions[0]) if isinstance(actions, list) and actions else {}
        kind, name = "action", str(first.get("action_id") or "")
    elif kind in ("view_submission", "view_closed"):
        name = str(_dict(body.get("view")).get("callback_id") or "")
    elif kind in ("shortcut", "message_action"):
        name = str(body.get("callback_id") or "")
    elif kind == "block_suggestion":
        kind, name = "options", str(body.get("action_id") or "")
    user = body.get("user_id") or _dict(body.get("user")).get("id") or _dict(body.get("event")).get("user")
    channel = body.get("channel_id") or _dict(body.get("channel")).get("id") or ""
    return Handling(kind[:MAX_NAME_CHARS], name[:MAX_NAME_CHARS], _id(user), _id(channel), _tenant(body))


def _tenant(body: dict[str, Any]) -> str:
    team = body.get("team_id") or _dict(body.get("team")).get("id") or _dict(body.get("user")).get("team_id")
    enterprise = body.get("enterprise_id") or _dict(body.get("enterprise")).get("id")
    org_wide = body.get("is_enterprise_install") in (True, "true")
    return _id(enterprise if org_wide and enterprise else team)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str:
    """A Slack id is short and alphanumeric; anything else is not echoed into the log."""
    text = str(value or "")
    return text if text.isalnum() and len(text) <= 32 else ("-" if not text else "?")
