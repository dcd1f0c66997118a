"""What a person typed to one module: pure matching rules, no Zoho involved."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from bot.sessions import matching
from bot.sessions.matching import (
    FUZZY_ACCEPT,
    FUZZY_TIE,
    MAX_QUERY_CHARS,
    SUGGEST_MIN,
    Ambiguous,
    Found,
    MatchIndex,
    NotFound,
    Resolution,
    normalise,
    resolve,
    suggest,
)
from bot.sessions.modules import ModuleId, ModuleRef

SAFETY = ModuleRef("c1", "b1", "m1", "Sécurité au travail", "Onboarding", "Cohort A")
SECURITY = ModuleRef("c2", "b2", "m2", "Securité réseau", "IT", "All staff")
INTRO_A = ModuleRef("c1", "b1", "m2", "Introduction", "Onboarding", "Cohort A")
INTRO_B = ModuleRef("c1", "b2", "m3", "Introduction", "Onboarding", "Cohort B")
TOOLS = ModuleRef("c1", "b1", "m4", "Tools & Systems", "Onboarding", "Cohort A", aliases=("laptop setup",))
MODULES = [SAFETY, SECURITY, INTRO_A, INTRO_B, TOOLS]


def test_normalise_folds_case_accents_and_spacing() -> None:
    assert normalise("  SÉCURITÉ   au\tTravail ") == "securite au travail"
    assert normalise("Straße") == "strasse"


def test_exact_name_ignoring_accents_beats_fuzzy_neighbours() -> None:
    assert resolve("securite au travail", MODULES) == Found(SAFETY)
    assert resolve("SECURITE RESEAU", MODULES) == Found(SECURITY)


def test_alias_and_typo() -> None:
    assert resolve("Laptop Setup", MODULES) == Found(TOOLS)
    assert resolve("tools & sytems", MODULES) == Found(TOOLS)


def test_same_name_in_two_batches_is_ambiguous_with_paths() -> None:
    resolution = resolve("introduction", MODULES)
    assert isinstance(resolution, Ambiguous)
    assert [m.path for m in resolution.candidates] == [
        "Onboarding › Cohort A › Introduction",
        "Onboarding › Cohort B › Introduction",
    ]


def test_course_name_alone_lists_its_modules() -> None:
    resolution = resolve("onboarding", MODULES)
    assert isinstance(resolution, Ambiguous)
    assert {m.key for m in resolution.candidates} == {SAFETY.key, INTRO_A.key, INTRO_B.key, TOOLS.key}
    assert resolve("IT", MODULES) == Found(SECURITY)


def test_nonsense_names_three_nearest() -> None:
    resolution = resolve("quantum basket weaving", MODULES)
    assert isinstance(resolution, NotFound)
    assert len(resolution.nearest) == 3
    assert resolve("anything", []) == NotFound("anything", ())


def test_triplet_is_taken_as_ids() -> None:
    assert ModuleId.parse(" 123/b-2/m_3 ") == ModuleId("123", "b-2", "m_3")
    assert ModuleId.parse("not/a triplet/x") is None
    assert resolve("c1/b1/m1", MODULES) == Found(SAFETY), "a known triplet keeps its names"
    assert resolve("9/9/9", MODULES) == Found(ModuleRef("9", "9", "9"))


def test_titles_and_paths_without_names() -> None:
    bare = ModuleRef("1", "2", "3")
    assert bare.key == "1/2/3"
    assert bare.title == "Module 3"
    assert bare.path == "Module 3"


def test_a_typo_in_a_course_name_lists_its_modules() -> None:
    resolution = resolve("onbaording", MODULES)
    assert isinstance(resolution, Ambiguous)
    assert {m.key for m in resolution.candidates} == {m.key for m in (SAFETY, INTRO_A, INTRO_B, TOOLS)}


def test_a_close_module_name_or_alias_wins_over_a_close_course_name() -> None:
    welcome = ModuleRef(
        "c1", "b1", "m9", "Welcome day", "Onboarding", "Cohort A", aliases=("onboarding day",)
    )
    assert resolve("onbaording day", [*MODULES, welcome]) == Found(welcome)


# --------------------------------------------------------------------------- menus (suggest)


def test_suggest_offers_every_module_by_path_when_nothing_is_typed() -> None:
    assert [m.key for m in suggest("", MODULES, 100)] == [
        m.key for m in sorted(MODULES, key=lambda m: normalise(m.path))
    ]
    assert len(suggest("", MODULES, 2)) == 2


def test_suggest_takes_the_start_of_a_name_without_its_accents() -> None:
    assert set(suggest("secu", MODULES, 100)[:2]) == {SAFETY, SECURITY}
    assert suggest("sécurité au", MODULES, 100)[0] == SAFETY


def test_suggest_forgives_typos_and_knows_aliases_and_courses() -> None:
    assert suggest("tols & sistems", MODULES, 100)[0] == TOOLS
    assert suggest("laptop", MODULES, 100) == [TOOLS]
    assert set(suggest("onboarding", MODULES, 100)) == {SAFETY, INTRO_A, INTRO_B, TOOLS}


def test_suggest_leaves_out_what_matches_nothing() -> None:
    assert suggest("zzzzqqqq", MODULES, 100) == []


def test_suggest_puts_an_exact_name_first() -> None:
    modules = [*MODULES, ModuleRef("c9", "b9", "m9", "Introduction to Tools & Systems", "IT", "All staff")]
    assert suggest("tools & systems", modules, 100)[0] == TOOLS


# --------------------------------------------------------------------------- the prepared index


def test_a_score_equal_to_the_cutoff_counts() -> None:
    """rapidfuzz rounds a score cutoff to lower precision: asked for 59.99999999999999 it drops a
    name scoring exactly that. Both modules below score it (the first by its alias, the second by
    its course), so the first in order is the nearest, as when each module was scored in turn."""
    aliased = ModuleRef("c1", "b1", "m1", "o1.o", aliases=("course module tools",))
    by_course = ModuleRef("c2", "b2", "m2", "Day it", "Day safety intro")
    query = "safety module safety"
    assert fuzz.WRatio(query, "course module tools") == fuzz.WRatio(query, "day safety intro")
    assert resolve(query, [aliased, by_course], limit=1) == NotFound(query, (aliased,))
    assert resolve(query, [by_course, aliased], limit=1) == NotFound(query, (by_course,))


def test_a_menu_leaves_out_a_typo_scoring_just_under_its_threshold() -> None:
    """The index asks rapidfuzz for a little less than `SUGGEST_MIN` (see the test above) and must
    not offer what that brings back: 59.99999999999999 is under 60."""
    network = ModuleRef("c1", "b1", "m1", "Network course module")
    assert fuzz.WRatio("tools module week", "network course module") < SUGGEST_MIN
    assert fuzz.WRatio("tools module week", "network course module") > SUGGEST_MIN - 0.001
    assert suggest("tools module week", [network], 100) == []


def test_close_names_keep_the_modules_order_whichever_name_scored() -> None:
    """The first and third modules share a name; the second's scores the same: the answer lists
    them in the order the modules came, not in the order their names were first seen."""
    first = ModuleRef("c1", "b1", "m1", "Introductions")
    second = ModuleRef("c1", "b1", "m2", "Introductionz")
    third = ModuleRef("c1", "b2", "m3", "Introductions")
    assert fuzz.WRatio("introduction", "introductions") == fuzz.WRatio("introduction", "introductionz")
    assert resolve("introduction", [first, second, third]) == Ambiguous(
        "introduction", (first, second, third)
    )


def test_equal_scores_keep_the_modules_order_and_menus_the_paths_order() -> None:
    first, second, third, fourth = (ModuleRef("c", "b", f"m{n}", f"Day {n}", "Course") for n in range(4))
    modules = [third, first, fourth, second]
    nearest = resolve("zzzz qqqq", modules)
    assert nearest == NotFound("zzzz qqqq", (third, first, fourth)), "all score alike: the first three"
    assert resolve("course", modules) == Ambiguous("course", tuple(modules))
    assert suggest("day", modules, 100) == [first, second, third, fourth], "by path"


def test_a_menu_puts_an_exact_name_before_names_containing_it_and_ties_those_by_path() -> None:
    """A module whose "course name" is what was typed scores 100 by typo matching, as much as one
    whose path contains the text: between them the path decides."""
    named = ModuleRef("c1", "b1", "m1", "Introduction", "Onboarding", "Cohort A")
    in_batch = ModuleRef("c2", "b2", "m2", "Day 1", "Another course", "Onboarding introduction week")
    exact = ModuleRef("c3", "b3", "m3", "Onboarding introduction", "Zeta", "Cohort Z")
    assert suggest("onboarding introduction", [in_batch, exact, named], 100) == [exact, in_batch, named]
    assert suggest("onboarding introduction", [in_batch, exact, named], 2) == [exact, in_batch]


def test_a_tie_for_a_menus_last_place_goes_to_the_first_path() -> None:
    """The index stops scanning typos once the menu is full, but not before the names tying with
    the last one offered: here the second module's name is met second and its path comes first."""
    zeta = ModuleRef("c1", "b1", "m1", "Introductionz", "Zeta")
    alpha = ModuleRef("c2", "b2", "m2", "Introductions", "Alpha")
    assert fuzz.WRatio("introductoin", "introductionz") == fuzz.WRatio("introductoin", "introductions")
    assert suggest("introductoin", [zeta, alpha], 1) == [alpha]
    assert suggest("introductoin", [zeta, alpha], 2) == [alpha, zeta]


