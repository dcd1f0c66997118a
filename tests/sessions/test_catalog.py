"""The module catalog: aliases from TOML, discovery by walking Zoho, and the lookup people use."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.core import Core
from bot.sessions import catalog as catalog_module
from bot.sessions.catalog import MISS_SECONDS, SEARCHES_PER_MINUTE, load_aliases
from bot.sessions.matching import Ambiguous, Found, MatchIndex, NotFound
from bot.sessions.modules import ModuleId, ModuleRef
from tests.clock import FakeClock
from tests.conftest import TODAY, MakeCore
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import sample_org

ORG = sample_org(TODAY)
ONBOARDING = ORG.courses[0]
COHORT_A, COHORT_B = ONBOARDING.batches
INTRO_A, TOOLS, SECURITE = COHORT_A.modules
INTRO_B = COHORT_B.modules[0]
GDPR_BASICS = ORG.courses[2].batches[0].modules[0]


def key(course, batch, module) -> str:
    return f"{course.course_id}/{batch.batch_id}/{module.module_id}"


@pytest.fixture
def modules_file(tmp_path: Path) -> Path:
    path = tmp_path / "modules.toml"
    path.write_text(
        f"""
[[modules]]
name = "New joiner onboarding"
aliases = ["onboarding", "Welcome week"]
course = "{ONBOARDING.course_id}"
batch = "{COHORT_A.batch_id}"
module = "{INTRO_A.module_id}"

[[modules]]
name = "Sécurité au travail"
aliases = ["safety"]
course = "{ONBOARDING.course_id}"
batch = "{COHORT_A.batch_id}"
module = "{SECURITE.module_id}"
course_name = "Onboarding"
batch_name = "Cohort A"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def aliased(make_core: MakeCore, modules_file: Path) -> Core:
    return make_core(BOT_MODULES_FILE=str(modules_file))


async def test_aliases_from_the_modules_file_resolve_exactly(aliased: Core, fz: FakeZoho) -> None:
    for query in ("New joiner onboarding", "onboarding", "Welcome week", "safety"):
        resolution = await aliased.catalog.lookup(query, deadline=None)
        assert isinstance(resolution, Found), query
    welcome = await aliased.catalog.lookup("welcome week", deadline=None)
    assert welcome.module.key == key(ONBOARDING, COHORT_A, INTRO_A)
    assert welcome.module.aliases == ("onboarding", "Welcome week")
    assert fz.requests == [], "known names are resolved without Zoho"


@pytest.mark.parametrize("query", ["securite au travail", "SÉCURITÉ  AU TRAVAIL", "  Securité au Travail "])
async def test_case_spacing_and_accents_are_ignored(aliased: Core, fz: FakeZoho, query: str) -> None:
    resolution = await aliased.catalog.lookup(query, deadline=None)
    assert isinstance(resolution, Found)
    assert resolution.module.key == key(ONBOARDING, COHORT_A, SECURITE)
    assert resolution.module.path == "Onboarding › Cohort A › Sécurité au travail"
    assert fz.requests == []


async def test_a_typo_is_forgiven(aliased: Core, fz: FakeZoho) -> None:
    resolution = await aliased.catalog.lookup("onbaording", deadline=None)
    assert isinstance(resolution, Found)
    assert resolution.module.key == key(ONBOARDING, COHORT_A, INTRO_A)
    assert fz.requests == []


async def test_a_triplet_is_accepted_without_asking_zoho(core: Core, fz: FakeZoho) -> None:
    resolution = await core.catalog.lookup("c1/b-2/m_3", deadline=None)
    assert isinstance(resolution, Found)
    assert (resolution.module.course_id, resolution.module.batch_id, resolution.module.module_id) == (
        "c1",
        "b-2",
        "m_3",
    )
    assert fz.requests == []


async def test_walk_discovers_modules_at_background_priority(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock, data_dir: Path
) -> None:
    core = make_core(ZOHO_CALLS_PER_MINUTE="10")  # background may use 8 of the 10
    assert core.catalog.is_due()
    assert await core.catalog.walk() == 11
    paths = [c.path for c in fz.calls()]
    assert paths[0] == "/api/v1/courses"
    assert fz.calls()[0].query == {"type": "2", "startIndex": "0"}
    assert sum(p.endswith("/batches") for p in paths) == 3
    assert sum(p.endswith("/modules") for p in paths) == 5
    arrivals = [r.at for r in fz.calls()]
    assert arrivals[:8] == [arrivals[0]] * 8
    assert arrivals[8] == pytest.approx(arrivals[0] + 60), "the 9th call waited for background budget"
    assert clock.slept == [pytest.approx(60)]
    assert not core.catalog.is_due()
    assert core.catalog.walked_at() == clock.time()

    fz.clear()
    restarted = make_core()
    assert {m.key for m in restarted.catalog.modules()} == {
        key(c, b, m) for c in ORG.courses for b in c.batches for m in b.modules
    }
    assert restarted.catalog.walked_at() == clock.time()
    assert isinstance(await restarted.catalog.lookup("GDPR basics", deadline=None), Found)
    assert fz.requests == [], "a restart knows the walked catalog without calls"

    clock.advance(6 * 3600)
    assert restarted.catalog.is_due()


async def test_a_name_in_two_batches_is_ambiguous(core: Core, fz: FakeZoho) -> None:
    await core.catalog.walk()
    fz.clear()
    resolution = await core.catalog.lookup("introduction", deadline=None)
    assert isinstance(resolution, Ambiguous)
    assert [m.path for m in resolution.candidates] == [
        "Onboarding › Cohort A › Introduction",
        "Onboarding › Cohort B › Introduction",
    ]
    assert fz.requests == []


