"""The operator's log: one line per thing the bot did, as text or JSON, bounded, never a secret.

`record(logger, what, **fields)` writes `what key=value …`; the JSON format puts
the same fields at the top level of the object, so log platforms can filter on
them. Every line passes `Redacting`, which blanks the configured secrets and
anything shaped like a Slack or Zoho token (an access token the bot was handed
is never in the settings), and cuts a line to `MAX_MESSAGE_CHARS` and a
traceback to `MAX_TRACE_CHARS`: a hostile request can never flood the log.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

MAX_MESSAGE_CHARS = 2000
MAX_TRACE_CHARS = 8000
REDACTED = "[redacted]"
TOKEN_SHAPES = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|\b1000\.[0-9a-f]{8,}\.[0-9a-f]{8,}\b"
    r"|(?<=Zoho-oauthtoken )[^\s\"',]+|(?<=Bearer )[^\s\"',]+"
    r"|(?<=[?&]state=)[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|(?<=[?&]code=)[^\s&\"']+"
    r"|(?<=/calendar/)[A-Za-z0-9_-]{20,}"
)
"""Slack bot, user and app tokens; Zoho's `1000.<hex>.<hex>` tokens; any Authorization header value;
the connect flow's signed state and Zoho's consent code in a URL (either, while alive, connects);
a calendar feed's secret address (a request line aiohttp logs when it refuses it)."""
NOISY_LIBRARIES = ("httpx", "httpcore", "aiosqlite", "asyncio")
"""Below WARNING these log every request or statement (with URLs that may carry secrets)."""
FIELDS = "fields"
_TENANT: contextvars.ContextVar[str | None] = contextvars.ContextVar("log_tenant", default=None)


@contextlib.contextmanager
def tenant_context(tenant_id: str) -> Iterator[None]:
    """Every line logged within (and in the tasks started within) names the tenant: a request's,
    a scheduler round's, a tenant's background work."""
    token = _TENANT.set(tenant_id or "-")
    try:
        yield
    finally:
        _TENANT.reset(token)


def record(logger: logging.Logger, what: str, level: int = logging.INFO, **fields: Any) -> None:
    """One line: `what` then `key=value` for each field (ids, outcomes, milliseconds, never text)."""
    if not logger.isEnabledFor(level):
        return
    pairs = " ".join(f"{key}={_plain(value)}" for key, value in fields.items())
    line = f"{what} {pairs}" if pairs else what
    logger.log(level, "%s", line, extra={FIELDS: {"event": what, **fields}})


def _plain(value: Any) -> str:
    text = f"{value:.0f}" if isinstance(value, float) else str(value)
    return text if text and not any(c.isspace() for c in text) else json.dumps(text)


class Redacting(logging.Formatter):
    """Formats a line as text or JSON, then removes secrets and bounds its length."""

    def __init__(self, json_lines: bool, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._json = json_lines
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        message = self.clean(record.getMessage())[:MAX_MESSAGE_CHARS]
        tenant = _TENANT.get()
        trace = ""
        if record.exc_info:
            trace = self.clean(self.formatException(record.exc_info))[-MAX_TRACE_CHARS:]
        if not self._json:
            named = f" tenant={tenant}" if tenant else ""
            line = f"{self.formatTime(record)} {record.levelname} {record.name}: {message}{named}"
            return f"{line}\n{trace}" if trace else line
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if tenant:
            body["tenant"] = tenant
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            body.update({k: self._clean_value(v) for k, v in fields.items() if k not in body})
        if trace:
            body["exception"] = trace
        return json.dumps(body, default=str)

    def _clean_value(self, value: Any) -> Any:
        return value if isinstance(value, int | float | bool) else self.clean(str(value))[:MAX_MESSAGE_CHARS]

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPES.sub(REDACTED, text)


def configure(level: str, fmt: str, secrets: Iterable[str], stream: Any = None) -> logging.Handler:
    """Send every log line to `stream` (stderr) in `fmt`, at `level` and above, redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(Redacting(fmt == "json", secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    return handler