def test_a_menu_fetches_every_name_when_the_best_ones_are_one_modules() -> None:
    """The index fetches the best names first, a few more than the places to fill; here all of
    those are one module's aliases, so it must fetch the rest to fill the second place."""
    systems = ModuleRef(
        "c1", "b1", "m1", "Systems", aliases=("Network systems", *(f"Systems {n}" for n in range(4)))
    )
    systemic = ModuleRef("c1", "b1", "m2", "Systemic")
    assert fuzz.WRatio("sistems", "systemic") < fuzz.WRatio("sistems", "systems 1")
    with patch.object(matching, "_FIRST", 1):
        assert suggest("sistems", [systemic, systems], 2) == [systems, systemic]


def test_a_module_without_any_name_scores_nothing_instead_of_failing() -> None:
    """Before the prepared index, a module with no name, alias or course name made every typo
    match fail (`max()` of no names). Now it scores 0: never close, last among the nearest."""
    nameless = ModuleRef("c9", "b9", "m9")
    modules = [nameless, *MODULES]
    assert resolve("tools & sytems", modules) == Found(TOOLS)
    resolution = resolve("quantum basket weaving", modules, limit=len(modules))
    assert isinstance(resolution, NotFound)
    assert resolution.nearest[-1] == nameless
    assert suggest("zzzzqqqq", modules, 100) == []
    assert suggest("module m9", modules, 100) == [nameless], "its path, 'Module m9', is still searched"


