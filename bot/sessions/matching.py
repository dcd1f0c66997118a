"""Turning what a person typed into one module: pure functions over the known modules.

Exact names and aliases win; then fuzzy matching forgives typos ("onbaording").
Several equally good candidates are an ambiguous answer listing them; no good
candidate is a not-found answer naming the three nearest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

FUZZY_ACCEPT = 85.0
"""Score (0-100) from which a fuzzy match counts as meant."""
FUZZY_TIE = 4.0
"""Candidates this close to the best are equally likely: the answer is ambiguous."""
TRIPLET = re.compile(r"^\s*([\w-]+)/([\w-]+)/([\w-]+)\s*$")


@dataclass(frozen=True)
class ModuleRef:
    """Where a module lives in Zoho, and the names people know it by."""

    course_id: str
    batch_id: str
    module_id: str
    name: str = ""
    course_name: str = ""
    batch_name: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.course_id}/{self.batch_id}/{self.module_id}"

    @property
    def title(self) -> str:
        return self.name or f"Module {self.module_id}"

    @property
    def path(self) -> str:
        """ "Course › Batch › Module", how candidates are told apart."""
        parts = [self.course_name, self.batch_name, self.title]
        return " › ".join(part for part in parts if part)


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


def normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def parse_triplet(query: str) -> ModuleRef | None:
    """`course/batch/module` ids, accepted as they are."""
    match = TRIPLET.match(query)
    if match is None:
        return None
    return ModuleRef(*match.groups())


def resolve(query: str, modules: Sequence[ModuleRef], limit: int = 3) -> Resolution:
    """Which of `modules` the person meant by `query`."""
    triplet = parse_triplet(query)
    if triplet is not None:
        known = next((m for m in modules if m.key == triplet.key), None)
        return Found(known or triplet)
    wanted = normalise(query)
    unique = _unique(modules)
    exact = [m for m in unique if wanted in _exact_names(m)]
    if exact:
        return Found(exact[0]) if len(exact) == 1 else Ambiguous(query, tuple(exact[:10]))
    course_wide = [m for m in unique if normalise(m.course_name) == wanted]
    if course_wide:
        return Found(course_wide[0]) if len(course_wide) == 1 else Ambiguous(query, tuple(course_wide[:10]))
    scored = sorted(((_score(wanted, m), m) for m in unique), key=lambda pair: -pair[0])
    if not scored:
        return NotFound(query, ())
    best = scored[0][0]
    if best >= FUZZY_ACCEPT:
        close = [m for score, m in scored if score >= best - FUZZY_TIE]
        return Found(close[0]) if len(close) == 1 else Ambiguous(query, tuple(close[:10]))
    return NotFound(query, tuple(m for _, m in scored[:limit]))


def _unique(modules: Sequence[ModuleRef]) -> list[ModuleRef]:
    seen: dict[str, ModuleRef] = {}
    for module in modules:
        seen.setdefault(module.key, module)
    return list(seen.values())


def _exact_names(module: ModuleRef) -> set[str]:
    return {normalise(name) for name in (module.name, *module.aliases) if name}


def _score(wanted: str, module: ModuleRef) -> float:
    names = [*_exact_names(module), normalise(f"{module.course_name} {module.name}")]
    return max(fuzz.WRatio(wanted, name) for name in names if name)
