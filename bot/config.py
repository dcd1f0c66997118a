"""Settings, read once from the environment and a `.env` file, validated up front.

Every wrong value, and every setting the command about to run requires but lacks,
is one sentence that names the variable and says how to fix it; they are raised
together in one `ConfigError`, so that one run names them all, and `__main__`
prints them and exits.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.secrets import BadSecretKey, Secrets
from bot.zoho.auth import ZohoCredentials
from bot.zoho.datacentres import DATA_CENTRES, hosts_for

MAX_CALLS_PER_MINUTE = 30
"""Zoho locks the LMS API for five minutes past 30 calls a minute."""

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
T = TypeVar("T")


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
    "BOT_PUBLIC_URL",
    "BOT_SECRET_KEY",
    "BOT_ADMINS",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "PORT",
    "DATABASE_URL",
    "DYNO",
)
"""Every environment variable the bot reads: its public interface (DYNO is set by platforms)."""


_ZOHO_SECRETS = ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN")
REQUIRED: dict[str, tuple[str, ...]] = {
    "serve": (*_ZOHO_SECRETS, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
    "scheduler": (*_ZOHO_SECRETS, "SLACK_BOT_TOKEN"),
    "digest": (*_ZOHO_SECRETS, "SLACK_BOT_TOKEN"),
    "check": _ZOHO_SECRETS,
    "preview": _ZOHO_SECRETS,
    "modules": _ZOHO_SECRETS,
    "zoho-token": ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET"),
}
"""The settings each command cannot start without (SLACK_SIGNING_SECRET: unless SLACK_APP_TOKEN is set)."""

_FROM_ZOHO = "copy it from the Self Client in Zoho's API console (see the README, 'Connecting Zoho')"
_HOW_TO_SET = {
    "ZOHO_CLIENT_ID": _FROM_ZOHO,
    "ZOHO_CLIENT_SECRET": _FROM_ZOHO,
    "ZOHO_REFRESH_TOKEN": (
        "set BOT_PUBLIC_URL and BOT_SECRET_KEY to connect Zoho from the bot's Home tab, or make one "
        "with a Self Client (see the README, 'Connecting Zoho')"
    ),
    "SLACK_BOT_TOKEN": "copy the Bot User OAuth Token (xoxb-…) from your Slack app",
    "SLACK_SIGNING_SECRET": (
        "HTTP mode needs it to verify requests (or set SLACK_APP_TOKEN to use Socket Mode)"
    ),
}


class ConfigError(Exception):
    """Settings are missing or wrong: one sentence each in `problems`, saying which and what to do."""

    def __init__(self, *problems: str) -> None:
        super().__init__(*problems)
        self.problems = list(problems)

    def __str__(self) -> str:
        return "\n".join(self.problems)


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
    zoho_timezone_set: bool
    """Whether ZOHO_TIMEZONE was given: without it, Zoho's times are read as UTC."""
    zoho_date_format: str
    zoho_date_format_set: bool
    """Whether ZOHO_DATE_FORMAT was given: then it wins over the organisation's own setting."""
    zoho_calls_per_minute: int
    zoho_calls_per_day: int
    data_dir: Path
    modules_file: Path | None
    slack_bot_token: str
    slack_signing_secret: str
    slack_app_token: str
    slack_api_url: str | None
    slack_client_id: str
    slack_client_secret: str
    """With the client id: distribution mode, many workspaces installing the app from `/slack/install`."""
    port: int | None
    database_url: str | None
    remind_trainers: bool
    digest_catch_up_hours: float
    freshness_minutes: int
    """How old data for followed modules may get while the call budgets allow."""
    log_level: str
    """One of `LOG_LEVELS`."""
    log_format: str
    """One of `LOG_FORMATS`."""
    disk_is_ephemeral: bool
    """Running on a platform that wipes the disk on restart (a Procfile platform's dyno)."""
    public_url: str | None
    """The bot's public address (BOT_PUBLIC_URL): with it, Zoho is connected from App Home."""
    secret_key: str
    """BOT_SECRET_KEY: signs the connect flow's state and encrypts tokens at rest (newest first)."""
    admins: frozenset[str]
    """Slack user ids (BOT_ADMINS) who may connect Zoho besides workspace admins and the installer."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every configured value that must never reach a log line (the database password too)."""
        password = urlsplit(self.database_url or "").password or ""
        values = (
            self.zoho_client_secret,
            self.zoho_refresh_token,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.slack_client_secret,
            *self.secret_key.split(","),
            password,
        )
        return tuple(value for value in values if value)

    def zoho_credentials(self) -> ZohoCredentials:
        """The three Zoho secrets; raises if any is missing, since nothing works without them."""
        self._require(_ZOHO_SECRETS)
        return ZohoCredentials(self.zoho_client_id, self.zoho_client_secret, self.zoho_refresh_token)

    def zoho_credentials_for_exchange(self) -> tuple[str, str]:
        """Client id and secret, enough to turn a grant code into a refresh token."""
        self._require(REQUIRED["zoho-token"])
        return self.zoho_client_id, self.zoho_client_secret

    def missing_for(self, command: str) -> list[str]:
        """One sentence for each setting in `REQUIRED` that `command` lacks."""
        return self._missing(REQUIRED.get(command, ()))

    def _missing(self, names: tuple[str, ...]) -> list[str]:
        given = {
            "ZOHO_CLIENT_ID": self.zoho_client_id,
            "ZOHO_CLIENT_SECRET": self.zoho_client_secret,
            "ZOHO_REFRESH_TOKEN": self.zoho_refresh_token or self.connect_from_slack,
            "SLACK_BOT_TOKEN": self.slack_bot_token or self.distribution,  # tokens come from installs
            "SLACK_SIGNING_SECRET": self.slack_signing_secret
            or self.slack_app_token,  # Socket Mode needs none
        }
        return [f"{name} is not set: {_HOW_TO_SET[name]}." for name in names if not given[name]]

    def _require(self, names: tuple[str, ...]) -> None:
        if missing := self._missing(names):
            raise ConfigError(*missing)

    @property
    def connect_from_slack(self) -> bool:
        """Zoho is connected from App Home (BOT_PUBLIC_URL set), so ZOHO_REFRESH_TOKEN is optional;
        when it is set as well, it is used and takes precedence."""
        return self.public_url is not None

    @property
    def distribution(self) -> bool:
        """Many workspaces install the app ("Add to Slack") and each connects its own Zoho."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def slack_authorize_url(self) -> str:
        """Slack's consent page, on the host the Web API is asked on (slack.com unless SLACK_API_URL)."""
        if not self.slack_api_url:
            return SLACK_AUTHORIZE_URL
        parts = urlsplit(self.slack_api_url)
        return f"{parts.scheme}://{parts.netloc}/oauth/v2/authorize"

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


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    command: str | None = None,
) -> Settings:
    """Read and validate the settings; the process environment wins over `.env`. With `command`,
    the settings it requires must be set too. Raises one `ConfigError` with every problem."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    env = _Reader(values)
    settings = _parse(env)
    required = settings.missing_for(command) if command else []
    problems = [*env.problems, *_distribution_problems(settings), *required]
    if problems:
        raise ConfigError(*problems)
    return settings


class _Reader:
    """Reads the values; a wrong one is noted in `problems` and its default used instead, so
    that reading goes on and every problem is found in one go."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self.problems: list[str] = []

    def wrong(self, problem: str, fallback: T) -> T:
        self.problems.append(problem)
        return fallback

    def text(self, name: str, default: str = "") -> str:
        return self._values.get(name, "").strip() or default

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            return self.wrong(f"{name} must be a URL starting with http:// or https://, not {value!r}.", None)
        return value.rstrip("/")

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            return self.wrong(f"{name} must be a whole number, not {raw!r}.", default)
        if not low <= value <= high:
            return self.wrong(f"{name} must be between {low} and {high}, not {value}.", default)
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            return self.wrong(f"{name} must be a number, not {raw!r}.", default)
        if not low <= value <= high:
            return self.wrong(f"{name} must be between {low:g} and {high:g}, not {value:g}.", default)
        return value

    def flag(self, name: str) -> bool:
        raw = self.text(name).lower()
        if raw in ("", "0", "false", "no", "off"):
            return False
        if raw in ("1", "true", "yes", "on"):
            return True
        return self.wrong(f"{name} must be true or false, not {raw!r}.", False)

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        """One of `choices`, given in any case; returned as spelled in `choices`."""
        raw = self.text(name)
        if not raw:
            return default
        by_case = {choice.casefold(): choice for choice in choices}
        if raw.casefold() in by_case:
            return by_case[raw.casefold()]
        return self.wrong(f"{name} must be one of {', '.join(choices)}, not {raw!r}.", default)

    def checked(self, name: str, parse: Callable[[str], T], default: T) -> T:
        """`parse` turns the value, when set, into the setting, or raises `ConfigError` saying why not."""
        raw = self.text(name)
        if not raw:
            return default
        try:
            return parse(raw)
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return default