def test_limits_slice_as_before() -> None:
    assert suggest("onboarding", MODULES, 0) == []
    assert suggest("onboarding", MODULES, -1) == suggest("onboarding", MODULES, 100)[:-1]
    assert suggest("", MODULES, -2) == suggest("", MODULES, 100)[:-2]
    full = resolve("quantum basket weaving", MODULES, limit=100)
    assert isinstance(full, NotFound)
    assert len(full.nearest) == len(MODULES)
    assert resolve("quantum basket weaving", MODULES, limit=-1) == NotFound(
        "quantum basket weaving", full.nearest[:-1]
    )
    assert resolve("quantum basket weaving", MODULES, limit=0) == NotFound("quantum basket weaving", ())


def test_an_index_answers_like_the_functions_and_keeps_the_first_module_of_a_key() -> None:
    renamed = ModuleRef(SAFETY.course_id, SAFETY.batch_id, SAFETY.module_id, "Renamed")
    index = MatchIndex([*MODULES, renamed])
    assert index.resolve("securite au travail") == Found(SAFETY)
    assert index.resolve("renamed") == resolve("renamed", MODULES)
    assert index.resolve("c1/b1/m1") == Found(SAFETY)
    assert index.suggest("laptop", 10) == [TOOLS]


# --------------------------------------------------------------------------- against the old rules

_WORDS = ("intro", "introduction", "safety", "Sécurité", "securite", "onboarding", "tools", "&", "day")
_ODD = "abcé É&.-1ßo\u0301\u00a8 "
_texts = st.one_of(
    st.lists(st.sampled_from(_WORDS), max_size=3).map(" ".join),
    st.text(alphabet=_ODD, max_size=10),
)
_modules = st.lists(
    st.builds(
        ModuleRef,
        course_id=st.sampled_from("12"),
        batch_id=st.just("b"),
        module_id=st.sampled_from("12345678"),
        name=_texts,
        course_name=st.sampled_from(("Onboarding", "IT", "")) | _texts,
        batch_name=st.sampled_from(("", "Cohort A", "Cohort B")),
        aliases=st.lists(_texts, max_size=2).map(tuple),
    ),
    max_size=10,
)
_queries = st.one_of(
    _texts,
    st.tuples(_texts, st.integers(0, 12), st.sampled_from(_ODD)).map(
        lambda typo: typo[0][: typo[1]] + typo[2] + typo[0][typo[1] + 1 :]
    ),
    st.tuples(st.sampled_from(_WORDS), st.integers(5, 40)).map(lambda long: f"{long[0]} " * long[1]),
)


