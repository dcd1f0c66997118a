"""Turning what a person typed into one module: pure functions over the known modules.

Exact names and aliases win; then fuzzy matching forgives typos ("onbaording").
Several equally good candidates are an ambiguous answer listing them; no good
candidate is a not-found answer naming the three nearest.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.sessions.modules import ModuleId, ModuleRef

FUZZY_ACCEPT = 85.0
"""Score (0-100) from which a fuzzy match counts as meant."""
FUZZY_TIE = 4.0
"""Candidates this close to the best are equally likely: the answer is ambiguous."""
SUGGEST_MIN = 60.0
"""Score from which a module is offered while a person types its name in a menu."""
MAX_QUERY_CHARS = 300
"""What is matched of a typed name: fuzzy matching costs time in proportion to its length, and
no module is named with more (the store keeps names to this length too)."""


@dataclass(frozen=True)
class Found:
    module: ModuleRef


@dataclass(frozen=True)
class Ambiguous:
    query: str
    candidates: tuple[ModuleRef, ...]


@dataclass(frozen=True)
class NotFound:
    query: str
    nearest: tuple[ModuleRef, ...]


Resolution = Found | Ambiguous | NotFound


class _Marks(dict[int, int | None]):
    """For `str.translate`: a combining mark's code point -> None (dropped), any other's -> itself.

    Filled as code points are met, so dropping accents is one pass in C instead of a test a
    character in Python; past `MAX_MARKS` entries (text made of most of Unicode) it stops growing.
    """

    MAX_MARKS = 65_536

    def __missing__(self, point: int) -> int | None:
        kept = None if unicodedata.combining(chr(point)) else point
        if len(self) < self.MAX_MARKS:
            self[point] = kept
        return kept


_MARKS = _Marks()


def normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name."""
    if text.isascii():
        # Most names: NFKD leaves ASCII as it is and finds no accent to drop, so skip both.
        return " ".join(text.casefold().split())
    bare = unicodedata.normalize("NFKD", text).translate(_MARKS)
    return " ".join(bare.casefold().split())


def resolve(query: str, modules: Sequence[ModuleRef], limit: int = 3) -> Resolution:
    """Which of `modules` the person meant by `query`.

    Tiers, first hit wins: exact module name or alias; exact course name; a close
    module name or alias; a close course name (every module of the course). Only
    then is it not found, with the nearest names.
    """
    query = query[:MAX_QUERY_CHARS]
    typed = ModuleId.parse(query)
    if typed is not None:
        known = next((m for m in modules if m.key == typed.key), None)
        return Found(known or ModuleRef.named(typed, ""))
    wanted = normalise(query)
    unique = _unique(modules)
    if not unique:
        return NotFound(query, ())
    for matches in (
        lambda m: 100.0 if wanted in _exact_names(m) else 0.0,
        lambda m: 100.0 if normalise(m.course_name) == wanted else 0.0,
        lambda m: _own_score(wanted, m),
        lambda m: _course_score(wanted, m),
    ):
        found = _best(query, unique, matches)
        if found is not None:
            return found
    nearest = sorted(unique, key=lambda m: -max(_own_score(wanted, m), _course_score(wanted, m)))
    return NotFound(query, tuple(nearest[:limit]))


def suggest(query: str, modules: Sequence[ModuleRef], limit: int) -> list[ModuleRef]:
    """The modules worth offering for what a person has typed so far, best first.

    Every module when nothing is typed; else the same names, aliases and course names as
    `resolve`, where a name containing the text counts as exact and typos are forgiven.
    """
    unique = sorted(_unique(modules), key=lambda m: normalise(m.path))
    wanted = normalise(query[:MAX_QUERY_CHARS])
    if not wanted:
        return unique[:limit]
    scored = [(_suggest_score(wanted, m), m) for m in unique]
    ranked = sorted((pair for pair in scored if pair[0] >= SUGGEST_MIN), key=lambda pair: -pair[0])
    return [module for _, module in ranked[:limit]]


def _suggest_score(wanted: str, module: ModuleRef) -> float:
    names = [*_exact_names(module), normalise(module.course_name), normalise(module.path)]
    if any(wanted in name for name in names if name):
        return 100.0 + (1.0 if wanted in _exact_names(module) else 0.0)
    return max(_own_score(wanted, module), _course_score(wanted, module))


def _best(query: str, modules: list[ModuleRef], score: Callable[[ModuleRef], float]) -> Resolution | None:
    """The modules scoring within FUZZY_TIE of the best, if the best is good enough."""
    scored = sorted(((score(m), m) for m in modules), key=lambda pair: -pair[0])
    best = scored[0][0]
    if best < FUZZY_ACCEPT:
        return None
    close = [m for value, m in scored if value >= best - FUZZY_TIE]
    return Found(close[0]) if len(close) == 1 else Ambiguous(query, tuple(close[:10]))


def _unique(modules: Sequence[ModuleRef]) -> list[ModuleRef]:
    seen: dict[str, ModuleRef] = {}
    for module in modules:
        seen.setdefault(module.key, module)
    return list(seen.values())


def _exact_names(module: ModuleRef) -> set[str]:
    return {normalise(name) for name in (module.name, *module.aliases) if name}


def _own_score(wanted: str, module: ModuleRef) -> float:
    names = [*_exact_names(module), normalise(f"{module.course_name} {module.name}")]
    return max(fuzz.WRatio(wanted, name) for name in names if name)


def _course_score(wanted: str, module: ModuleRef) -> float:
    course = normalise(module.course_name)
    return fuzz.WRatio(wanted, course) if course else 0.0
