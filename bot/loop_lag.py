"""How late the event loop is: a wake-up asked for every `INTERVAL_SECONDS`, its lateness observed.

Everything the bot does runs on one event loop, so work that holds it (matching, parsing,
rendering) makes every other request, send and tick wait that long. `LoopLag` sleeps
`INTERVAL_SECONDS` at a time on the loop and observes how much later than asked it woke into
`sessions_bot_event_loop_lag_seconds`, keeping the worst exactly; one wake-up costs a few
microseconds. `LagFigures` reads that histogram back from `/metrics` text, for the benchmarks:
how many wake-ups, and the bucket holding their 99th percentile and their maximum.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass

from prometheus_client import Histogram
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics

INTERVAL_SECONDS = 0.05
LAG_METRIC = "sessions_bot_event_loop_lag_seconds"


class LoopLag:
    """A task on the running loop that wakes every `interval` seconds and observes its lateness."""

    def __init__(
        self, histogram: Histogram = metrics.EVENT_LOOP_LAG, interval: float = INTERVAL_SECONDS
    ) -> None:
        self._histogram = histogram
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self.worst = 0.0
        """The latest wake-up since `start`, in seconds (exact, where the histogram has buckets)."""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="event loop lag")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self._interval
            await asyncio.sleep(self._interval)
            late = max(0.0, loop.time() - due)  # the loop may wake within its clock's resolution early
            self._histogram.observe(late)
            self.worst = max(self.worst, late)


@dataclass(frozen=True)
class LagFigures:
    """The lag histogram as scraped: cumulative wake-up counts by bucket upper bound, ascending
    and ending with +Inf."""

    buckets: tuple[tuple[float, float], ...]

    @classmethod
    def read(cls, exposition: str) -> LagFigures:
        """The histogram in a `/metrics` body; no buckets when it holds none."""
        buckets = [
            (float(sample.labels["le"]), sample.value)
            for family in text_string_to_metric_families(exposition)
            if family.name == LAG_METRIC
            for sample in family.samples
            if sample.name == f"{LAG_METRIC}_bucket"
        ]
        return cls(tuple(sorted(buckets)))

    def since(self, before: LagFigures) -> LagFigures:
        """The wake-ups observed after `before` was read."""
        earlier = dict(before.buckets)
        return LagFigures(tuple((bound, count - earlier.get(bound, 0.0)) for bound, count in self.buckets))

    @property
    def count(self) -> int:
        return int(self.buckets[-1][1]) if self.buckets else 0

    def at_most(self, share: float) -> float:
        """The upper bound of the bucket holding the wake-up at `share` (0-1) of them, in seconds:
        that share of wake-ups came at most this late (+Inf past the last bound; 0 with none)."""
        needed = math.ceil(share * self.count)
        if needed == 0:
            return 0.0
        return next(bound for bound, count in self.buckets if count >= needed)

    @property
    def p99(self) -> float:
        return self.at_most(0.99)

    @property
    def max(self) -> float:
        """The upper bound of the latest wake-up's bucket."""
        return self.at_most(1.0)
