"""Turning what a person typed into one module: rules over the known modules, prepared once.

Exact names and aliases win; then fuzzy matching forgives typos ("onbaording").
Several equally good candidates are an ambiguous answer listing them; no good
candidate is a not-found answer naming the three nearest.

Menus ask on every keystroke and every answer is computed on the event loop, so a
`MatchIndex` folds the modules' names once (the catalog keeps one per version of its
modules) and scores them with rapidfuzz's batch scorer in C rather than module by module
in Python. Its answers are those of scoring each module in turn with `fuzz.WRatio`, ties
included: see `MatchIndex`.
"""

from __future__ import annotations

import heapq
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

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
AMBIGUOUS_SHOWN = 10
"""Candidates an ambiguous answer lists, best first."""
CONTAINS_SCORE = 100.0
"""A menu's score for a module whose name, alias, course or path contains what was typed."""
EXACT_SCORE = 101.0
"""A menu's score for a module whose name or alias is exactly what was typed: before the
modules whose names merely contain it."""
_JOIN = "\n"
"""Joins a module's folded names into one text searched for what was typed: `normalise` leaves
no line break in a name nor in what was typed, so a match never spans two names."""

_SLACK = 0.001
"""How far below a cutoff rapidfuzz is asked to score: it rounds cutoffs to lower precision
(a text scoring 59.99999999999999 is dropped at that cutoff, kept at 59.999998), so it is asked
for a little more and the scores it returns, exact, are compared here."""

_FIRST = 64
"""How many more of a menu's best-scoring names are fetched first than the places to fill:
rapidfuzz then builds and sorts a few hundred results, not thousands; when they are not
enough, all are fetched."""

SLICE_WORK = 60_000
"""Characters typed times texts scored in one call into rapidfuzz (a few milliseconds of C that
holds the interpreter): a long typed text is scored against fewer texts at a time."""

_SCORER = fuzz.WRatio
_Scored = list[tuple[str, float, int]]
"""What `process.extract` returns: (text, score, the text's index), best first."""


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
    """Which of `modules` the person meant by `query` (see `MatchIndex.resolve`).

    Folds every name for this one answer; what answers many (the catalog) keeps a `MatchIndex`.
    """
    return MatchIndex(modules).resolve(query, limit)


def suggest(query: str, modules: Sequence[ModuleRef], limit: int) -> list[ModuleRef]:
    """The modules worth offering for what a person has typed so far (see `MatchIndex.suggest`).

    Folds every name for this one answer; what answers many (the catalog) keeps a `MatchIndex`.
    """
    return MatchIndex(modules).suggest(query, limit)


