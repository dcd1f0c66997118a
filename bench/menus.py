"""How long a module menu's options request takes to answer as the catalog grows: before and after.

    .venv/bin/python -m bench.menus                 # before = bench.bad_input.BEFORE, from git
    .venv/bin/python -m bench.menus --before REV    # the matching code of another commit

Slack waits 3 seconds for the options of an external select, and asks again at every
keystroke; the answer is computed on the event loop from the catalog alone. Prints the
median time of `suggest` and of building the options for catalogs of 200 to 5,000 modules,
for a few typed texts, how many options each answer held, and whether it was the same.
"Before" is `suggest(typed, modules, limit)` of the `--before` commit's matching code (loaded
from git), as the catalog called it; "after" is `index.suggest(typed, limit)` on the catalog's
`MatchIndex`, prepared once per version of the catalog (see bench.bad_input for its build time).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from bench.bad_input import BEFORE, COURSES, ROUNDS, before_matching, catalog, median_ms, revision
from bot.features.forms.render import MAX_OPTIONS, Option, module_options
from bot.sessions.matching import MatchIndex
from bot.sessions.modules import ModuleRef

TYPED = ("", "mod", "Module 07.2.05", "modul 07.2 05", "course 03")


def offered(suggest: Callable[..., Sequence[ModuleRef]], *args: Any) -> list[Option]:
    """One options request's work: the modules to offer, then their options."""
    return module_options(suggest(*args))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.menus")
    parser.add_argument("--before", default=BEFORE, help="commit of the matching code to compare with")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    old = before_matching(args.before)
    label = f"before ({revision(args.before)})" if old else "before (not available)"
    print(f"suggest() + module_options(), median of {args.rounds} (ms): {label} | after | options")
    differ = 0
    for courses in COURSES:
        modules = catalog(courses)
        index = MatchIndex(modules)
        print(f"{len(modules)} modules:")
        for typed in TYPED:
            after, options = median_ms(args.rounds, offered, index.suggest, typed, MAX_OPTIONS)
            cells = [f"  {typed or '(nothing)'!r:>18}", f"after {after:7.2f}"]
            if old is not None:
                before, were = median_ms(args.rounds, offered, old.suggest, typed, modules, MAX_OPTIONS)
                same = were == options
                differ += not same
                cells.insert(1, f"before {before:7.1f}")
                cells.append("same" if same else "DIFFERENT")
            print(" | ".join([*cells, f"{len(options)} options"]))
    if old is not None:
        print("every answer the same" if not differ else f"{differ} answers DIFFERENT")


if __name__ == "__main__":
    main()
