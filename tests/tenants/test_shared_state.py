"""Tenants share one coordination backend and one set of caches, and never each other's entries."""

from __future__ import annotations

from pathlib import Path

import diskcache

from bot.config import Settings
from bot.core import build_shared, core_for
from bot.tenants.cache import TenantCache
from bot.tenants.tenant import Tenant
from bot.zoho.state import CachedToken
from tests.clock import FakeClock


def test_forgetting_one_tenant_s_cache_keeps_the_other_s(tmp_path: Path) -> None:
    with diskcache.Cache(str(tmp_path), tag_index=True) as cache:
        first, second = TenantCache(cache, "T1"), TenantCache(cache, "T2")
        first.set("modules", ["a"])
        second.set("modules", ["b"])
        first.add("bucket", 0, expire=60)
        assert first.incr("bucket") == 1
        assert (first.get("modules"), second.get("modules")) == (["a"], ["b"])
        first.clear()
        assert (first.get("modules"), first.get("bucket"), second.get("modules")) == (None, None, ["b"])


async def test_a_lock_is_the_organisation_s_and_a_token_the_tenant_s(
    settings: Settings, clock: FakeClock
) -> None:
    shared = build_shared(settings, clock)
    try:
        one, two, other = (core_for(shared, Tenant(team)) for team in ("T1", "T2", "T3"))
        for core in (one, two):
            core.organisation.learn("company-a")
        other.organisation.learn("company-b")
        now = clock.time()
        await one.state.lock(now + 300, now)
        assert await two.state.locked_until(now) == now + 300
        assert await other.state.locked_until(now) == 0.0
        await one.state.store_token(CachedToken("token-of-T1", now + 3600))
        assert await two.state.token(now) is None
        assert (await one.state.token(now)) == CachedToken("token-of-T1", now + 3600)
    finally:
        await shared.aclose()