async def test_an_alias_keeps_the_zoho_name_findable(aliased: Core, fz: FakeZoho) -> None:
    """Aliasing Cohort A's "Introduction" must not make "Introduction" silently mean Cohort B's."""
    await aliased.catalog.walk()
    resolution = await aliased.catalog.lookup("Introduction", deadline=None)
    assert isinstance(resolution, Ambiguous)
    assert {m.key for m in resolution.candidates} == {
        key(ONBOARDING, COHORT_A, INTRO_A),
        key(ONBOARDING, COHORT_B, INTRO_B),
    }
    aliased_intro = next(m for m in resolution.candidates if m.key == key(ONBOARDING, COHORT_A, INTRO_A))
    assert aliased_intro.title == "New joiner onboarding"
    assert aliased_intro.path == "Onboarding › Cohort A › New joiner onboarding", "names filled by discovery"


async def test_once_discovered_an_unknown_name_costs_no_zoho_call(core: Core, fz: FakeZoho) -> None:
    """Found by a probe: each unknown name was searched in Zoho, so 10,000 random texts spent
    the minute's budget and real people were told the bot was at its call limit."""
    await core.catalog.walk()
    fz.clear()
    for n in range(50):
        resolution = await core.catalog.lookup(f"xyzzy plugh {n}", deadline=None)
        assert isinstance(resolution, NotFound)
    assert len(resolution.nearest) == 3
    assert fz.requests == []


async def test_before_discovery_searches_are_few_a_minute_and_once_per_name(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    for _ in range(3):
        assert isinstance(await core.catalog.lookup("Xyzzy  PLUGH", deadline=None), NotFound)
    assert len(fz.calls()) == 1, "one search, then the miss is remembered"
    for n in range(20):
        await core.catalog.lookup(f"typo {n}", deadline=None)
    assert len(fz.calls()) == SEARCHES_PER_MINUTE, "a small share of the minute's calls"

    clock.advance(MISS_SECONDS + 1)
    await core.catalog.lookup("xyzzy plugh", deadline=None)
    assert len(fz.calls()) == SEARCHES_PER_MINUTE + 1


async def test_an_unknown_name_is_tried_with_zohos_course_search(make_core: MakeCore, fz: FakeZoho) -> None:
    core = make_core()
    resolution = await core.catalog.lookup("Leadership Essentials", deadline=None)
    search = fz.calls()[0]
    assert search.path == "/api/v1/courses"
    assert search.query["search"] == "Leadership Essentials"
    assert "type" not in search.query
    assert isinstance(resolution, Ambiguous)
    assert [m.path for m in resolution.candidates] == [
        "Leadership Essentials › Managers cohort › Giving Feedback",
        "Leadership Essentials › Managers cohort › Coaching Conversations",
        "Leadership Essentials › Managers cohort › Leading Through Change",
    ]
    fz.clear()
    found = await make_core().catalog.lookup("coaching conversations", deadline=None)
    assert isinstance(found, Found)
    assert fz.requests == [], "what a search found is remembered on disk"


async def test_search_failure_falls_back_to_not_found(core: Core, fz: FakeZoho) -> None:
    fz.answer_429_next(1)
    resolution = await core.catalog.lookup("anything", deadline=None)
    assert isinstance(resolution, NotFound)
    assert len(fz.calls()) == 1


def test_modules_file_errors_name_the_variable(tmp_path: Path) -> None:
    missing_id = tmp_path / "missing.toml"
    missing_id.write_text('[[modules]]\nname = "X"\ncourse = "1"\nbatch = "2"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"BOT_MODULES_FILE .*module #1 lacks module"):
        load_aliases(missing_id)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[modules]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="BOT_MODULES_FILE"):
        load_aliases(broken)
    assert load_aliases(None) == []


async def test_a_module_by_its_ids_sees_what_another_process_discovered(make_core: MakeCore) -> None:
    """The index behind `Catalog.module` is rebuilt when discovery changes the catalog on disk,
    also when another process (the scheduler worker, say) did the walking."""
    web, worker = make_core(), make_core()
    gdpr = ModuleId(ORG.courses[2].course_id, ORG.courses[2].batches[0].batch_id, GDPR_BASICS.module_id)
    assert web.catalog.module(gdpr) is None

    await worker.catalog.walk()

    found = web.catalog.module(gdpr)
    assert found is not None
    assert (found.name, found.course_name) == ("GDPR Basics", "Data Protection & GDPR")
    assert web.catalog.module(ModuleId("1", "2", "3")) is None


async def test_names_are_prepared_once_per_version_of_the_catalog(
    make_core: MakeCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Menus ask at every keystroke: the catalog folds its modules' names again only when the
    modules changed (here by another process's walk, which prepares its own as it ends), and
    forgetting Zoho forgets them."""
    built: list[int] = []

    def counted(modules: Iterable[ModuleRef]) -> MatchIndex:
        known = list(modules)
        built.append(len(known))
        return MatchIndex(known)

    monkeypatch.setattr(catalog_module, "MatchIndex", counted)
    web, worker = make_core(), make_core()
    await worker.catalog.walk()
    for typed in ("gdpr", "gdpr bas", "GDPR Basics"):
        assert (await web.catalog.suggest(typed, 10))[0].name == "GDPR Basics"
    assert isinstance(await web.catalog.lookup("gdpr basics", deadline=None), Found)
    assert built == [11, 11], "the walker's index, and one for three menus and a lookup"

    await worker.catalog.walk()
    assert (await web.catalog.suggest("gdpr", 10))[0].name == "GDPR Basics"
    assert built == [11] * 4, "a new walk, a new index in each"

    web.catalog.forget()
    assert await web.catalog.suggest("gdpr", 10) == []
