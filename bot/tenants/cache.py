"""One tenant's part of a cache that every tenant of the process shares.

A catalog, session data and trainers' addresses are kept per tenant, but opening three
disk caches per tenant would cost three SQLite files and connections each; so every tenant's
entries live in the same caches, under keys that carry the tenant and tagged with it, and
forgetting a tenant's entries evicts its tag and nothing else. The single-workspace mode's
scope is "": its keys stay as they were, and forgetting clears the cache.
"""

from __future__ import annotations

from typing import Any

import diskcache


class TenantCache:
    def __init__(self, cache: diskcache.Cache, scope: str) -> None:
        self._cache = cache
        self._scope = scope

    def _key(self, key: Any) -> Any:
        return (self._scope, key) if self._scope else key

    def get(self, key: Any, default: Any = None) -> Any:
        return self._cache.get(self._key(key), default)

    def set(self, key: Any, value: Any, expire: float | None = None) -> bool:
        return bool(self._cache.set(self._key(key), value, expire=expire, tag=self._scope or None))

    def add(self, key: Any, value: Any, expire: float | None = None) -> bool:
        return bool(self._cache.add(self._key(key), value, expire=expire, tag=self._scope or None))

    def incr(self, key: Any, delta: int = 1) -> int:
        return int(self._cache.incr(self._key(key), delta))

    def delete(self, key: Any) -> bool:
        return bool(self._cache.delete(self._key(key)))

    def clear(self) -> None:
        """Forget this tenant's entries (all of them, in the single-workspace mode)."""
        if self._scope:
            self._cache.evict(self._scope)
        else:
            self._cache.clear()
