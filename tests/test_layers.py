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


def test_only_sessions_source_and_link_import_zoho() -> None:
    """The two boundaries where Zoho's types and errors become the domain's: reading sessions,
    and connecting an organisation."""
    outside = [p for p in files("sessions") if p.name not in ("source.py", "link.py")]
    assert crossings(outside, ("bot.zoho",)) == []


def module_path(name: str) -> Path | None:
    """The file of a `bot.…` module, or None for anything outside the bot."""
    if not name.startswith("bot."):
        return None
    base = BOT.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def reached(path: Path) -> set[str]:
    """Every module a file imports, directly or through the bot's own modules."""
    seen: set[str] = set()
    todo = [path]
    while todo:
        for name in imports(todo.pop()):
            if name not in seen:
                seen.add(name)
                found = module_path(name)
                if found is not None:
                    todo.append(found)
    return seen


IO = ("sqlalchemy", "httpx", "slack_sdk", "slack_bolt", "diskcache", "aiohttp", "asyncpg", "bot.store.store")


@pytest.mark.parametrize("name", ["render.py", "due.py"])
def test_render_and_due_reach_no_io_even_through_other_modules(name: str) -> None:
    """A pure module that imports a module that imports SQLAlchemy is not pure."""
    pure = [p for p in files("features") if p.name == name]
    assert pure, f"no {name} found"
    found = [
        f"{path.relative_to(BOT.parent)} reaches {module}"
        for path in pure
        for module in sorted(reached(path))
        if module.startswith(IO)
    ]
    assert found == []


def test_the_reach_check_sees_through_a_module() -> None:
    """The check above would catch what it is for: the store's watch module reaches SQLAlchemy."""
    assert "sqlalchemy" in reached(BOT / "store" / "watch.py")
    assert "sqlalchemy" not in reached(BOT / "store" / "records.py")


ALLOWED_FEATURE_ARROWS = {
    "calendar": set(),
    "connect": set(),
    "digests": {"calendar", "forms", "subscriptions"},
    "forms": {"calendar", "listing", "subscriptions"},
    "home": {"calendar", "connect", "forms", "notices", "subscriptions"},
    "listing": {"calendar", "forms"},
    "notices": {"reminders"},
    "reminders": {"listing", "subscriptions"},
    "subscriptions": set(),
    "workflow": set(),
}
"""Which feature folders each feature folder may import from (its buttons, ids, pure renders, the
subscriptions service); everything else the features share sits in `bot/features/*.py`."""


def feature_folder(name: str) -> str | None:
    parts = name.split(".")
    folder = parts[2] if len(parts) > 3 and parts[:2] == ["bot", "features"] else None
    return folder if folder is not None and (BOT / "features" / folder).is_dir() else None


def test_feature_folders_import_only_the_allowed_folders_and_never_handlers() -> None:
    folders = sorted(p.name for p in (BOT / "features").iterdir() if p.is_dir() and p.name != "__pycache__")
    assert sorted(ALLOWED_FEATURE_ARROWS) == folders, "a new folder needs its arrows written here"
    wrong = []
    for folder in folders:
        for path in files("features", folder):
            for name in imports(path):
                target = feature_folder(name)
                if target is None or target == folder:
                    continue
                if target not in ALLOWED_FEATURE_ARROWS[folder] or name.endswith(".handlers"):
                    wrong.append(f"{path.relative_to(BOT.parent)} imports {name}")
    assert wrong == []


def test_the_subscriptions_service_is_the_only_place_that_saves_or_stops_a_subscription() -> None:
    writes = (
        "save_digest",
        "save_reminder",
        "update_digest",
        "update_reminder",
        "remove_digest",
        "remove_reminders",
    )
    found = [
        f"{path.relative_to(BOT.parent)} calls {word}"
        for path in files("features")
        if "subscriptions" not in path.parts
        for word in writes
        if f"store.{word}(" in path.read_text(encoding="utf-8")
    ]
    assert found == []
