"""Every way a Zoho call can fail, as one exception tree.

    ZohoError                     anything from this package
    ├── ZohoAuthError             credentials or data centre are wrong: an admin must act
    ├── ZohoTokenLimitError       too many token refreshes; carries `retry_at`
    ├── ZohoLockedError           Zoho's 5-minute API lock (7209, 429, its other throttles); `until`
    ├── ZohoBusyError             our own per-minute budget is spent; `retry_after`
    ├── ZohoQuotaError            our own daily allowance is spent; `frees_at`
    ├── ZohoUnavailableError      5xx, timeouts, refused connections, after bounded retries
    └── ZohoRequestError          400, 403, 404, 422: the request itself is refused; `status`

httpx and JSON errors are translated into this tree in `client.py` and `auth.py`
only, with `raise ... from exc`, so callers never see a lower library's types.
"""

from __future__ import annotations

from datetime import UTC, datetime


class ZohoError(Exception):
    """Base of every Zoho failure; the message is a sentence a person can act on."""


class ZohoAuthError(ZohoError):
    """The refresh token, client or data centre is wrong; retrying will not help."""


class ZohoTokenLimitError(ZohoError):
    """Zoho allows 10 token requests per 10 minutes; this one would exceed it."""

    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class ZohoLockedError(ZohoError):
    """Zoho has locked the LMS API for this org; no call may leave before `until`."""

    def __init__(self, until: float) -> None:
        when = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC")
        super().__init__(f"Zoho has paused API access after too many calls; it reopens at {when}.")
        self.until = until


class ZohoBusyError(ZohoError):
    """The bot's own call budget is spent and the caller cannot wait long enough."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"The bot is at its Zoho call limit; try again in {max(1, round(retry_after))} s.")
        self.retry_after = retry_after


class ZohoQuotaError(ZohoError):
    """The bot has made `per_day` calls in the last 24 hours; the oldest leaves the window at `frees_at`."""

    def __init__(self, per_day: int, frees_at: float) -> None:
        when = datetime.fromtimestamp(frees_at, UTC).strftime("%H:%M UTC")
        super().__init__(
            f"The bot has used its daily Zoho allowance ({per_day} calls in 24 hours); more frees at {when}."
        )
        self.per_day = per_day
        self.frees_at = frees_at


class ZohoUnavailableError(ZohoError):
    """Zoho did not answer usefully (5xx, timeout, no connection) after the retries."""


class ZohoRequestError(ZohoError):
    """Zoho refused the request itself (400, 403, 404, 422); retrying will not help."""

    def __init__(self, message: str, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
