"""Requests per calendar address, limited in this process.

A calendar client looks again every hour or so; a feed asked for many times a
minute is a misbehaving client or a leaked address, and each request reads the
store. The limit protects this process and its database, not an allowance of
the organisation (as Zoho's budget is), so it need not be shared between
instances: each keeps its own buckets, bounded in number, and with N instances a
token gets at most N times the rate.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from bot.clock import Clock

BURST = 10
"""Requests a token may make at once."""
EVERY_SECONDS = 60.0
"""One more request allowed per this many seconds."""
MAX_TOKENS = 10_000
"""Buckets kept; the least recently used goes first."""


class RateLimiter:
    def __init__(self, clock: Clock, burst: int = BURST, every: float = EVERY_SECONDS) -> None:
        self._clock = clock
        self._burst = burst
        self._every = every
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        """Per key: requests left, and when that was counted."""

    def wait(self, key: str) -> int:
        """Take one request for `key`: 0 when allowed, else whole seconds until one is."""
        now = self._clock.time()
        left, at = self._buckets.pop(key, (float(self._burst), now))
        left = min(float(self._burst), left + (now - at) / self._every)
        allowed = left >= 1.0
        self._buckets[key] = (left - 1.0 if allowed else left, now)
        if len(self._buckets) > MAX_TOKENS:
            self._buckets.popitem(last=False)
        return 0 if allowed else max(1, math.ceil((1.0 - left) * self._every))