def _parse(env: _Reader) -> Settings:
    dc = env.text("ZOHO_DC", "com").lower()
    accounts, people = _hosts(env, dc)
    return Settings(
        zoho_client_id=env.text("ZOHO_CLIENT_ID"),
        zoho_client_secret=env.text("ZOHO_CLIENT_SECRET"),
        zoho_refresh_token=env.text("ZOHO_REFRESH_TOKEN"),
        zoho_dc=dc,
        zoho_accounts_url=accounts,
        zoho_people_url=people,
        zoho_timezone=env.checked("ZOHO_TIMEZONE", _zone, ZoneInfo("UTC")),
        zoho_timezone_set=bool(env.text("ZOHO_TIMEZONE")),
        zoho_date_format=env.checked("ZOHO_DATE_FORMAT", _date_format, "%d-%m-%Y"),
        zoho_date_format_set=bool(env.text("ZOHO_DATE_FORMAT")),
        zoho_calls_per_minute=env.integer("ZOHO_CALLS_PER_MINUTE", 25, 1, MAX_CALLS_PER_MINUTE),
        zoho_calls_per_day=env.integer("ZOHO_CALLS_PER_DAY", 2500, 1, 10_000_000),
        data_dir=Path(env.text("BOT_DATA_DIR", "./.sessions-bot")),
        modules_file=env.checked("BOT_MODULES_FILE", _existing_file, None),
        slack_bot_token=env.text("SLACK_BOT_TOKEN"),
        slack_signing_secret=env.text("SLACK_SIGNING_SECRET"),
        slack_app_token=env.checked("SLACK_APP_TOKEN", _app_token, ""),
        slack_api_url=_slack_api_url(env.url("SLACK_API_URL")),
        slack_client_id=env.text("SLACK_CLIENT_ID"),
        slack_client_secret=env.text("SLACK_CLIENT_SECRET"),
        port=env.integer("PORT", 0, 1, 65535) or None,
        database_url=env.checked("DATABASE_URL", _database_url, None),
        remind_trainers=env.flag("BOT_REMIND_TRAINERS"),
        digest_catch_up_hours=env.number("BOT_DIGEST_CATCH_UP_HOURS", 3.0, 0.1, 23.0),
        freshness_minutes=env.integer("BOT_FRESHNESS_MINUTES", 10, 1, 1440),
        log_level=env.choice("LOG_LEVEL", LOG_LEVELS, "INFO"),
        log_format=env.choice("LOG_FORMAT", LOG_FORMATS, "text"),
        disk_is_ephemeral=bool(env.text("DYNO")),
        public_url=env.checked("BOT_PUBLIC_URL", _public_url, None),
        secret_key=_secret_key(env),
        admins=frozenset(part.strip() for part in env.text("BOT_ADMINS").split(",") if part.strip()),
    )


