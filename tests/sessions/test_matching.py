"""What a person typed to one module: pure matching rules, no Zoho involved."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.sessions.matching import Ambiguous, Found, NotFound, normalise, resolve, suggest
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


@given(text=st.text(max_size=30))
def test_normalise_is_the_accent_dropping_fold_of_every_text(text: str) -> None:
    """Its shortcuts (ASCII kept as it is, accents dropped by `str.translate`) fold every text as
    decomposing it and testing each character did."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    assert normalise(text) == " ".join(bare.casefold().split())
