"""Settings, read once from the environment and a `.env` file, validated up front.

A wrong or missing value raises `ConfigError` with one sentence that names the
variable and says how to fix it; `__main__` prints that sentence and exits.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.zoho.auth import ZohoCredentials
from bot.zoho.datacentres import DATA_CENTRES, hosts_for

MAX_CALLS_PER_MINUTE = 30
"""Zoho locks the LMS API for five minutes past 30 calls a minute."""


VARIABLES = (
    "ZOHO_CLIENT_ID",
    "ZOHO_CLIENT_SECRET",
    "ZOHO_REFRESH_TOKEN",
    "ZOHO_DC",
    "ZOHO_ACCOUNTS_URL",
    "ZOHO_PEOPLE_URL",
    "ZOHO_TIMEZONE",
    "ZOHO_DATE_FORMAT",
    "ZOHO_CALLS_PER_MINUTE",
    "ZOHO_CALLS_PER_DAY",
    "BOT_DATA_DIR",
    "BOT_MODULES_FILE",
    "BOT_REMIND_TRAINERS",
    "BOT_DIGEST_CATCH_UP_HOURS",
    "BOT_FRESHNESS_MINUTES",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "PORT",
    "DATABASE_URL",
    "DYNO",
)
"""Every environment variable the bot reads: its public interface (DYNO is set by platforms)."""


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and what to do."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with. Built by `load_settings` only."""

    zoho_client_id: str
    zoho_client_secret: str
    zoho_refresh_token: str
    zoho_dc: str
    zoho_accounts_url: str
    zoho_people_url: str
    zoho_timezone: ZoneInfo
    zoho_date_format: str
    zoho_calls_per_minute: int
    zoho_calls_per_day: int
    data_dir: Path
    modules_file: Path | None
    slack_bot_token: str
    slack_signing_secret: str
    slack_app_token: str
    slack_api_url: str | None
    port: int | None
    database_url: str | None
    remind_trainers: bool
    digest_catch_up_hours: float
    freshness_minutes: int
    """How old data for followed modules may get while the call budgets allow."""
    disk_is_ephemeral: bool
    """Running on a platform that wipes the disk on restart (a Procfile platform's dyno)."""

    def zoho_credentials(self) -> ZohoCredentials:
        """The three Zoho secrets; raises if any is missing, since nothing works without them."""
        _require(
            ("ZOHO_CLIENT_ID", self.zoho_client_id),
            ("ZOHO_CLIENT_SECRET", self.zoho_client_secret),
            ("ZOHO_REFRESH_TOKEN", self.zoho_refresh_token),
        )
        return ZohoCredentials(self.zoho_client_id, self.zoho_client_secret, self.zoho_refresh_token)

    def zoho_credentials_for_exchange(self) -> tuple[str, str]:
        """Client id and secret, enough to turn a grant code into a refresh token."""
        _require(("ZOHO_CLIENT_ID", self.zoho_client_id), ("ZOHO_CLIENT_SECRET", self.zoho_client_secret))
        return self.zoho_client_id, self.zoho_client_secret

    @property
    def shared_database(self) -> bool:
        """Whether instances on other machines may share this store (PostgreSQL), so Zoho's
        state and data must live there rather than on this disk."""
        return bool(self.database_url) and self.database.startswith("postgresql")

    @property
    def database(self) -> str:
        """The SQLAlchemy URL of the store: `DATABASE_URL`, else SQLite in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'bot.sqlite3'}"


def _require(*pairs: tuple[str, str]) -> None:
    for name, value in pairs:
        if not value:
            raise ConfigError(
                f"{name} is not set: copy it from the Self Client in Zoho's API console "
                "(see the README, 'Connecting Zoho')."
            )


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Read and validate the settings; the process environment wins over `.env`."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return _parse(_Reader(values))


class _Reader:
    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def text(self, name: str, default: str = "") -> str:
        return self._values.get(name, "").strip() or default

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ConfigError(f"{name} must be a URL starting with http:// or https://, not {value!r}.")
        return value.rstrip("/")

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, not {value}.")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}.") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {value:g}.")
        return value

    def flag(self, name: str) -> bool:
        raw = self.text(name).lower()
        if raw in ("", "0", "false", "no", "off"):
            return False
        if raw in ("1", "true", "yes", "on"):
            return True
        raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def _parse(env: _Reader) -> Settings:
    dc = env.text("ZOHO_DC", "com").lower()
    accounts_override, people_override = env.url("ZOHO_ACCOUNTS_URL"), env.url("ZOHO_PEOPLE_URL")
    if dc in DATA_CENTRES:
        accounts, people = hosts_for(dc)
    elif accounts_override and people_override:
        accounts, people = accounts_override, people_override
    else:
        raise ConfigError(
            f"ZOHO_DC must be one of {', '.join(DATA_CENTRES)}, not {dc!r}; for another data "
            "centre set ZOHO_ACCOUNTS_URL and ZOHO_PEOPLE_URL instead."
        )
    calls = env.integer("ZOHO_CALLS_PER_MINUTE", 25, 1, MAX_CALLS_PER_MINUTE)
    return Settings(
        zoho_client_id=env.text("ZOHO_CLIENT_ID"),
        zoho_client_secret=env.text("ZOHO_CLIENT_SECRET"),
        zoho_refresh_token=env.text("ZOHO_REFRESH_TOKEN"),
        zoho_dc=dc,
        zoho_accounts_url=accounts_override or accounts,
        zoho_people_url=people_override or people,
        zoho_timezone=_zone(env.text("ZOHO_TIMEZONE", "UTC")),
        zoho_date_format=_date_format(env.text("ZOHO_DATE_FORMAT", "%d-%m-%Y")),
        zoho_calls_per_minute=calls,
        zoho_calls_per_day=env.integer("ZOHO_CALLS_PER_DAY", 2500, 1, 10_000_000),
        data_dir=Path(env.text("BOT_DATA_DIR", "./.sessions-bot")),
        modules_file=_optional_file(env.text("BOT_MODULES_FILE")),
        slack_bot_token=env.text("SLACK_BOT_TOKEN"),
        slack_signing_secret=env.text("SLACK_SIGNING_SECRET"),
        slack_app_token=_app_token(env.text("SLACK_APP_TOKEN")),
        slack_api_url=_slack_api_url(env.url("SLACK_API_URL")),
        port=env.integer("PORT", 0, 1, 65535) or None,
        database_url=_database_url(env.text("DATABASE_URL")),
        remind_trainers=env.flag("BOT_REMIND_TRAINERS"),
        digest_catch_up_hours=env.number("BOT_DIGEST_CATCH_UP_HOURS", 3.0, 0.1, 23.0),
        freshness_minutes=env.integer("BOT_FRESHNESS_MINUTES", 10, 1, 1440),
        disk_is_ephemeral=bool(env.text("DYNO")),
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"ZOHO_TIMEZONE must be an IANA time zone such as Europe/Paris, not {name!r}."
        ) from None


def _date_format(fmt: str) -> str:
    sample = datetime(2021, 12, 22)
    try:
        parsed = datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError:
        parsed = None
    if parsed is None or parsed.date() != sample.date():
        raise ConfigError(
            f"ZOHO_DATE_FORMAT must be a strftime format with day, month and year, "
            f"such as %d-%m-%Y, not {fmt!r}."
        )
    return fmt


def _optional_file(path: str) -> Path | None:
    if not path:
        return None
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"BOT_MODULES_FILE points to {path!r}, which is not a file.")
    return file


def _app_token(token: str) -> str:
    if token and not token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
    return token


def _slack_api_url(url: str | None) -> str | None:
    return None if url is None else url + "/"


def _database_url(url: str) -> str | None:
    """Accept the `postgres://` form that hosting platforms hand out."""
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    if url.startswith(("sqlite", "postgresql+")):
        return url
    raise ConfigError(f"DATABASE_URL must be a postgres:// or sqlite:// URL, not {url.split(':')[0]}://….")
