"""What can go wrong when the domain asks for sessions, in its own words.

    SessionsError              anything the domain raises; the message is a sentence for the log
    ├── NeedsAdmin             credentials, scope or data centre are wrong: an admin must act
    │   ├── NotConnected       no Zoho organisation is connected yet
    │   └── SettingsUnknown    connected, but its zone and date format are not known yet
    ├── SignInsPaused          too many token requests for now; `retry_at`
    ├── ApiPaused              Zoho has paused every read after too many calls; `until`
    ├── CallLimitReached       the bot's own per-minute budget is spent; `retry_after`
    ├── DailyAllowanceSpent    the bot's own daily allowance is spent; `frees_at`
    ├── RequestRefused         Zoho refused this request; `status`
    │   └── ModuleGone         Zoho no longer knows the module (404)
    └── SourceDown             Zoho is not answering usefully, after bounded retries

Zoho's own errors are translated into this tree in `bot/sessions/source.py`, the
one place the domain calls the Zoho client, so nothing above the domain sees them.
"""

from __future__ import annotations

from datetime import UTC, datetime


class SessionsError(Exception):
    """Base of every failure the domain reports."""


class NeedsAdmin(SessionsError):
    """The connection to Zoho is misconfigured; retrying will not help."""


class NotConnected(NeedsAdmin):
    """Nobody has connected Zoho People yet (or it was disconnected): nothing can be read."""

    def __init__(self) -> None:
        super().__init__("Zoho People is not connected.")


class SettingsUnknown(NeedsAdmin):
    """Zoho's wall-clock times cannot be read until the organisation's zone and date format are known."""

    def __init__(self) -> None:
        super().__init__("The organisation's time zone and date format are not known yet.")


class SignInsPaused(SessionsError):
    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class ApiPaused(SessionsError):
    """No call may reach Zoho before `until` (Zoho's lock after too many calls)."""

    def __init__(self, until: float) -> None:
        when = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC")
        super().__init__(f"Zoho has paused API access after too many calls; it reopens at {when}.")
        self.until = until


class CallLimitReached(SessionsError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"The bot is at its Zoho call limit; try again in {max(1, round(retry_after))} s.")
        self.retry_after = retry_after


class DailyAllowanceSpent(SessionsError):
    """`ZOHO_CALLS_PER_DAY` calls in the last 24 hours; the oldest leaves the window at `frees_at`."""

    def __init__(self, message: str, frees_at: float) -> None:
        super().__init__(message)
        self.frees_at = frees_at


class RequestRefused(SessionsError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ModuleGone(RequestRefused):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=404)


class SourceDown(SessionsError):
    """Zoho timed out, failed or answered nonsense, after the client's bounded retries."""
