"""Every answer from data older than the freshness setting says how old it is, the first one too.

While Zoho failed, the first answer from expired data used to show no "as of" note: its
refresh ran behind it, so no failure was known yet when it was rendered; later answers,
after the failure was recorded, did.
"""

from __future__ import annotations

import pytest

from bot.core import Core
from tests.clock import FakeClock
from tests.conftest import PAGED_MODULE, START, TODAY
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import Org, module_with_sessions, sample_org
from tests.sessions.test_service import fortnight
from tests.slack.harness import SlackBot, all_text, date_stamps, session_names


@pytest.fixture
def org() -> Org:
    """The sample org, and a module of 60 sessions (`PAGED_MODULE`)."""
    sample = sample_org(TODAY)
    return Org(courses=sample.courses + module_with_sessions(60, TODAY).courses, trainers=sample.trainers)


TOOLS = ["Laptop & accounts setup", "Slack and e-mail etiquette", "Expense tool walkthrough"]


def as_of_notes(message: dict) -> list[str]:
    return [line for line in all_text(message).split("\n") if line.startswith(":warning:")]


async def test_the_first_answer_from_expired_data_says_how_old_it_is(walked: SlackBot) -> None:
    await walked.command("Tools & Systems")  # fills the cache at START
    walked.clock.advance(walked.bot.core.sessions.ttl)  # no longer fresh
    walked.zoho.fail_next(50, status=503)  # Zoho down: the refresh behind the answer fails

    first = await walked.command("Tools & Systems")
    await walked.bot.core.sessions.drain()
    later = await walked.command("Tools & Systems")

    for answer in (first, later):
        assert session_names(answer.body) == TOOLS
        (note,) = as_of_notes(answer.body)
        assert "Showing data from <!date^" in note
        assert date_stamps(note) == [int(START.timestamp())]
    (note,) = as_of_notes(later.body)
    assert "HTTP 503" in note, "once the refresh has failed, the answer also says why"
    await walked.bot.core.sessions.drain()
    statuses = [r.status for r in walked.zoho.calls() if r.path.endswith("/sessions")]
    assert statuses == [200] + [503] * 6, "a read, then a refresh (three tries) behind each old answer"


async def test_fresh_data_says_nothing_of_its_age(walked: SlackBot) -> None:
    await walked.command("Tools & Systems")
    walked.clock.advance(walked.bot.core.sessions.ttl - 1)

    answer = await walked.command("Tools & Systems")

    assert session_names(answer.body) == TOOLS
    assert as_of_notes(answer.body) == []


async def test_every_listing_of_expired_data_is_marked_old_whatever_reads_it(
    core: Core, fz: FakeZoho, clock: FakeClock
) -> None:
    """Lookups and the cache-only listings that digests, reminders and App Home read alike."""
    fresh = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    assert not fresh.stale
    clock.advance(core.sessions.ttl)
    fz.fail_next(3, 503)

    first = await core.sessions.upcoming(PAGED_MODULE, clock.now(), fortnight(clock))
    cached = core.sessions.cached_listing(PAGED_MODULE, clock.now(), fortnight(clock))
    await core.sessions.drain()

    assert first.stale
    assert first.problem is None, "no failure known yet: the refresh runs behind the answer"
    assert cached is not None
    assert cached.stale
    assert first.fetched_at == cached.fetched_at == START
