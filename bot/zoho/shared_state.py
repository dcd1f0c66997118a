"""State that every process on one `BOT_DATA_DIR` must share to stay within Zoho's limits.

The access token, the API lock, and the timestamps of recent calls and token
refreshes live in a diskcache (SQLite) folder, so a restart reuses the token and
two processes never spend the same minute's budget twice. Each read-modify-write
runs in a diskcache transaction, which SQLite makes atomic across processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import diskcache

_TOKEN = "token"
_LOCKED_UNTIL = "locked-until"
_REFRESH_MUTEX = "refresh-mutex"


@dataclass(frozen=True)
class CachedToken:
    access_token: str
    expires_at: float


class SharedState:
    """Cross-process Zoho bookkeeping; every method is short and does no network I/O."""

    def __init__(self, directory: Path) -> None:
        self._cache = diskcache.Cache(str(directory))

    def close(self) -> None:
        self._cache.close()

    def token(self) -> CachedToken | None:
        value = self._cache.get(_TOKEN)
        return value if isinstance(value, CachedToken) else None

    def store_token(self, token: CachedToken) -> None:
        self._cache.set(_TOKEN, token)

    def forget_token(self, access_token: str) -> None:
        """Drop the cached token if it is still the rejected one (another process may have renewed it)."""
        with self._cache.transact():
            current = self.token()
            if current is not None and current.access_token == access_token:
                self._cache.delete(_TOKEN)

    def locked_until(self) -> float:
        return float(self._cache.get(_LOCKED_UNTIL, 0.0))

    def lock(self, until: float) -> None:
        with self._cache.transact():
            if until > self.locked_until():
                self._cache.set(_LOCKED_UNTIL, until)

    def take_slot(self, name: str, now: float, window: float, limit: int) -> float:
        """Record one event in `name`'s sliding window if fewer than `limit` are in it.

        Returns 0.0 when recorded, else how many seconds until a slot frees up.
        """
        key = f"window:{name}"
        with self._cache.transact():
            recent = [t for t in self._cache.get(key, []) if t > now - window]
            if len(recent) >= limit:
                return recent[-limit] + window - now
            recent.append(now)
            self._cache.set(key, recent)
            return 0.0

    def try_refresh_mutex(self, owner: str, hold_seconds: float) -> bool:
        """Claim the right to refresh the token; the claim expires by itself if its owner dies."""
        return bool(self._cache.add(_REFRESH_MUTEX, owner, expire=hold_seconds))

    def release_refresh_mutex(self, owner: str) -> None:
        with self._cache.transact():
            if self._cache.get(_REFRESH_MUTEX) == owner:
                self._cache.delete(_REFRESH_MUTEX)
