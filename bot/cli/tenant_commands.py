"""`python -m bot tenants` and `tenants forget TEAM`: the tenants the store holds, and deleting one
on request (a data-deletion request, or a workspace that left while the bot was down)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.cli.table import table
from bot.sessions.errors import SessionsError
from bot.store.across import TenantSummary
from bot.store.store import Store
from bot.tenants.tenant import UNNAMED

HEADERS = ("tenant", "zoho", "connected at", "digests", "reminders", "paused")


async def list_tenants(store: Store) -> int:
    summaries = await store.tenant_summaries()
    if not summaries:
        print("No tenant has anything stored yet.")
        return 0
    print(table(HEADERS, [_row(summary) for summary in summaries], whole=(0, 5)))
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
