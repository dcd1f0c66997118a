"""`python -m bot [command]`: serve the Slack app (default) or run an operator command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot import app, logs
from bot.cli import bot_commands, tenant_commands, zoho_commands
from bot.config import ConfigError, Settings, load_settings
from bot.core import Core, build_core
from bot.features.connect import service as connect
from bot.fleet import open_fleet
from bot.secrets import WrongSecretKey
from bot.sessions.errors import SessionsError
from bot.sessions.windows import WINDOW_NAMES, named_window, next_days
from bot.store.store import Store, StoreError
from bot.tenants.tenant import Tenant
from bot.zoho.errors import ZohoError

T = TypeVar("T")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bot",
        description="sessions-bot: Zoho People LMS sessions in Slack.",
    )
    root.add_argument("--verbose", "-v", action="store_true", help="log debug detail")
    commands = root.add_subparsers(dest="command", metavar="command")
    commands.add_parser(
        "serve", help="run the Slack app (the default): HTTP mode, or Socket Mode with SLACK_APP_TOKEN"
    )
    commands.add_parser("check", help="check the configuration and reach Zoho (and Slack when configured)")
    preview = commands.add_parser("preview", help="print a module's upcoming sessions as a table")
    preview.add_argument("module", nargs="+", help="module name, alias, or course/batch/module ids")
    span = preview.add_mutually_exclusive_group()
    span.add_argument("--days", type=_positive_days, default=None, help="how many days ahead (default 14)")
    span.add_argument("--window", choices=WINDOW_NAMES, help="a named window, as in the slash command")
    modules = commands.add_parser("modules", help="list the module catalog")
    modules.add_argument("--refresh", action="store_true", help="walk Zoho again now")
    digest = commands.add_parser("digest", help="send (or print) a channel's digest now")
    digest.add_argument("--channel", required=True, help="Slack channel id, such as C0123")
    digest.add_argument("--dry-run", action="store_true", help="print the messages instead of posting")
    commands.add_parser(
        "scheduler", help="run only the scheduler (digests and reminders), for a worker process"
    )
    tenants = commands.add_parser("tenants", help="list the tenants the store holds, or forget one")
    tenants.add_argument(
        "action", nargs="*", metavar="forget TEAM", help="delete every row of the team (or enterprise)"
    )
    token = commands.add_parser("zoho-token", help="turn a Self Client grant code into a refresh token")
    token.add_argument("code", help="the grant code generated in Zoho's API console")
    return root


def _positive_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= days <= 366:
        raise argparse.ArgumentTypeError("--days must be between 1 and 366")
    return days


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(command=args.command or "serve")
        logs.configure(_log_level(args, settings), settings.log_format, settings.secrets)
        return asyncio.run(_run(args, settings))
    except ConfigError as exc:
        print(_config_error(exc), file=sys.stderr)
        return 1
    except (SessionsError, ZohoError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # an unwritable BOT_DATA_DIR, a full disk
        print(f"error: {exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _log_level(args: argparse.Namespace, settings: Settings) -> str:
    """`LOG_LEVEL` for the long-running commands; the one-shot ones print their results and
    their errors themselves, so their log stays quiet unless `--verbose` (DEBUG for all)."""
    if args.verbose:
        return "DEBUG"
    return settings.log_level if args.command in (None, "serve", "scheduler") else "CRITICAL"


def _config_error(exc: ConfigError) -> str:
    """One problem on the `error:` line; several under a count, one a line."""
    if len(exc.problems) == 1:
        return f"error: {exc}"
    return "\n".join([f"error: {len(exc.problems)} settings need fixing:", *(f"  {p}" for p in exc.problems)])


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command or "serve"
    if command == "serve":
        await app.serve(settings)
        return 0
    if command == "scheduler":
        await app.run_scheduler(settings)
        return 0
    if command == "digest":
        return await _with_bot(settings, lambda bot: bot_commands.digest(bot, args.channel, args.dry_run))
    if command == "tenants":
        return await _tenants(settings, args.action)
    if command == "zoho-token":
        return await zoho_commands.zoho_token(settings, args.code)
    if command == "check":
        return await _check(settings)
    if command == "preview":
        return await _with_core(settings, lambda core: _preview(core, args))
    if command == "modules":
        return await _with_core(settings, lambda core: zoho_commands.modules(core, args.refresh))
    raise ConfigError(f"unknown command {command!r}")


async def _with_core(settings: Settings, body: Callable[[Core], Awaitable[T]], take_up: bool = True) -> T:
    core = build_core(settings)
    try:
        if take_up and settings.connect_from_slack and not settings.zoho_refresh_token:
            await _take_up_connection(core, settings)
        return await body(core)
    finally:
        await core.aclose()


async def _take_up_connection(core: Core, settings: Settings) -> None:
    """The operator's commands read Zoho as the bot does: through the connection made from Slack."""
    store = Store(settings.database, core.secrets)
    try:
        await store.upgrade()
        workspace = store.tenant(Tenant(await store.single_tenant_id()))
        await connect.take_up(await workspace.connection(connect.CONNECTION), core.link, core.orgtime)
    except WrongSecretKey as exc:
        raise ConfigError(str(exc)) from exc
    finally:
        await store.close()