@settings(max_examples=600, deadline=None)
@given(
    modules=_modules,
    query=_queries,
    limit=st.integers(-2, 12),
    first=st.sampled_from((1, 2, 64)),
    slice_work=st.sampled_from((1, 40, matching.SLICE_WORK)),
)
def test_the_prepared_index_answers_as_scoring_each_module_in_turn(
    modules: list[ModuleRef], query: str, limit: int, first: int, slice_work: int
) -> None:
    """Many modules sharing few names, so that scores tie and cutoffs are met exactly; the index
    fetches the best `first` names first, so small values make it fetch all of them again, and
    scores `slice_work` // the text's length names at a time, so small values make it merge
    many slices."""
    index = MatchIndex(modules)
    with patch.object(matching, "_FIRST", first), patch.object(matching, "SLICE_WORK", slice_work):
        assert index.resolve(query) == _old_resolve(query, modules)
        assert index.resolve(query, limit) == _old_resolve(query, modules, limit)
        assert index.suggest(query, limit) == _old_suggest(query, modules, limit)


@given(text=st.text(max_size=30))
def test_normalise_is_the_accent_dropping_fold_of_every_text(text: str) -> None:
    """Its shortcuts (ASCII kept as it is, accents dropped by `str.translate`) fold every text as
    decomposing it and testing each character did."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    assert normalise(text) == " ".join(bare.casefold().split())


def _old_resolve(query: str, modules: Sequence[ModuleRef], limit: int = 3) -> Resolution:
    """`resolve` as it was before the prepared index (commit d36f95c): each module scored in
    Python, in turn; a module without names scores 0 (it used to raise)."""
    query = query[:MAX_QUERY_CHARS]
    typed = ModuleId.parse(query)
    if typed is not None:
        known = next((m for m in modules if m.key == typed.key), None)
        return Found(known or ModuleRef.named(typed, ""))
    wanted = normalise(query)
    unique = _old_unique(modules)
    if not unique:
        return NotFound(query, ())
    scorers: list[Callable[[ModuleRef], float]] = [
        lambda m: 100.0 if wanted in _old_exact_names(m) else 0.0,
        lambda m: 100.0 if normalise(m.course_name) == wanted else 0.0,
        lambda m: _old_own_score(wanted, m),
        lambda m: _old_course_score(wanted, m),
    ]
    for score in scorers:
        scored = sorted(((score(m), m) for m in unique), key=lambda pair: -pair[0])
        best = scored[0][0]
        if best >= FUZZY_ACCEPT:
            close = [m for value, m in scored if value >= best - FUZZY_TIE]
            return Found(close[0]) if len(close) == 1 else Ambiguous(query, tuple(close[:10]))
    nearest = sorted(unique, key=lambda m: -max(_old_own_score(wanted, m), _old_course_score(wanted, m)))
    return NotFound(query, tuple(nearest[:limit]))


def _old_suggest(query: str, modules: Sequence[ModuleRef], limit: int) -> list[ModuleRef]:
    """`suggest` as it was before the prepared index (commit d36f95c)."""
    unique = sorted(_old_unique(modules), key=lambda m: normalise(m.path))
    wanted = normalise(query[:MAX_QUERY_CHARS])
    if not wanted:
        return unique[:limit]

    def score(m: ModuleRef) -> float:
        names = [*_old_exact_names(m), normalise(m.course_name), normalise(m.path)]
        if any(wanted in name for name in names if name):
            return 100.0 + (1.0 if wanted in _old_exact_names(m) else 0.0)
        return max(_old_own_score(wanted, m), _old_course_score(wanted, m))

    scored = [(score(m), m) for m in unique]
    ranked = sorted((pair for pair in scored if pair[0] >= SUGGEST_MIN), key=lambda pair: -pair[0])
    return [module for _, module in ranked[:limit]]


def _old_unique(modules: Sequence[ModuleRef]) -> list[ModuleRef]:
    seen: dict[str, ModuleRef] = {}
    for module in modules:
        seen.setdefault(module.key, module)
    return list(seen.values())


def _old_exact_names(module: ModuleRef) -> set[str]:
    return {normalise(name) for name in (module.name, *module.aliases) if name}


def _old_own_score(wanted: str, module: ModuleRef) -> float:
    names = [*_old_exact_names(module), normalise(f"{module.course_name} {module.name}")]
    return max((fuzz.WRatio(wanted, name) for name in names if name), default=0.0)


def _old_course_score(wanted: str, module: ModuleRef) -> float:
    course = normalise(module.course_name)
    return fuzz.WRatio(wanted, course) if course else 0.0
