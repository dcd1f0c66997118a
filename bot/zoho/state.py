"""Zoho's bookkeeping that every instance shares: the access token, the lock, the calls made.

Built on a `Coordination` backend (one machine: diskcache; several: the shared
PostgreSQL database), so a restart reuses the token, one refresh serves every
instance, and no two instances spend the same minute's or day's calls twice.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.coordination import Coordination, CoordinationError, Limits
from bot.secrets import Secrets, WrongSecretKey, is_sealed
from bot.zoho.errors import ZohoUnavailableError

_TOKEN = "zoho:token"
_LOCKED_UNTIL = "zoho:locked-until"
_REFRESH_MUTEX = "zoho:refresh-mutex"
LMS_CALLS = "zoho:lms"
TOKEN_REQUESTS = "zoho:token-requests"


@dataclass(frozen=True)
class CachedToken:
    access_token: str
    expires_at: float


class ZohoState:
    """Every method is one short exchange with the backend and never calls Zoho."""

    def __init__(
        self,
        coordination: Coordination,
        secrets: Secrets | None = None,
        organisation: Coordination | None = None,
    ) -> None:
        """`coordination` keeps what is the connection's own (its access token, the right to renew
        it, its token requests); `organisation` what Zoho counts per organisation (the LMS calls
        and the lock), which two connections to one organisation share (`coordination` when not
        given). With `secrets` (BOT_SECRET_KEY) the cached access token is sealed before it is
        shared, so neither the data folder nor the database holds it in clear."""
        self._coordination = coordination
        self._organisation = organisation or coordination
        self._secrets = secrets

    async def token(self, now: float) -> CachedToken | None:
        with _reachable():
            raw = await self._coordination.get(_TOKEN, now)
        token = self._unsealed(raw)
        if token is not None and raw is not None and self._secrets is not None and not is_sealed(raw):
            await self.store_token(token)  # kept in clear before the key was set: seal it now
        return token

    async def store_token(self, token: CachedToken) -> None:
        value = json.dumps({"access_token": token.access_token, "expires_at": token.expires_at})
        if self._secrets is not None:
            value = self._secrets.seal(value)
        with _reachable():
            await self._coordination.put(_TOKEN, value, expires_at=token.expires_at)

    async def forget_token(self, access_token: str, now: float) -> None:
        """Drop the cached token if it is still the rejected one (another instance may have renewed it)."""
        with _reachable():
            raw = await self._coordination.get(_TOKEN, now)
        token = self._unsealed(raw)
        if raw is not None and (token is None or token.access_token == access_token):
            with _reachable():
                await self._coordination.delete(_TOKEN, raw)

    def _unsealed(self, raw: str | None) -> CachedToken | None:
        """The cached token; None when there is none, or it was sealed with a key no longer set
        (a new one is then asked for)."""
        if raw is None:
            return None
        if is_sealed(raw):
            if self._secrets is None:
                return None
            try:
                raw = self._secrets.open(raw)
            except WrongSecretKey:
                return None
        data = json.loads(raw)
        return CachedToken(str(data["access_token"]), float(data["expires_at"]))

    async def locked_until(self, now: float) -> float:
        with _reachable():
            raw = await self._organisation.get(_LOCKED_UNTIL, now)
        return float(raw) if raw else 0.0

    def known_lock(self, now: float) -> float:
        """The lock's end as last seen, without I/O: for answers that may not wait on the database."""
        raw = self._organisation.peek(_LOCKED_UNTIL, now)
        return float(raw) if raw else 0.0

    async def lock(self, until: float, now: float) -> None:
        """Zoho locked the API: every instance holds its calls until `until` (a later lock extends it)."""
        if until > await self.locked_until(now):
            with _reachable():
                await self._organisation.put(_LOCKED_UNTIL, repr(until), expires_at=until)

    async def take_slot(self, name: str, now: float, limits: Limits) -> tuple[float, float]:
        with _reachable():
            backend = self._organisation if name == LMS_CALLS else self._coordination
            return await backend.take_slot(name, now, limits)

    async def usage(self, now: float, windows: Sequence[float]) -> tuple[list[int], float]:
        """The calls every instance made in each of the last `windows` seconds, and until when
        Zoho's lock lasts (0.0: none), in one exchange with the backend."""
        since = [now - window for window in windows]
        with _reachable():
            counts, raw = await self._organisation.tally(LMS_CALLS, since, _LOCKED_UNTIL, now)
        return counts, float(raw) if raw else 0.0

    async def try_refresh_mutex(self, owner: str, now: float, hold_seconds: float) -> bool:
        """Claim the right to refresh the token; the claim lapses by itself if its owner dies."""
        with _reachable():
            return await self._coordination.add(_REFRESH_MUTEX, owner, now, now + hold_seconds)

    async def release_refresh_mutex(self, owner: str) -> None:
        with _reachable():
            await self._coordination.delete(_REFRESH_MUTEX, owner)


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """The shared state is on the way to every Zoho call: its failure is Zoho being unavailable."""
    try:
        yield
    except CoordinationError as exc:
        raise ZohoUnavailableError(
            "The bot could not reach its shared database to coordinate Zoho calls; try again shortly."
        ) from exc
