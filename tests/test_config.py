"""Settings: defaults, every public variable, one-sentence errors naming the variable, `.env`."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import config
from bot.config import VARIABLES, ConfigError, load_settings

CREDENTIALS = {
    "ZOHO_CLIENT_ID": "1000.CLIENT",
    "ZOHO_CLIENT_SECRET": "secret",
    "ZOHO_REFRESH_TOKEN": "1000.refresh",
}


def load(**values: str):
    return load_settings(environ=values, env_file=None)


def test_defaults() -> None:
    settings = load()
    assert settings.zoho_dc == "com"
    assert settings.zoho_accounts_url == "https://accounts.zoho.com"
    assert settings.zoho_people_url == "https://people.zoho.com"
    assert settings.zoho_timezone == ZoneInfo("UTC")
    assert settings.zoho_date_format == "%d-%m-%Y"
    assert settings.zoho_calls_per_minute == 25
    assert settings.data_dir == Path("./.sessions-bot")
    assert settings.modules_file is None
    assert settings.database_url is None
    assert settings.database == f"sqlite+aiosqlite:///{Path('./.sessions-bot') / 'bot.sqlite3'}"
    assert (settings.log_level, settings.log_format) == ("INFO", "text")
    assert not settings.zoho_timezone_set


def test_zoho_credentials_are_read() -> None:
    credentials = load(**CREDENTIALS).zoho_credentials()
    assert (credentials.client_id, credentials.client_secret, credentials.refresh_token) == (
        "1000.CLIENT",
        "secret",
        "1000.refresh",
    )


@pytest.mark.parametrize("missing", sorted(CREDENTIALS))
def test_missing_credential_is_named(missing: str) -> None:
    settings = load(**{k: v for k, v in CREDENTIALS.items() if k != missing})
    with pytest.raises(ConfigError, match=missing):
        settings.zoho_credentials()


def test_every_missing_credential_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        load().zoho_credentials()
    assert [p.split()[0] for p in error.value.problems] == sorted(CREDENTIALS)


@pytest.mark.parametrize(
    ("dc", "accounts", "people"),
    [
        ("com", "https://accounts.zoho.com", "https://people.zoho.com"),
        ("eu", "https://accounts.zoho.eu", "https://people.zoho.eu"),
        ("in", "https://accounts.zoho.in", "https://people.zoho.in"),
        ("com.au", "https://accounts.zoho.com.au", "https://people.zoho.com.au"),
        ("jp", "https://accounts.zoho.jp", "https://people.zoho.jp"),
        ("ca", "https://accounts.zohocloud.ca", "https://people.zohocloud.ca"),
        ("sa", "https://accounts.zoho.sa", "https://people.zoho.sa"),
        ("com.cn", "https://accounts.zoho.com.cn", "https://people.zoho.com.cn"),
    ],
)
def test_data_centre_sets_both_hosts(dc: str, accounts: str, people: str) -> None:
    settings = load(ZOHO_DC=dc)
    assert settings.zoho_dc == dc
    assert (settings.zoho_accounts_url, settings.zoho_people_url) == (accounts, people)


def test_data_centre_is_case_insensitive() -> None:
    assert load(ZOHO_DC="EU").zoho_people_url == "https://people.zoho.eu"


def test_base_urls_override_the_data_centre() -> None:
    settings = load(
        ZOHO_DC="eu",
        ZOHO_ACCOUNTS_URL="https://accounts.zoho.uk/",
        ZOHO_PEOPLE_URL="http://127.0.0.1:9000",
    )
    assert settings.zoho_accounts_url == "https://accounts.zoho.uk"
    assert settings.zoho_people_url == "http://127.0.0.1:9000"


def test_an_unlisted_data_centre_is_accepted_when_both_hosts_are_given() -> None:
    settings = load(
        ZOHO_DC="uk", ZOHO_ACCOUNTS_URL="https://accounts.zoho.uk", ZOHO_PEOPLE_URL="https://people.zoho.uk"
    )
    assert (settings.zoho_accounts_url, settings.zoho_people_url) == (
        "https://accounts.zoho.uk",
        "https://people.zoho.uk",
    )


def test_timezone_date_format_and_calls() -> None:
    settings = load(ZOHO_TIMEZONE="Europe/Paris", ZOHO_DATE_FORMAT="%m/%d/%Y", ZOHO_CALLS_PER_MINUTE="30")
    assert settings.zoho_timezone == ZoneInfo("Europe/Paris")
    assert settings.zoho_date_format == "%m/%d/%Y"
    assert settings.zoho_calls_per_minute == 30


def test_timezone_counts_as_set_even_when_it_is_utc() -> None:
    settings = load(ZOHO_TIMEZONE="UTC")
    assert settings.zoho_timezone == ZoneInfo("UTC")
    assert settings.zoho_timezone_set


@pytest.mark.parametrize(
    ("level", "form", "expected"),
    [
        ("debug", "JSON", ("DEBUG", "json")),
        ("Warning", "text", ("WARNING", "text")),
        ("ERROR", "", ("ERROR", "text")),
    ],
)
def test_log_level_and_format_are_read_in_any_case(level: str, form: str, expected: tuple[str, str]) -> None:
    settings = load(LOG_LEVEL=level, LOG_FORMAT=form)
    assert (settings.log_level, settings.log_format) == expected


def test_data_dir_and_modules_file(tmp_path: Path) -> None:
    modules = tmp_path / "modules.toml"
    modules.write_text("", encoding="utf-8")
    settings = load(BOT_DATA_DIR=str(tmp_path / "state"), BOT_MODULES_FILE=str(modules))
    assert settings.data_dir == tmp_path / "state"
    assert settings.modules_file == modules


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://bot:pw@db:5432/bot", "postgresql+asyncpg://bot:pw@db:5432/bot"),
        ("postgresql://bot:pw@db/bot", "postgresql+asyncpg://bot:pw@db/bot"),
        ("postgresql+asyncpg://bot@db/bot", "postgresql+asyncpg://bot@db/bot"),
        ("sqlite+aiosqlite:///tmp/x.db", "sqlite+aiosqlite:///tmp/x.db"),
    ],
)
def test_database_url(given: str, expected: str) -> None:
    settings = load(DATABASE_URL=given)
    assert settings.database_url == expected
    assert settings.database == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ZOHO_DC", "uk"),  # without both hosts given
        ("ZOHO_ACCOUNTS_URL", "accounts.zoho.eu"),
        ("ZOHO_PEOPLE_URL", "ftp://people.zoho.eu"),
        ("ZOHO_TIMEZONE", "Mars/Olympus_Mons"),
        ("ZOHO_DATE_FORMAT", "%Y"),
        ("ZOHO_DATE_FORMAT", "%H:%M"),
        ("ZOHO_CALLS_PER_MINUTE", "31"),
        ("ZOHO_CALLS_PER_MINUTE", "99"),
        ("ZOHO_CALLS_PER_MINUTE", "0"),
        ("ZOHO_CALLS_PER_MINUTE", "many"),
        ("BOT_MODULES_FILE", "/nonexistent/modules.toml"),
        ("DATABASE_URL", "mysql://bot:pw@db/bot"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token"),
        ("LOG_LEVEL", "verbose"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_wrong_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        load(**{name: value})
    message = str(error.value)
    assert name in message
    assert "\n" not in message
    assert "pw" not in message, "a password in DATABASE_URL must not be echoed"


def test_every_wrong_value_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        load(ZOHO_DC="xx", PORT="abc", ZOHO_TIMEZONE="Paris", LOG_LEVEL="loud", BOT_REMIND_TRAINERS="maybe")
    problems = error.value.problems
    assert [p.split()[0] for p in problems] == [
        "ZOHO_DC",
        "ZOHO_TIMEZONE",
        "PORT",
        "BOT_REMIND_TRAINERS",
        "LOG_LEVEL",
    ]
    assert str(error.value).splitlines() == problems
    assert "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, not 'loud'." in problems


def test_an_unlisted_data_centre_with_a_wrong_host_names_the_host_alone() -> None:
    with pytest.raises(ConfigError) as error:
        load(ZOHO_DC="uk", ZOHO_ACCOUNTS_URL="accounts.zoho.uk", ZOHO_PEOPLE_URL="https://people.zoho.uk")
    assert error.value.problems == [
        "ZOHO_ACCOUNTS_URL must be a URL starting with http:// or https://, not 'accounts.zoho.uk'."
    ]


def test_settings_a_command_requires_are_listed_after_the_wrong_values() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"PORT": "abc"}, env_file=None, command="serve")
    assert [p.split(" is not set")[0].split()[0] for p in error.value.problems] == [
        "PORT",
        "ZOHO_CLIENT_ID",
        "ZOHO_CLIENT_SECRET",
        "ZOHO_REFRESH_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ]


@pytest.mark.parametrize(
    ("command", "given", "missing"),
    [
        ("serve", {}, ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]),
        ("serve", {"SLACK_APP_TOKEN": "xapp-1"}, ["SLACK_BOT_TOKEN"]),
        ("serve", {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, []),
        ("scheduler", {}, ["SLACK_BOT_TOKEN"]),
        ("check", {}, []),
        ("zoho-token", {"ZOHO_REFRESH_TOKEN": ""}, []),
    ],
)
def test_what_each_command_requires(command: str, given: dict[str, str], missing: list[str]) -> None:
    settings = load(**{**CREDENTIALS, **given})
    assert [p.split()[0] for p in settings.missing_for(command)] == missing


def test_a_missing_slack_setting_says_where_to_find_it() -> None:
    assert load(**CREDENTIALS).missing_for("scheduler") == [
        "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your Slack app."
    ]


def test_calls_per_minute_is_capped_below_zohos_threshold() -> None:
    with pytest.raises(ConfigError, match=r"ZOHO_CALLS_PER_MINUTE must be between 1 and 30, not 31"):
        load(ZOHO_CALLS_PER_MINUTE="31")


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ZOHO_CLIENT_ID=from-file\nZOHO_DC=eu\nZOHO_TIMEZONE=Asia/Kolkata\n# a comment\n", encoding="utf-8"
    )
    settings = load_settings(environ={"ZOHO_DC": "jp"}, env_file=env_file)
    assert settings.zoho_client_id == "from-file"
    assert settings.zoho_timezone == ZoneInfo("Asia/Kolkata")
    assert settings.zoho_dc == "jp"
    assert settings.zoho_people_url == "https://people.zoho.jp"


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert load_settings(environ={}, env_file=tmp_path / "absent.env").zoho_dc == "com"


def test_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOHO_DC", "sa")
    assert load_settings().zoho_people_url == "https://people.zoho.sa"


def test_variables_lists_exactly_what_the_settings_read() -> None:
    """VARIABLES is the public interface (tests clear the environment with it): no name missing."""
    source = Path(config.__file__).read_text(encoding="utf-8")
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z_]+)"', source))
    assert read == set(VARIABLES)


KEY = "s" * 40


def test_connecting_from_slack_makes_the_refresh_token_optional_but_needs_a_secret_key() -> None:
    settings = load_settings(
        environ={
            "ZOHO_CLIENT_ID": "id",
            "ZOHO_CLIENT_SECRET": "secret",
            "BOT_PUBLIC_URL": "https://bot.example/",
            "BOT_SECRET_KEY": KEY,
            "BOT_ADMINS": "U1, U2",
        },
        env_file=None,
        command="check",
    )
    assert (settings.public_url, settings.connect_from_slack) == ("https://bot.example", True)
    assert settings.admins == frozenset({"U1", "U2"})
    assert KEY in settings.secrets, "the key never reaches a log line"
    with pytest.raises(ConfigError) as missing:
        load(BOT_PUBLIC_URL="https://bot.example")
    assert any(p.startswith("BOT_SECRET_KEY is not set") for p in missing.value.problems)
    with pytest.raises(ConfigError) as required:
        load_settings(
            environ={"ZOHO_CLIENT_ID": "id", "ZOHO_CLIENT_SECRET": "s"}, env_file=None, command="check"
        )
    assert any(p.startswith("ZOHO_REFRESH_TOKEN is not set") for p in required.value.problems)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("http://bot.example", "BOT_PUBLIC_URL must be the bot's public https:// address"),
        ("bot.example", "BOT_PUBLIC_URL must be"),
    ],
)
def test_a_public_url_must_be_https_except_on_this_machine(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(BOT_PUBLIC_URL=value, BOT_SECRET_KEY=KEY)
    assert any(p.startswith(says) for p in caught.value.problems)
    assert (
        load(BOT_PUBLIC_URL="http://127.0.0.1:3000", BOT_SECRET_KEY=KEY).public_url == "http://127.0.0.1:3000"
    )


def test_a_short_secret_key_is_named_with_how_to_make_one() -> None:
    with pytest.raises(ConfigError) as caught:
        load(BOT_SECRET_KEY="short")
    (problem,) = caught.value.problems
    assert "BOT_SECRET_KEY" in problem
    assert "token_urlsafe(32)" in problem


DISTRIBUTION = {
    "ZOHO_CLIENT_ID": "id",
    "ZOHO_CLIENT_SECRET": "secret",
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "slack-client-secret",
    "SLACK_SIGNING_SECRET": "signing",
    "BOT_PUBLIC_URL": "https://sessions.example.com",
    "BOT_SECRET_KEY": "a-secret-key-of-more-than-thirty-two-characters",
}


def test_many_workspaces_need_no_bot_token_and_ask_slack_where_the_api_is() -> None:
    settings = load_settings(environ=DISTRIBUTION, env_file=None, command="serve")
    assert settings.distribution
    assert settings.slack_authorize_url == "https://slack.com/oauth/v2/authorize"
    local = load_settings(environ={**DISTRIBUTION, "SLACK_API_URL": "http://127.0.0.1:9/api"}, env_file=None)
    assert local.slack_authorize_url == "http://127.0.0.1:9/oauth/v2/authorize"
    assert "slack-client-secret" in settings.secrets


def test_every_setting_many_workspaces_lack_or_forbid_is_named_at_once(tmp_path: Path) -> None:
    aliases = tmp_path / "modules.toml"
    aliases.write_text("", encoding="utf-8")
    wrong = {**DISTRIBUTION, "SLACK_CLIENT_SECRET": "", "SLACK_SIGNING_SECRET": "", "BOT_PUBLIC_URL": ""}
    wrong["BOT_MODULES_FILE"] = str(aliases)
    wrong |= {"SLACK_APP_TOKEN": "xapp-1-A1-1-abc", "ZOHO_REFRESH_TOKEN": "1000.abc.def"}
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=wrong, env_file=None)
    said = "\n".join(raised.value.problems)
    for named in ("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together", "SLACK_SIGNING_SECRET is not set"):
        assert named in said
    for named in ("SLACK_APP_TOKEN is set", "BOT_PUBLIC_URL is not set", "ZOHO_REFRESH_TOKEN is set"):
        assert named in said
    assert "BOT_MODULES_FILE is set" in said
