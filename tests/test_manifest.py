"""manifest.yml and Procfile: what Slack and the platform are told must match what the code does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.web.async_base_client import AsyncBaseClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.features.forms.ids import FormCallback
from bot.features.router import COMMAND
from bot.features.workflow.step import CALLBACK_ID
from bot.slack.distribution import BOT_SCOPES

ROOT = Path(__file__).resolve().parents[1]

WEB_API_METHODS = frozenset(set(dir(AsyncWebClient)) - set(dir(AsyncBaseClient)))
"""slack_sdk's Web API methods (`chat_postMessage`…), without the client's own plumbing."""

SCOPE_OF_METHOD: dict[str, str | None] = {
    "auth_test": None,
    "apps_connections_open": None,  # app-level token (connections:write), not a bot scope
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",
    "chat_scheduleMessage": "chat:write",
    "chat_deleteScheduledMessage": "chat:write",
    "conversations_open": "im:write",
    "conversations_history": "channels:history",  # and groups:/im:history, pinned in test_scopes
    "conversations_members": "channels:read",  # and groups:read, pinned in test_scopes
    "conversations_info": "channels:read",  # and groups:read; a DM is not asked (bot/slack/channels.py)
    "users_info": "users:read",
    "users_lookupByEmail": "users:read.email",
    "views_publish": None,  # needs no scope, only the Home tab
    "views_open": None,
    "views_update": None,
}
"""Each Web API method the bot may call, and the bot scope it needs (per api.slack.com/methods)."""


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def _scopes(manifest: dict[str, Any]) -> set[str]:
    return set(manifest["oauth_config"]["scopes"]["bot"])


def _methods_called_by_the_bot() -> dict[str, list[str]]:
    """Every slack_sdk Web API method called anywhere in bot/, with where."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "api_call(" not in source, f"{path}: call Web API methods by name so this test sees them"
        for name in re.findall(r"\.([A-Za-z]+_[A-Za-z_]+)\(", source):
            if name in WEB_API_METHODS:
                found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_the_slash_command(manifest: dict[str, Any]) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/sessions" == COMMAND
    assert command["description"].strip()
    assert len(command["description"]) <= 100
    assert command["usage_hint"].strip()
    assert len(command["usage_hint"]) <= 100
    assert command.get("should_escape") is False, "the parser reads the text as typed"


def test_display_information_fits_slacks_limits(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert 0 < len(info["name"]) <= 35
    assert 0 < len(info["description"]) <= 140
    assert len(info.get("long_description", "")) <= 4000
    assert 0 < len(manifest["features"]["bot_user"]["display_name"]) <= 80


def test_scopes(manifest: dict[str, Any]) -> None:
    assert {
        "commands",
        "chat:write",
        "chat:write.public",
        "im:write",
        "users:read",
        "users:read.email",
        "channels:history",
        "groups:history",
        "im:history",
        "channels:read",
        "groups:read",
    } <= _scopes(manifest), "history: to find a send a crashed instance may have posted; read: members"


def test_home_tab_messages_tab_interactivity_and_events(manifest: dict[str, Any]) -> None:
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    assert home["messages_tab_enabled"] is True
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]


def test_socket_mode_manifest_has_no_request_urls(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert "request_url" not in settings["interactivity"]
    assert "request_url" not in settings["event_subscriptions"]
    assert all("url" not in command for command in manifest["features"]["slash_commands"])


def test_the_shortcut_is_declared_as_the_code_answers_it(manifest: dict[str, Any]) -> None:
    (shortcut,) = manifest["features"]["shortcuts"]
    assert shortcut["callback_id"] == FormCallback.SHORTCUT.value
    assert shortcut["type"] == "global"
    assert 0 < len(shortcut["name"]) <= 24
    assert 0 < len(shortcut["description"]) <= 150


def test_the_options_load_url_is_documented_for_http_mode() -> None:
    """Slack sends external selects' option requests to `message_menu_options_url` in HTTP mode."""
    text = (ROOT / "manifest.yml").read_text(encoding="utf-8")
    assert "settings.interactivity.message_menu_options_url: https://bot.example.com/slack/events" in text


def test_the_method_scan_sees_calls() -> None:
    """Guard against a scan that silently finds nothing."""
    called = _methods_called_by_the_bot()
    assert "chat_postMessage" in called
    assert "users_info" in called


def test_every_web_api_method_the_code_calls_is_covered_by_a_scope(manifest: dict[str, Any]) -> None:
    scopes = _scopes(manifest)
    for method, where in _methods_called_by_the_bot().items():
        assert method in SCOPE_OF_METHOD, (
            f"{method} (called in {', '.join(sorted(set(where)))}) is new: add its scope to "
            "SCOPE_OF_METHOD and manifest.yml"
        )
        scope = SCOPE_OF_METHOD[method]
        assert scope is None or scope in scopes, f"{method} needs {scope}, missing from manifest.yml"


def test_procfile_runs_the_bot_as_the_web_process() -> None:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    processes = dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))
    assert processes["web"].strip() == "python -m bot"


def test_the_workflow_step_is_declared_as_the_code_answers_it(manifest: dict[str, Any]) -> None:
    """The outputs' declaration is also what the fake Slack checks each run's outputs against
    (tests/features/workflow/test_step_runs.py)."""
    step = manifest["functions"][CALLBACK_ID]
    assert 0 < len(step["title"]) <= 50
    inputs = step["input_parameters"]
    assert {name: spec["type"] for name, spec in inputs["properties"].items()} == {
        "module": "string",
        "days": "integer",
    }
    assert inputs["required"] == ["module"]
    outputs = step["output_parameters"]
    assert {name: spec["type"] for name, spec in outputs["properties"].items()} == {
        "summary": "string",
        "count": "integer",
        "next_start": "timestamp",
    }
    assert set(outputs["required"]) == {"summary", "count"}, "next_start is left out when nothing is coming"
    settings = manifest["settings"]
    assert "function_executed" in settings["event_subscriptions"]["bot_events"]
    assert settings["org_deploy_enabled"] is True, "Slack requires it of apps with custom steps"
    assert settings["function_runtime"] == "remote", "the step runs in this bot, not on Slack's servers"


def test_an_install_from_slack_install_asks_for_the_manifest_s_scopes(manifest: dict[str, Any]) -> None:
    assert set(BOT_SCOPES) == _scopes(manifest)
    assert len(BOT_SCOPES) == len(set(BOT_SCOPES))