class MatchIndex:
    """The known modules with their names folded once, scored in C against what people type.

    A module's fuzzy score is the best `fuzz.WRatio` of what was typed against its own names
    (name, aliases, "course name") or its course's name. Each distinct folded text is scored
    once per answer (a course's name is shared by all its modules), with a cutoff below which
    no score can change the answer. Ties keep the order a stable sort of the modules gives:
    `resolve`'s in the order the modules came (the first of a key is kept), `suggest`'s by path.
    A module without any name (no name, alias or course name) scores 0 instead of failing the
    answer.
    """

    def __init__(self, modules: Iterable[ModuleRef]) -> None:
        by_key: dict[str, ModuleRef] = {}
        for module in modules:
            by_key.setdefault(module.key, module)
        self._by_key = by_key
        self._modules = list(by_key.values())
        folded: dict[str, str] = {}

        def fold(text: str) -> str:
            """`normalise`, once per distinct text: a course's name is on all its modules."""
            if text not in folded:
                folded[text] = normalise(text)
            return folded[text]

        self._exact_at: dict[str, list[int]] = {}
        """Folded name or alias (of a non-empty one) -> the modules named so, by position."""
        self._course_at: dict[str, list[int]] = {}
        """Folded course name, empty for none -> its modules."""
        own_at: dict[str, list[int]] = {}
        course_at: dict[str, list[int]] = {}
        names: list[list[str]] = []
        for at, module in enumerate(self._modules):
            exact = {fold(name) for name in (module.name, *module.aliases) if name}
            course = fold(module.course_name)
            own = {name for name in exact if name}
            own.add(normalise(f"{module.course_name} {module.name}"))
            own.discard("")
            for name in exact:
                self._exact_at.setdefault(name, []).append(at)
            self._course_at.setdefault(course, []).append(at)
            for name in own:
                own_at.setdefault(name, []).append(at)
            if course:
                course_at.setdefault(course, []).append(at)
            names.append([*exact, course])
        self._own_texts = list(own_at)
        self._own_owners = list(own_at.values())
        self._course_texts = list(course_at)
        self._course_owners = list(course_at.values())
        numbers = {course: number for number, course in enumerate(self._course_texts)}
        self._course_of = [numbers.get(fold(module.course_name), -1) for module in self._modules]
        """Each module's course, by its index in `_course_texts`; -1 when it has none."""

        paths = [fold(module.path) for module in self._modules]
        order = sorted(range(len(self._modules)), key=paths.__getitem__)
        self._by_path = [self._modules[at] for at in order]
        rank = [0] * len(order)
        for place, at in enumerate(order):
            rank[at] = place
        self._path_rank = rank
        """Each module's place in `_by_path`."""
        self._haystacks = [_JOIN.join([*names[at], paths[at]]) for at in order]
        """By path, each module's names, course and path: what a menu's text is looked for in."""
        fuzzy_at: dict[str, set[int]] = {}
        for texts in (own_at, course_at):
            for text, ats in texts.items():
                fuzzy_at.setdefault(text, set()).update(rank[at] for at in ats)
        self._fuzzy_texts = list(fuzzy_at)
        self._fuzzy_owners = [sorted(places) for places in fuzzy_at.values()]
        """By text, the modules (places in `_by_path`) it is an own or course name of."""
        self._fuzzy_count = [0] * len(order)
        """By place in `_by_path`, how many of those texts are the module's."""
        for places in self._fuzzy_owners:
            for place in places:
                self._fuzzy_count[place] += 1

    def resolve(self, query: str, limit: int = 3) -> Resolution:
        """Which module the person meant by `query`.

        Tiers, first hit wins: exact module name or alias; exact course name; a close
        module name or alias; a close course name (every module of the course). Only
        then is it not found, with the `limit` nearest.
        """
        query = query[:MAX_QUERY_CHARS]
        typed = ModuleId.parse(query)
        if typed is not None:
            return Found(self._by_key.get(typed.key) or ModuleRef.named(typed, ""))
        if not self._modules:
            return NotFound(query, ())
        wanted = normalise(query)
        for exact in (self._exact_at.get(wanted), self._course_at.get(wanted)):
            if exact:
                return self._answer(query, exact)
        # Courses first (fewer texts: a course's name is shared by its modules): the `count`-th
        # best course score is a floor the nearest modules reach, and own names scoring less
        # change nothing. So the own names are scored once, down to that floor or to what a
        # close name needs, whichever is lower, for a close name and the nearest alike.
        courses = _scored(wanted, self._course_texts, None)
        by_course = [0.0] * len(self._course_texts)
        for _, score, text in courses:
            by_course[text] = score
        floors = [by_course[course] if course >= 0 else 0.0 for course in self._course_of]
        count = len(floors) if limit < 0 else min(limit, len(floors))
        floor = heapq.nlargest(count, floors)[-1] if count else FUZZY_ACCEPT - FUZZY_TIE
        own = _scored(wanted, self._own_texts, min(floor, FUZZY_ACCEPT - FUZZY_TIE))
        found = self._close(query, own, self._own_owners) or self._close(query, courses, self._course_owners)
        if found is not None:
            return found
        scores = floors.copy()
        for _, score, text in own:
            for at in self._own_owners[text]:
                if score > scores[at]:
                    scores[at] = score
        nearest = heapq.nlargest(count, range(len(scores)), key=scores.__getitem__)
        return NotFound(query, tuple(self._modules[at] for at in nearest)[:limit])

    def suggest(self, query: str, limit: int) -> list[ModuleRef]:
        """The modules worth offering for what a person has typed so far, best first.

        Every module by path when nothing is typed; else the same names, aliases and course
        names as `resolve`, where a name (or path) containing the text counts as exact, an exact
        name or alias comes first, and typos scoring `SUGGEST_MIN` are forgiven.
        """
        wanted = normalise(query[:MAX_QUERY_CHARS])
        if not wanted:
            return self._by_path[:limit]
        scores = {place: CONTAINS_SCORE for place, hay in enumerate(self._haystacks) if wanted in hay}
        for at in self._exact_at.get(wanted, ()):
            scores[self._path_rank[at]] = EXACT_SCORE
        count = len(self._by_path) if limit < 0 else min(limit, len(self._by_path))
        if count:
            # Typos only compete with the modules containing the text for the places left, or
            # tie with them at 100.
            cutoff = CONTAINS_SCORE if len(scores) >= count else SUGGEST_MIN
            scores.update(self._best_fuzzy(wanted, cutoff, count, scores))
        ranked = heapq.nlargest(count, sorted(scores), key=scores.__getitem__)
        return [self._by_path[place] for place in ranked][:limit]

    def _answer(self, query: str, modules: list[int]) -> Resolution:
        """One module found, or the first of several listed as an ambiguous answer."""
        if len(modules) == 1:
            return Found(self._modules[modules[0]])
        return Ambiguous(query, tuple(self._modules[at] for at in modules[:AMBIGUOUS_SHOWN]))

    def _close(self, query: str, scored: _Scored, owners: list[list[int]]) -> Resolution | None:
        """The modules scoring within FUZZY_TIE of the best, if the best is good enough.

        `scored` holds, best first, every text scoring within FUZZY_TIE of the best, so a
        module's first score is its own.
        """
        if not scored or scored[0][1] < FUZZY_ACCEPT:
            return None
        floor = scored[0][1] - FUZZY_TIE
        scores: dict[int, float] = {}
        for _, score, text in scored:
            if score < floor:
                break
            for at in owners[text]:
                scores.setdefault(at, score)
        return self._answer(query, sorted(scores, key=lambda at: (-scores[at], at)))

    def _best_fuzzy(
        self, wanted: str, cutoff: float, count: int, taken: dict[int, float]
    ) -> dict[int, float]:
        """The `count` best typo matches (places in `_by_path` -> score) of the modules not
        `taken` already, and any tying with the last of them."""
        # Enough for `count` modules, with room for the names of modules taken already (they
        # come first when their names also score well) and for second-best names.
        first = 2 * count + _FIRST + sum(self._fuzzy_count[place] for place in taken)
        scored = _scored(wanted, self._fuzzy_texts, cutoff, first)
        found, complete = self._walk(scored, cutoff, count, taken)
        if not complete and len(scored) == first:
            found, _ = self._walk(_scored(wanted, self._fuzzy_texts, cutoff), cutoff, count, taken)
        return found

    def _walk(
        self, scored: _Scored, cutoff: float, count: int, taken: dict[int, float]
    ) -> tuple[dict[int, float], bool]:
        """`_best_fuzzy` over `scored`, texts best first; and whether they were enough: a text
        scoring under `cutoff`, or under the `count`-th module found, was met, so no text left
        out could change the answer."""
        found: dict[int, float] = {}
        last = -1.0
        for _, score, text in scored:
            if score < cutoff or (len(found) >= count and score < last):
                return found, True
            for place in self._fuzzy_owners[text]:
                if place not in taken and place not in found:
                    found[place] = score
                    if len(found) == count:
                        last = score
        return found, False


def _scored(wanted: str, texts: list[str], cutoff: float | None, first: int | None = None) -> _Scored:
    """The texts scoring at least `cutoff` (any score for None) against `wanted`, best first, ties
    in the texts' order (the `first` best only, if given); the texts are folded already. A few just
    under `cutoff` may come too (see `_SLACK`).

    Scored by rapidfuzz's C code a slice at a time (see `SLICE_WORK`), so that between slices a
    thread running this lets others, the event loop's above all, have the interpreter."""
    low = None if cutoff is None else max(0.0, cutoff - _SLACK)
    size = max(1, SLICE_WORK // max(1, len(wanted)))
    found: _Scored = []
    for start in range(0, len(texts), size):
        part = texts[start : start + size]
        best = process.extract(wanted, part, scorer=_SCORER, processor=None, limit=first, score_cutoff=low)
        found += [(text, score, start + at) for text, score, at in best]
    if len(texts) > size:  # one slice is in order already
        found.sort(key=lambda scored: (-scored[1], scored[2]))
    return found[:first]
