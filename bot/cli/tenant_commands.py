"""`python -m bot tenants` and `tenants forget TEAM`: the tenants the store holds, and deleting one
on request (a data-deletion request, or a workspace that left while the bot was down)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from bot.cli.table import table
from bot.sessions.errors import SessionsError
from bot.slack.installations import InstalledTenant
from bot.store.across import TenantSummary
from bot.store.store import Store
from bot.tenants.tenant import UNNAMED

HEADERS = ("tenant", "zoho", "connected at", "digests", "reminders", "paused")


async def list_tenants(
    store: Store,
    installed: Mapping[str, InstalledTenant] | None = None,
    calls: Mapping[str, int] | None = None,
) -> int:
    """Every tenant with rows; with many workspaces (`installed`), every installed one too, with
    when it installed and its organisation's Zoho calls of the last 24 hours (`calls`)."""
    summaries = {summary.tenant: summary for summary in await store.tenant_summaries()}
    if installed is None:
        if not summaries:
            print("No tenant has anything stored yet.")
            return 0
        print(table(HEADERS, [_row(summary) for summary in summaries.values()], whole=(0, 5)))
        return 0
    tenants = sorted(summaries.keys() | installed.keys())
    if not tenants:
        print("No workspace has installed the app yet.")
        return 0
    rows = []
    for tenant in tenants:
        entry, counted = installed.get(tenant), (calls or {}).get(tenant)
        at = entry.installed_at.strftime("%Y-%m-%d %H:%M UTC") if entry else "not installed"
        row = _row(summaries.get(tenant, TenantSummary(tenant)))
        rows.append([row[0], at, *row[1:5], "" if counted is None else str(counted), row[5]])
    headers = (HEADERS[0], "installed at", *HEADERS[1:5], "zoho calls 24 h", HEADERS[5])
    print(table(headers, rows, whole=(0, 7)))
    return 0


async def forget(
    store: Store, tenant_id: str, revoke: Callable[[], Awaitable[None]], forget_data: Callable[[], None]
) -> int:
    """Revoke the tenant's Zoho token (`revoke`, a no-op when it connected none), delete its rows
    and the organisation's data held here (`forget_data`). Zoho out of reach does not keep the
    rows: they are deleted all the same, and the operator is told to revoke it by hand."""
    if tenant_id not in await store.tenant_ids():
        print(f"No tenant {tenant_id!r} in the store; nothing deleted.")
        return 1
    said = ""
    try:
        await revoke()
    except SessionsError as exc:
        said = f" Its Zoho token could not be revoked ({exc}); revoke it in Zoho's API console."
    removed = await store.forget_tenant(tenant_id)
    forget_data()
    print(f"Deleted every row of {tenant_id} ({removed} rows).{said}")
    return 0


def _row(summary: TenantSummary) -> list[str]:
    paused = ", ".join(f"{reason} ({count})" for reason, count in sorted(summary.paused.items()))
    return [
        summary.tenant if summary.tenant != UNNAMED else "(unnamed workspace)",
        summary.data_centre or "not connected",
        summary.connected_at.strftime("%Y-%m-%d %H:%M UTC") if summary.connected_at else "",
        str(summary.digests),
        str(summary.reminders),
        paused,
    ]
