"""How long a module menu's options request takes to answer as the catalog grows.

    .venv/bin/python -m bench.menus

Slack waits 3 seconds for the options of an external select, and asks again at every
keystroke; the answer is computed on the event loop from the catalog alone. Prints the
median time of `suggest` (and of building the options) for catalogs of 200 to 5,000
modules, for a few typed texts, and how many options each answer held.
"""

from __future__ import annotations

import statistics
import time

from bench.bad_input import catalog
from bot.features.forms.render import MAX_OPTIONS, module_options
from bot.sessions.matching import suggest

COURSES = (10, 50, 250)
"""large_org's course counts: 20 modules each, so 200, 1,000 and 5,000 modules."""
TYPED = ("", "mod", "Module 07.2.05", "modul 07.2 05", "course 03")
ROUNDS = 5


def main() -> None:
    print(f"suggest() + module_options(), median of {ROUNDS} (ms), options in the answer:")
    for courses in COURSES:
        modules = catalog(courses)
        cells = []
        for typed in TYPED:
            times, count = [], 0
            for _ in range(ROUNDS):
                started = time.perf_counter()
                count = len(module_options(suggest(typed, modules, MAX_OPTIONS)))
                times.append((time.perf_counter() - started) * 1000)
            cells.append(f"{typed or '(nothing)'!r}: {statistics.median(times):.1f} ms, {count}")
        print(f"{len(modules)} modules | " + " | ".join(cells))


if __name__ == "__main__":
    main()
