"""The arrows of the design, read from the imports: a change that crosses a layer fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"


def imports(path: Path) -> set[str]:
    """Every module a file imports, absolute."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def files(*parts: str) -> list[Path]:
    target = BOT.joinpath(*parts)
    return [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))


def crossings(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(BOT.parent)} imports {name}"
        for path in paths
        for name in sorted(imports(path))
        if name.startswith(forbidden)
    ]


@pytest.mark.parametrize("part", [("features",), ("slack",), ("scheduler.py",), ("store",)])
def test_only_the_domain_calls_zoho(part: tuple[str, ...]) -> None:
    assert crossings(files(*part), ("bot.zoho",)) == []


def test_the_domain_and_the_store_know_nothing_of_slack() -> None:
    slack = ("bot.slack", "bot.features", "slack_sdk", "slack_bolt", "bot.scheduler", "bot.app")
    assert crossings(files("sessions") + files("store"), slack) == []


def test_zoho_knows_nothing_above_it() -> None:
    above = ("bot.config", "bot.sessions", "bot.store", "bot.slack", "bot.features", "bot.scheduler")
    assert crossings(files("zoho"), above) == []


def test_only_sessions_source_imports_the_zoho_client() -> None:
    outside = [p for p in files("sessions") if p.name != "source.py"]
    assert crossings(outside, ("bot.zoho",)) == []


@pytest.mark.parametrize("name", ["render.py", "due.py"])
def test_render_and_due_do_no_io(name: str) -> None:
    pure = [p for p in files("features") if p.name == name]
    assert pure, f"no {name} found"
    io = ("bot.store.store", "bot.sessions.service", "bot.slack.delivery", "slack_sdk", "httpx", "sqlalchemy")
    assert crossings(pure, io) == []