async def _tenants(settings: Settings, action: list[str]) -> int:
    if action and (len(action) != 2 or action[0] != "forget"):
        raise ConfigError("tenants: say `tenants` to list them, or `tenants forget TEAM`.")
    if settings.distribution:
        return await _fleet_tenants(settings, action)
    if not action:
        store = await Store.open(settings.database)
        try:
            return await tenant_commands.list_tenants(store)
        finally:
            await store.close()
    return await _with_core(settings, lambda core: _forget_tenant(core, settings, action[1]), take_up=False)


async def _fleet_tenants(settings: Settings, action: list[str]) -> int:
    """The installed workspaces, or one forgotten as if it had uninstalled the app (its Zoho
    token revoked, its installation and every row deleted)."""
    fleet = await open_fleet(settings)
    try:
        installed = {
            entry.tenant_id: entry for entry in await fleet.slack_stores.installations.installed_tenants()
        }
        if not action:
            calls = {
                tenant_id: await fleet.calls_today(entry.tenant) for tenant_id, entry in installed.items()
            }
            return await tenant_commands.list_tenants(fleet.root, installed, calls)
        tenant_id = action[1]
        entry = installed.get(tenant_id)
        if entry is None and tenant_id not in await fleet.root.tenant_ids():
            print(f"No tenant {tenant_id!r} is installed or has rows; nothing deleted.")
            return 1
        await fleet.leave(entry.tenant if entry is not None else Tenant(tenant_id), "forgotten on request")
        print(f"Forgot {tenant_id}: its Zoho token revoked, its installation and every row deleted.")
        return 0
    except WrongSecretKey as exc:
        raise ConfigError(str(exc)) from exc
    finally:
        await fleet.aclose()


async def _forget_tenant(core: Core, settings: Settings, tenant_id: str) -> int:
    """Revoke the tenant's Zoho token at Zoho (through `core`, as Disconnect does), then delete
    its rows and what this machine holds of its organisation's data."""
    store = await Store.open(settings.database, core.secrets)
    try:
        stored = await store.tenant(Tenant(tenant_id)).connection(connect.CONNECTION)
        if stored is not None:
            await connect.take_up(stored, core.link, core.orgtime)
        return await tenant_commands.forget(store, tenant_id, core.link.revoke, core.forget_zoho_data)
    except WrongSecretKey as exc:
        raise ConfigError(str(exc)) from exc
    finally:
        await store.close()


async def _preview(core: Core, args: argparse.Namespace) -> int:
    now = core.clock.now()
    if args.window:
        window = named_window(args.window, now, core.settings.zoho_timezone)
    else:
        window = next_days(now, args.days or 14)
    return await zoho_commands.preview(core, " ".join(args.module), window)


async def _check(settings: Settings) -> int:
    """Zoho first (it is what every feature needs), then Slack and the store when configured;
    any warning fails the check (exit 1)."""
    if settings.distribution:
        fleet = await open_fleet(settings)
        try:
            good, warnings = await bot_commands.check_fleet(fleet)
        finally:
            await fleet.aclose()
    elif not settings.slack_bot_token:
        good, warnings = await _with_core(settings, zoho_commands.check_zoho)
        good.append("Slack: not checked (SLACK_BOT_TOKEN is not set)")
    else:
        # the connection made from Slack lives in the store
        bot = await app.open_bot(settings) if app.connects_from_slack(settings) else app.build_bot(settings)
        try:
            good, warnings = await zoho_commands.check_zoho(bot.core)
            slack_good, slack_warnings = await bot_commands.check_slack_and_store(bot, settings)
        finally:
            await bot.aclose()
        good, warnings = [*good, *slack_good], [*warnings, *slack_warnings]
    if not settings.distribution:
        good.insert(0, bot_commands.mode(settings))
    print("\n".join([*good, *(f"warning: {w}" for w in warnings)]))
    return 1 if warnings else 0


async def _with_bot(settings: Settings, body: Callable[[app.Bot], Awaitable[int]]) -> int:
    bot = await app.open_bot(settings)
    try:
        return await body(bot)
    finally:
        await bot.aclose()


if __name__ == "__main__":
    sys.exit(main())
