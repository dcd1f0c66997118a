"""The session service: few Zoho calls however many people ask, and old data over no data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import Core
from bot.sessions.errors import ApiPaused, ModuleGone, SourceDown
from bot.sessions.modules import ModuleRef
from bot.sessions.service import DEFAULT_TTL, GONE_SECONDS, WAIT_AGE
from bot.sessions.urgency import Need, Urgency
from bot.sessions.windows import named_window, next_days
from bot.zoho.client import Call
from bot.zoho.errors import ZohoLockedError
from tests.clock import FakeClock
from tests.conftest import PAGED_MODULE, START, TODAY, MakeCore
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, make_session, module_with_sessions, sample_org, zoho_id

SAMPLE = sample_org(TODAY)


def ref(module_name: str, batch_name: str | None = None) -> ModuleRef:
    for course in SAMPLE.courses:
        for batch in course.batches:
            for module in batch.modules:
                if module.name == module_name and batch_name in (None, batch.name):
                    return ModuleRef(
                        course.course_id,
                        batch.batch_id,
                        module.module_id,
                        module.name,
                        course.name,
                        batch.name,
                    )
    raise KeyError(module_name)


@pytest.fixture
def org() -> Org:
    """The sample org plus a course whose one module has 60 sessions (days 0 to 59, 9:00)."""
    return Org(courses=SAMPLE.courses + module_with_sessions(60, TODAY).courses, trainers=SAMPLE.trainers)


def fortnight(clock: FakeClock):
    return next_days(clock.now(), 14)


def names(listing) -> list[str]:
    return [s.name for s in listing.sessions]


async def test_cold_lookup_of_sixty_sessions_is_three_calls(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    listing = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    assert len(fz.calls()) == 3
    assert [r.query["startIndex"] for r in fz.calls()] == ["0", "25", "50"]
    # Session 1 ran 9:00-10:00 today and it is 10:00: over. Session k starts on day k-1 at 9:00,
    # so sessions 2-15 start before the window ends (day 14, 10:00).
    assert names(listing) == [f"Session {k}" for k in range(2, 16)]
    assert listing.next_after is not None
    assert listing.next_after.name == "Session 16"
    assert listing.fetched_at == START
    assert listing.problem is None
    assert not listing.stale


async def test_fifty_concurrent_cold_lookups_share_one_fetch(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    listings = await asyncio.gather(
        *(core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock)) for _ in range(50))
    )
    assert len(fz.calls()) == 3
    assert len(fz.token_requests()) == 1
    assert {len(listing.sessions) for listing in listings} == {14}


async def test_fresh_cache_makes_no_call(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    assert core.sessions.is_fresh(PAGED_MODULE)
    clock.advance(DEFAULT_TTL - 1)
    listing = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    await core.sessions.drain()
    assert len(fz.calls()) == 3
    assert listing.fetched_at == START


async def test_another_process_reads_the_same_cache(
    make_core: MakeCore, fz: FakeZoho, clock: FakeClock
) -> None:
    await make_core().sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    listing = await make_core().sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    assert len(listing.sessions) == 14
    assert len(fz.calls()) == 3


async def test_stale_data_answers_at_once_and_one_refresh_runs_behind(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    fz.update_session(zoho_id(900002), sessionName="Session 2 (moved room)")
    clock.advance(DEFAULT_TTL + 1)

    listings = await asyncio.gather(
        *(core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock)) for _ in range(10))
    )
    assert len(fz.calls()) == 3, "the stale answer did not wait for Zoho"
    assert all(listing.fetched_at == START for listing in listings)
    assert all(listing.problem is None for listing in listings), "old but not failing: no problem to show"
    assert names(listings[0])[0] == "Session 2"

    await core.sessions.drain()
    assert len(fz.calls()) == 6, "exactly one refresh for ten stale callers"
    assert [r.query["startIndex"] for r in fz.calls()[3:]] == ["0", "25", "50"]
    refreshed = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    assert names(refreshed)[0] == "Session 2 (moved room)"
    assert refreshed.fetched_at == clock.now()
    assert len(fz.calls()) == 6


async def test_people_asking_for_data_too_old_to_show_wait_for_one_read(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    fz.update_session(zoho_id(900002), sessionName="Session 2 (moved room)")
    clock.advance(WAIT_AGE)

    listings = await asyncio.gather(
        *(core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock)) for _ in range(5))
    )

    assert all(listing.fetched_at == clock.now() for listing in listings)
    assert all(names(listing)[0] == "Session 2 (moved room)" for listing in listings)
    assert len(fz.calls()) == 6, "one read of the module's 3 pages for five people asking"


async def test_the_background_asking_for_old_data_does_not_wait(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    clock.advance(WAIT_AGE)

    listing = await core.sessions.upcoming(
        PAGED_MODULE, clock.now(), fortnight(clock), urgency=Urgency.BACKGROUND
    )

    assert listing.fetched_at == START
    assert listing.stale


async def test_a_read_a_person_waited_for_that_fails_answers_the_old_data_with_why(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    clock.advance(WAIT_AGE)
    fz.fail_next(3, 503)

    listing = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))

    assert listing.fetched_at == START
    assert "HTTP 503" in (listing.problem or "")


async def test_during_a_lock_the_last_good_data_answers(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    clock.advance(DEFAULT_TTL + 1)
    fz.answer_429_next(1)
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    await core.sessions.drain()  # the refresh behind met Zoho's lock
    assert [r.status for r in fz.calls()] == [200, 200, 200, 429]
    locked_until = await core.state.locked_until(clock.time())

    clock.advance(60)
    listing = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    await core.sessions.drain()
    assert listing.stale
    assert listing.problem == str(ApiPaused(locked_until))
    assert listing.problem == "Zoho has paused API access after too many calls; it reopens at 10:15:01 UTC."
    assert listing.fetched_at == START
    assert len(listing.sessions) > 0
    assert len(fz.calls()) == 4, "no refresh is tried during the lock"
    cached = core.sessions.cached_listing(PAGED_MODULE, clock.now(), fortnight(clock))
    assert cached is not None
    assert cached.problem == listing.problem

    clock.set(datetime.fromtimestamp(locked_until, UTC))
    after = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    assert after.fetched_at == START
    await core.sessions.drain()
    assert len(fz.calls()) == 7
    healed = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    assert healed.problem is None
    assert healed.fetched_at == clock.now()


async def test_a_lock_met_elsewhere_marks_old_data_at_once(
    make_core: MakeCore, core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    """Another process met the lock on another call: this module's old data says so, and no call goes."""
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    clock.advance(DEFAULT_TTL + 1)
    fz.answer_429_next(1)
    with pytest.raises(ZohoLockedError) as error:
        await make_core().zoho.courses(Call())
    listing = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    await core.sessions.drain()
    assert listing.problem == str(error.value)
    assert listing.stale
    assert listing.fetched_at == START
    assert len(fz.calls()) == 4


