"""How long matching a typed module name takes as the text and the catalog grow: before and after.

    .venv/bin/python -m bench.bad_input                 # before = BEFORE, read from git
    .venv/bin/python -m bench.bad_input --before REV    # the matching code of another commit

Matching runs on the event loop, so whatever it takes, every other request waits for. Prints
the median time (of 5) of `resolve` for texts of 100 characters to 200,000 and for a few
ordinary names, against catalogs of 200, 1,000 and 5,000 modules, and whether each answer was
the same. "Before" is bot/sessions/matching.py of the `--before` commit, loaded from git into
this process: `resolve(text, modules)`, as the catalog called it. "After" is the catalog's way
now: one `MatchIndex` of the modules, prepared once per version of the catalog (its build
time is printed too, paid by the first answer after a walk), then `index.resolve(text)`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.sessions.matching import MatchIndex, NotFound, Resolution
from bot.sessions.modules import ModuleRef
from tests.fakes.zoho_data import large_org

BEFORE = "d36f95c072126a194606dde1ee16fc29caa421a4"
"""The last commit whose matching scored module by module in Python."""
COURSES = (10, 50, 250)
"""large_org's course counts: 20 modules each, so 200, 1,000 and 5,000 modules."""
SIZES = (100, 1_000, 10_000, 100_000, 200_000)
NAMES = ("Module 07.2.05", "modul 07.2 05", "course 03", "quantum basket weaving")
"""An exact name, a typo, a course's exact name, and a name of nothing."""
ROUNDS = 5
ROOT = Path(__file__).resolve().parents[1]


def catalog(courses: int = 10) -> list[ModuleRef]:
    """large_org's modules (20 a course), as the catalog holds them; no sessions are needed."""
    org = large_org(date(2026, 3, 10), courses=courses, sessions_per_batch=(0, 0))
    return [
        ModuleRef(c.course_id, b.batch_id, m.module_id, m.name, c.name, b.name)
        for c in org.courses
        for b in c.batches
        for m in b.modules
    ]


def before_matching(rev: str) -> ModuleType | None:
    """bot/sessions/matching.py as it was at `rev`, imported under another name, so the old and
    the new code run in one process on the same machine; None without git or that commit."""
    try:
        source = subprocess.run(
            ["git", "show", f"{rev}:bot/sessions/matching.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    name = "bench._matching_before"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{rev[:7]}:bot/sessions/matching.py", "exec"), module.__dict__)
    return module


def median_ms(rounds: int, run: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """The median wall time of `rounds` calls of `run(*args)`, in milliseconds, and its answer."""
    times, answer = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        answer = run(*args)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), answer


def plain(resolution: Resolution) -> tuple[str, tuple[Any, ...]]:
    """An answer as plain data, so answers of the old module's classes compare with the new."""
    return type(resolution).__name__, dataclasses.astuple(resolution)


def revision(rev: str) -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return rev[:7]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bad_input")
    parser.add_argument("--before", default=BEFORE, help="commit of the matching code to compare with")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    old = before_matching(args.before)
    label = f"before ({revision(args.before)})" if old else "before (not available)"
    print(f"resolve(), median of {args.rounds} (ms): {label} | after (prepared index) | answers")
    differ = 0
    for courses in COURSES:
        modules = catalog(courses)
        started = time.perf_counter()
        index = MatchIndex(modules)
        build = (time.perf_counter() - started) * 1000
        print(f"{len(modules)} modules (index built in {build:.1f} ms):")
        texts = [(f"{size} characters", ("onboarding safety " * (size // 18 + 1))[:size]) for size in SIZES]
        for label, text in [*texts, *((repr(name), name) for name in NAMES)]:
            after, answer = median_ms(args.rounds, index.resolve, text)
            cells = [f"  {label:>24}", f"after {after:8.3f}"]
            if old is not None:
                before, was = median_ms(args.rounds, old.resolve, text, modules)
                same = plain(was) == plain(answer)
                differ += not same
                cells.insert(1, f"before {before:8.1f}")
                cells.append("same" if same else "DIFFERENT")
            kind = "not found" if isinstance(answer, NotFound) else type(answer).__name__.lower()
            print(" | ".join([*cells, kind]))
    if old is not None:
        print("every answer the same" if not differ else f"{differ} answers DIFFERENT")


if __name__ == "__main__":
    main()