def _distribution_problems(settings: Settings) -> list[str]:
    """What distribution mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) needs, or forbids."""
    if not (settings.slack_client_id or settings.slack_client_secret):
        return []
    problems = []
    if not (settings.slack_client_id and settings.slack_client_secret):
        problems.append(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together: set both (from your Slack app's Basic "
            "Information page) to let workspaces install the app, or neither."
        )
    if not settings.slack_signing_secret:
        problems.append("SLACK_SIGNING_SECRET is not set: installing from /slack/install needs HTTP mode.")
    if settings.slack_app_token:
        problems.append("SLACK_APP_TOKEN is set: an app installed by many workspaces runs in HTTP mode only.")
    if not settings.public_url:
        problems.append(
            "BOT_PUBLIC_URL is not set: Slack sends installers back to {BOT_PUBLIC_URL}/slack/oauth_redirect."
        )
    if settings.modules_file is not None:
        problems.append(
            "BOT_MODULES_FILE is set: its aliases name one organisation's modules; with many "
            "workspaces each one's modules are discovered in its own Zoho People."
        )
    if settings.zoho_refresh_token:
        problems.append(
            "ZOHO_REFRESH_TOKEN is set: with many workspaces, each connects its own Zoho People "
            "from App Home."
        )
    return problems


def _hosts(env: _Reader, dc: str) -> tuple[str, str]:
    """Zoho's accounts and People hosts: ZOHO_ACCOUNTS_URL and ZOHO_PEOPLE_URL, else the data centre's."""
    accounts, people = env.url("ZOHO_ACCOUNTS_URL"), env.url("ZOHO_PEOPLE_URL")
    if dc in DATA_CENTRES:
        dc_accounts, dc_people = hosts_for(dc)
        return accounts or dc_accounts, people or dc_people
    if not (env.text("ZOHO_ACCOUNTS_URL") and env.text("ZOHO_PEOPLE_URL")):  # a wrong one is named already
        env.problems.append(
            f"ZOHO_DC must be one of {', '.join(DATA_CENTRES)}, not {dc!r}; for another data "
            "centre set ZOHO_ACCOUNTS_URL and ZOHO_PEOPLE_URL instead."
        )
    return accounts or "", people or ""


def _public_url(url: str) -> str:
    """https, except on this machine (a bot tried locally, or tested)."""
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    secure = parts.scheme == "https" or (parts.scheme == "http" and local)
    if not secure or not parts.hostname:
        raise ConfigError(
            "BOT_PUBLIC_URL must be the bot's public https:// address, such as "
            f"https://sessions.example.com, not {url!r}."
        )
    return url.rstrip("/")


def _secret_key(env: _Reader) -> str:
    """Required with BOT_PUBLIC_URL: it signs the connect flow and encrypts the tokens it stores."""
    value = env.text("BOT_SECRET_KEY")
    if value:
        try:
            Secrets.from_setting(value)
        except BadSecretKey as exc:
            env.problems.append(str(exc))
    elif env.text("BOT_PUBLIC_URL"):
        env.problems.append(
            "BOT_SECRET_KEY is not set: connecting Zoho from Slack needs it to sign the flow and encrypt "
            'the tokens it keeps; make one with python -c "import secrets; print(secrets.token_urlsafe(32))".'
        )
    return value


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


def _existing_file(path: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"BOT_MODULES_FILE points to {path!r}, which is not a file.")
    return file


def _app_token(token: str) -> str:
    if not token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
    return token


SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"


def _slack_api_url(url: str | None) -> str | None:
    return None if url is None else url + "/"


def _database_url(url: str) -> str:
    """Accept the `postgres://` form that hosting platforms hand out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    if url.startswith(("sqlite", "postgresql+")):
        return url
    raise ConfigError(f"DATABASE_URL must be a postgres:// or sqlite:// URL, not {url.split(':')[0]}://….")
