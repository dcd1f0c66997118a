"""`preview`, `modules`, `check` and `zoho-token`: the operator's view of the Zoho side."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import httpx

from bot.cli.table import listing_table, table
from bot.clock import SystemClock
from bot.config import Settings
from bot.core import Core
from bot.sessions.matching import Ambiguous, Found, NotFound, resolve
from bot.sessions.orgtime import DEFAULT
from bot.sessions.windows import Window
from bot.zoho.auth import exchange_grant_code
from bot.zoho.budget import Priority, Usage
from bot.zoho.client import Call

LOOKUP_SECONDS = 60.0
UNSET_TIMEZONE = (
    "ZOHO_TIMEZONE is not set and Zoho has not said the organisation's zone, so every time from Zoho "
    "is read as UTC, hours off for most organisations: set it to the organisation's time zone as in "
    "Zoho People's settings, such as Europe/Paris (or connect Zoho from Slack as an administrator)."
)
NOT_CONNECTED = (
    "Zoho People is not connected yet: a Slack workspace admin clicks Connect Zoho People in the "
    "bot's Home tab."
)
CLEAR_TOKEN = (
    "BOT_SECRET_KEY is not set, so the cached Zoho access token is stored in clear (in BOT_DATA_DIR or "
    'the database): make a key with python -c "import secrets; print(secrets.token_urlsafe(32))" and '
    "set BOT_SECRET_KEY."
)


async def preview(core: Core, query: str, window: Window) -> int:
    """On a new install with no catalog yet, a name not found is looked for again after one
    discovery walk, rather than answered "no module" while Zoho knows it."""
    deadline = core.clock.time() + LOOKUP_SECONDS
    resolution = await core.catalog.lookup(query, deadline)
    if isinstance(resolution, NotFound) and core.catalog.walked_at() is None:
        print("Discovering modules in Zoho (once; kept in BOT_DATA_DIR)…", file=sys.stderr)
        await core.catalog.walk()
        resolution = resolve(query, core.catalog.modules())
    if isinstance(resolution, Ambiguous):
        print(f"{query!r} could mean several modules; name one of these:")
        print("\n".join(f"  {m.path}  ({m.key})" for m in resolution.candidates))
        return 2
    if not isinstance(resolution, Found):
        print(f"No module called {query!r}.", end=" ")
        if resolution.nearest:
            print("Nearest: " + "; ".join(m.path for m in resolution.nearest) + ".")
        else:
            print(
                "Run `python -m bot modules --refresh` to discover modules, or use course/batch/module ids."
            )
        return 2
    listing = await core.sessions.upcoming(resolution.module, core.clock.now(), window, deadline)
    print(listing_table(listing, core.orgtime.zone, window.label))
    return 0


async def modules(core: Core, refresh: bool) -> int:
    if refresh or core.catalog.walked_at() is None:
        print("Discovering modules in Zoho (this uses the background call budget)…")
        await core.catalog.walk()
    found = core.catalog.modules()
    if not found:
        print("No modules known: Zoho lists no blended courses, and BOT_MODULES_FILE names none.")
        return 0
    rows = [[m.title, m.course_name, m.batch_name, ", ".join(m.aliases), m.key] for m in found]
    print(table(["Module", "Course", "Batch", "Aliases", "Ids (course/batch/module)"], rows, whole=[4]))
    return 0


async def check_zoho(core: Core) -> tuple[list[str], list[str]]:
    """Renew the token if needed and make one cheap call; returns (what went well, warnings).

    Zoho's zone still unknown is a warning, not an error: UTC is a valid zone, but a wrong
    one shifts every time shown by hours without anything failing."""
    settings, orgtime = core.settings, core.orgtime
    mode = (
        "Zoho connection: the operator's (ZOHO_REFRESH_TOKEN)"
        if settings.zoho_refresh_token
        else "Zoho connection: made from Slack (BOT_PUBLIC_URL)"
    )
    settings_lines = [
        f"Time zone: {orgtime.zone.key} ({orgtime.zone_source})",
        f"Date format: {orgtime.date_format} ({orgtime.date_format_source})",
    ]
    if not core.connection.connected:
        return [mode, *settings_lines], [NOT_CONNECTED]
    call = Call(Priority.INTERACTIVE, core.clock.time() + LOOKUP_SECONDS)
    await core.tokens.token()
    count = len(await core.zoho.first_courses_page(call))
    centre = core.connection.data_centre
    good = [
        mode,
        f"Zoho token: ok ({centre.accounts_url})",
        f"Zoho People LMS: ok, {count} blended course(s) on the first page ({centre.people_url})",
        *settings_lines,
        *usage_lines(await core.budget.usage(), core.clock.time()),
    ]
    warnings = [UNSET_TIMEZONE] if orgtime.zone_source == DEFAULT else []
    if settings.zoho_refresh_token and not settings.secret_key:
        warnings.append(CLEAR_TOKEN)
    return good, warnings


def usage_lines(usage: Usage, now: float) -> list[str]:
    """The bot's Zoho calls, shared by every instance, and the lock."""
    lock = "none"
    if usage.locked_until > now:
        lock = f"on until {datetime.fromtimestamp(usage.locked_until, UTC):%H:%M:%S} UTC"
    return [
        f"Zoho calls in the last 60 s: {usage.last_minute} of {usage.per_minute} (ZOHO_CALLS_PER_MINUTE)",
        f"Zoho calls in the last 24 h: {usage.last_day} of {usage.per_day} (ZOHO_CALLS_PER_DAY)",
        f"Zoho lock: {lock}",
    ]


async def zoho_token(settings: Settings, code: str) -> int:
    """Exchange a Self Client grant code for the refresh token and print it."""
    credentials = settings.zoho_credentials_for_exchange()
    async with httpx.AsyncClient() as http:
        refresh = await exchange_grant_code(
            http,
            settings.zoho_accounts_url,
            credentials[0],
            credentials[1],
            code,
            now=SystemClock().time(),
        )
    print("Your refresh token (set it as ZOHO_REFRESH_TOKEN; it does not expire):")
    print(refresh)
    return 0