async def test_no_data_and_a_lock_is_the_locked_error(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    fz.answer_429_next(1)
    with pytest.raises(ApiPaused):
        await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    with pytest.raises(ApiPaused) as error:
        await core.sessions.upcoming(ref("GDPR Basics"), clock.now(), fortnight(clock))
    assert error.value.until == clock.time() + 300
    assert len(fz.calls()) == 1


async def test_zoho_down_serves_old_data_with_the_reason(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    fz.fail_next(3, 503)
    with pytest.raises(SourceDown):
        await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    clock.advance(DEFAULT_TTL + 1)
    fz.fail_next(3, 503)
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    await core.sessions.drain()
    listing = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    assert listing.stale
    assert "HTTP 503" in (listing.problem or "")
    assert listing.fetched_at == START


async def test_refresh_batch_fills_every_module_with_one_paged_call(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    modules = [ref("Introduction", "Cohort A"), ref("Tools & Systems"), ref("Sécurité au travail")]
    first = modules[0]
    assert await core.sessions.refresh(modules, Need(Urgency.BACKGROUND)) == []
    assert [r.path for r in fz.calls()] == [
        f"/api/v1/courses/{first.course_id}/batches/{first.batch_id}/sessions"
    ]
    listings = [await core.sessions.upcoming(m, clock.now(), next_days(clock.now(), 30)) for m in modules]
    assert len(fz.calls()) == 1
    assert [names(listing) for listing in listings] == [
        ["Meet your buddy"],
        ["Laptop & accounts setup", "Slack and e-mail etiquette", "Expense tool walkthrough"],
        ["Évacuation et premiers secours", "Ergonomie du poste de travail"],
    ]


async def test_window_filter(core: Core, clock: FakeClock) -> None:
    """At 10:00, "Feedback models" ended a week ago, the 9:00-12:00 lab runs, the clinic is ahead."""
    feedback = ref("Giving Feedback")
    now = clock.now()
    week = await core.sessions.upcoming(feedback, now, named_window("week", now, UTC))
    assert names(week) == ["Practice lab: difficult conversations", "Follow-up clinic"]
    today = await core.sessions.upcoming(feedback, now, named_window("today", now, UTC))
    assert names(today) == ["Practice lab: difficult conversations"]
    assert today.next_after is not None
    assert today.next_after.name == "Follow-up clinic"
    tomorrow = await core.sessions.upcoming(feedback, now, named_window("tomorrow", now, UTC))
    assert names(tomorrow) == []
    assert tomorrow.next_after is not None
    assert tomorrow.next_after.name == "Follow-up clinic"

    later = await core.sessions.upcoming(ref("Introduction", "Cohort B"), now, named_window("week", now, UTC))
    assert names(later) == []
    assert later.next_after is not None
    assert later.next_after.name == "Welcome & company overview"
    assert later.next_after.start == datetime(2025, 3, 24, 9, 0, tzinfo=UTC)
    month = await core.sessions.upcoming(
        ref("Introduction", "Cohort B"), now, named_window("month", now, UTC)
    )
    assert names(month) == ["Welcome & company overview", "Meet your buddy"]
    assert month.next_after is None


async def test_session_past_midnight_belongs_to_its_start_day(core: Core, clock: FakeClock) -> None:
    culture = ref("Company Culture")
    clock.set(datetime(2025, 3, 25, 23, 0, tzinfo=UTC))  # TODAY + 15 days
    now = clock.now()
    listing = await core.sessions.upcoming(culture, now, named_window("today", now, UTC))
    assert names(listing) == ["Night shift Q&A"], "22:30-00:30 is still running at 23:00"
    assert listing.sessions[0].end == now + timedelta(hours=1, minutes=30)


async def test_today_is_the_readers_calendar_day(make_core: MakeCore, fz: FakeZoho, clock: FakeClock) -> None:
    """In Tokyo (UTC+9) it is 19:00 on TODAY: the buddy call at 14:00 Tokyo time is over."""
    core = make_core(ZOHO_TIMEZONE="Asia/Tokyo")
    tokyo = ZoneInfo("Asia/Tokyo")
    now = clock.now()
    intro = ref("Introduction", "Cohort A")
    listing = await core.sessions.upcoming(intro, now, named_window("today", now, tokyo))
    assert names(listing) == []
    fz.add_session(
        intro.course_id,
        intro.batch_id,
        intro.module_id,
        make_session("late-1", intro.module_id, "Late call", datetime(2025, 3, 10, 23, 0)),
    )
    clock.advance(DEFAULT_TTL + 1)
    await core.sessions.upcoming(intro, now, named_window("today", now, tokyo))
    await core.sessions.drain()
    listing = await core.sessions.upcoming(intro, clock.now(), named_window("today", clock.now(), tokyo))
    assert names(listing) == ["Late call"]
    assert listing.sessions[0].start.utcoffset() == timedelta(hours=9)


async def test_unreadable_dates_are_shown_last(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    intro = ref("Introduction", "Cohort A")
    fz.add_session(
        intro.course_id,
        intro.batch_id,
        intro.module_id,
        make_session("odd-1", intro.module_id, "Odd date", datetime(2025, 3, 11, 9), sessionStartDate="TBC"),
    )
    listing = await core.sessions.upcoming(intro, clock.now(), named_window("week", clock.now(), UTC))
    assert names(listing) == ["Meet your buddy", "Odd date"]
    assert listing.sessions[-1].start is None
    assert listing.sessions[-1].when_text.startswith("TBC")


async def test_cached_listing_never_calls(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    assert core.sessions.cached_listing(PAGED_MODULE, clock.now(), fortnight(clock)) is None
    await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    clock.advance(DEFAULT_TTL + 1)
    cached = core.sessions.cached_listing(PAGED_MODULE, clock.now(), fortnight(clock))
    assert cached is not None
    assert cached.fetched_at == START
    await core.sessions.drain()
    assert len(fz.calls()) == 3


async def test_a_refresh_shows_what_zoho_says_now_even_when_the_clock_has_not_moved(
    core: Core, fz: FakeZoho, clock: FakeClock, org: Org
) -> None:
    """Sessions are parsed once per fetch, never served from an earlier fetch's parse."""
    before = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    assert len(before.sessions) == 14
    fz.set_org(Org(courses=module_with_sessions(3, TODAY).courses, trainers=org.trainers))

    await core.sessions.refresh([PAGED_MODULE], Need(Urgency.BACKGROUND))

    after = core.sessions.cached_listing(PAGED_MODULE, clock.now(), fortnight(clock))
    assert after is not None
    assert after.fetched_at == before.fetched_at
    assert names(after) == ["Session 2", "Session 3"], "the first of the three ended at 9:00"


INVENTED = ModuleRef("123", "456", "789")
INVENTED_PATH = "/api/v1/courses/123/batches/456/modules/789/sessions"


async def test_confirm_reads_a_module_once_and_data_held_answers_after(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    gdpr = ref("GDPR Basics")
    await core.sessions.confirm(gdpr, clock.time() + 20)
    await core.sessions.confirm(gdpr, clock.time() + 20)
    assert len(fz.calls()) == 1, "the read is kept like any other: the second answer costs nothing"
    assert core.sessions.is_fresh(gdpr)
    assert not core.sessions.gone(gdpr)


async def test_a_404_marks_the_module_gone_for_gone_seconds(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    with pytest.raises(ModuleGone):
        await core.sessions.confirm(INVENTED, clock.time() + 20)
    assert [(r.path, r.status) for r in fz.calls()] == [(INVENTED_PATH, 404)]
    assert core.sessions.gone(INVENTED)
    clock.advance(GONE_SECONDS - 1)
    assert core.sessions.gone(INVENTED)
    clock.advance(1)
    assert not core.sessions.gone(INVENTED), "a while later, Zoho may be asked again"


async def test_a_module_found_gone_is_read_again_when_confirmed_and_a_good_read_clears_it(
    core: Core, fz: FakeZoho, clock: FakeClock, org: Org
) -> None:
    gdpr = ref("GDPR Basics")
    await core.sessions.confirm(gdpr, None)
    clock.advance(DEFAULT_TTL + 1)
    with fz.lock:
        fz.courses = [c for c in fz.courses if c.course_id != gdpr.course_id]
    await core.sessions.refresh([gdpr], Need(Urgency.BACKGROUND))
    assert core.sessions.gone(gdpr), "gone though data is held: the 404 came after it"

    fz.set_org(org)
    clock.advance(60)
    await core.sessions.confirm(gdpr, None)

    assert [r.status for r in fz.calls()] == [200, 404, 200]
    assert not core.sessions.gone(gdpr)


async def test_a_batch_zoho_no_longer_has_marks_each_of_its_modules_gone(core: Core, fz: FakeZoho) -> None:
    modules = [ModuleRef("123", "456", "1"), ModuleRef("123", "456", "2")]
    failed = await core.sessions.refresh(modules, Need(Urgency.BACKGROUND))
    assert [(r.path, r.status) for r in fz.calls()] == [("/api/v1/courses/123/batches/456/sessions", 404)]
    assert failed == modules
    assert all(core.sessions.gone(module) for module in modules)


async def test_no_answer_from_zoho_is_not_gone(core: Core, fz: FakeZoho, clock: FakeClock) -> None:
    fz.fail_next(3, 503)
    with pytest.raises(SourceDown):
        await core.sessions.confirm(INVENTED, clock.time() + 20)
    assert not core.sessions.gone(INVENTED)


async def test_a_long_read_parsed_off_the_loop_lists_the_same_sessions(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    """A read of 300 records is parsed in a worker thread as it is read: the listing is that of
    any read, in start order and over at the same moment."""
    for k in range(61, 301):
        start = datetime.combine(TODAY + timedelta(days=k - 1), datetime.min.time()) + timedelta(hours=9)
        fz.add_session(
            *PAGED_MODULE.key.split("/"), make_session(zoho_id(900000 + k), "", f"Session {k}", start)
        )

    listing = await core.sessions.upcoming(PAGED_MODULE, clock.now(), next_days(clock.now(), 400))

    assert len(fz.calls()) == 12
    assert names(listing) == [f"Session {k}" for k in range(2, 301)]
