"""How long matching a typed module name takes as the text grows, against a 200-module catalog.

    .venv/bin/python -m bench.bad_input

Matching runs on the event loop, so whatever it takes, every other request waits
for. Prints the time `resolve` takes for texts of 100 characters to 200,000
(median of 5), and the share of them answered "not found".
"""

from __future__ import annotations

import statistics
import time
from datetime import date

from bot.sessions.matching import NotFound, resolve
from bot.sessions.modules import ModuleRef
from tests.fakes.zoho_data import large_org

SIZES = (100, 1_000, 10_000, 100_000, 200_000)
ROUNDS = 5


def catalog(courses: int = 10) -> list[ModuleRef]:
    """large_org's modules (20 a course), as the catalog holds them; no sessions are needed."""
    org = large_org(date(2026, 3, 10), courses=courses, sessions_per_batch=(0, 0))
    return [
        ModuleRef(c.course_id, b.batch_id, m.module_id, m.name, c.name, b.name)
        for c in org.courses
        for b in c.batches
        for m in b.modules
    ]


def main() -> None:
    modules = catalog()
    print(f"resolve() against {len(modules)} modules, median of {ROUNDS}:")
    for size in SIZES:
        text = ("onboarding safety " * (size // 18 + 1))[:size]
        times, missed = [], 0
        for _ in range(ROUNDS):
            started = time.perf_counter()
            missed += isinstance(resolve(text, modules), NotFound)
            times.append(time.perf_counter() - started)
        median = statistics.median(times) * 1000
        print(f"  {size:>7} characters  {median:8.1f} ms  not found {missed}/{ROUNDS}")


if __name__ == "__main__":
    main()
