"""Subscriptions to modules Zoho does not have, over the wire: `/sessions remind` and `/sessions
digest` with made-up `course/batch/module` ids, Zoho locked or down when asked, and a module
that disappears and comes back. What Zoho was asked is read from the fake's request log.

The bot runs on the FakeClock of tests/conftest.py (10:00 UTC, Monday 10 March 2025) with
the sample org; U1 lives in Paris.
"""

from __future__ import annotations

import pytest

from bot.features.subscriptions.service import DIGEST_COMMAND as DIGEST
from bot.features.subscriptions.service import REMIND_COMMAND as REMIND
from bot.sessions.modules import ModuleRef
from bot.slack.errors import MODULE_GONE_PAUSE
from bot.store.records import Digest, Reminder
from tests.conftest import TODAY
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import sample_org, zoho_id
from tests.slack.harness import CHANNEL, SlackBot

INVENTED = "123/456/789"
INVENTED_PATH = "/api/v1/courses/123/batches/456/modules/789/sessions"
GDPR = ModuleRef(zoho_id(100003), zoho_id(200004), zoho_id(300009), "GDPR Basics")
GDPR_PATH = f"/api/v1/courses/{GDPR.course_id}/batches/{GDPR.batch_id}/modules/{GDPR.module_id}/sessions"
TICK = 30.0

COMMANDS = {"remind": ("remind {} 1h", REMIND), "digest": ("digest {} at 9:00 mon-fri", DIGEST)}
"""Each subscribing command: its text around the module, and how it names modules by id."""


@pytest.fixture(params=sorted(COMMANDS))
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def subscribing(kind: str, module: str) -> str:
    return COMMANDS[kind][0].format(module)


async def subscriptions(bot: SlackBot) -> list[Reminder | Digest]:
    return [*await bot.bot.store.reminders(), *await bot.bot.store.digests()]


def reads(fz: FakeZoho, path: str) -> list[int]:
    """The statuses of the requests Zoho got for `path`, oldest first."""
    return [r.status for r in fz.calls() if r.path == path]


async def tick_for(bot: SlackBot, seconds: float) -> None:
    for _ in range(int(seconds // TICK)):
        await bot.bot.scheduler.tick()
        bot.clock.advance(TICK)


def confirmations(bot: SlackBot) -> list[str]:
    """What the bot posted in the channel (a digest's confirmation) or published on Home."""
    posts = [c.args["text"] for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    return posts + [c.args["user_id"] for c in bot.slack.calls_to("views.publish")]


# --------------------------------------------------------------------------- made-up ids


async def test_invented_ids_are_refused_after_one_read_and_nothing_is_stored(
    walked: SlackBot, kind: str
) -> None:
    sent = await walked.command(subscribing(kind, INVENTED))

    assert sent.body["text"] == (
        f"Zoho has no module `{INVENTED}`, so nothing was saved; check the ids or pick it by name: "
        f"`{COMMANDS[kind][1]} &lt;module name&gt;`."
    )
    assert await subscriptions(walked) == []
    assert confirmations(walked) == [], "no confirmation in the channel, no Home update"
    assert [(r.path, r.status) for r in walked.zoho.calls()] == [(INVENTED_PATH, 404)]

    again = await walked.command(subscribing(kind, INVENTED))
    await tick_for(walked, 3600)

    assert again.body["text"] == sent.body["text"]
    assert reads(walked.zoho, INVENTED_PATH) == [404], "the 404 is remembered: no second call"
    assert await subscriptions(walked) == []


async def test_two_hundred_invented_reminders_are_all_refused_and_cost_nothing_once_refused(
    walked: SlackBot,
) -> None:
    """The probe that found the defect: 200 reminders for made-up ids. Before, all 200 were
    stored without a call, then the scheduler spent 31 calls in its first 90 s and 85 in its
    first hour failing on them. Now each is checked once, within the call budget (those past
    this minute's budget are told to try again), nothing is stored, and ticks cost nothing."""
    answers = [
        (await walked.command(f"remind {1000 + n}/{2000 + n}/{3000 + n} 1h")).body["text"] for n in range(200)
    ]
    at_subscribe = len(walked.zoho.calls())
    walked.zoho.clear()

    await tick_for(walked, 3600)

    assert await walked.bot.store.reminders() == []
    refused = [a for a in answers if a.startswith("Zoho has no module")]
    postponed = [a for a in answers if a.startswith("I couldn't ask Zoho whether module")]
    assert len(refused) + len(postponed) == 200
    assert len(refused) == at_subscribe <= 25, "one read per made-up module, within the minute's budget"
    assert all("call limit" in a for a in postponed)
    assert walked.zoho.calls() == [], "an hour of ticks asks Zoho nothing about them"


# --------------------------------------------------------------------------- real modules


async def test_a_real_module_typed_by_its_ids_is_read_once_and_accepted(sb: SlackBot, kind: str) -> None:
    """Before the catalog's first walk, the ids are unknown to the bot: one read answers."""
    sent = await sb.command(subscribing(kind, GDPR.key))

    assert "nothing was saved" not in sent.body["text"]
    assert [s.module.key for s in await subscriptions(sb)] == [GDPR.key]
    assert reads(sb.zoho, GDPR_PATH) == [200]
    sb.zoho.clear()
    await sb.bot.scheduler.tick()
    assert reads(sb.zoho, GDPR_PATH) == [], "the read that checked it is the planner's fresh data"


@pytest.mark.parametrize("typed", ["GDPR Basics", GDPR.key])
async def test_a_module_the_catalog_knows_costs_no_call(walked: SlackBot, kind: str, typed: str) -> None:
    sent = await walked.command(subscribing(kind, typed))

    assert "nothing was saved" not in sent.body["text"]
    assert [s.module.key for s in await subscriptions(walked)] == [GDPR.key]
    assert walked.zoho.calls() == []


# --------------------------------------------------------------------------- Zoho cannot be asked


async def test_zoho_locked_at_subscribe_time_stores_nothing_says_so_and_asks_nothing_more(
    sb: SlackBot, kind: str
) -> None:
    sb.zoho.answer_429_next(1)  # the read meets Zoho's lock

    sent = await sb.command(subscribing(kind, GDPR.key))
    locked = await sb.command(subscribing(kind, GDPR.key))

    for answer in (sent, locked):
        assert answer.body["text"].startswith(
            f"I couldn't ask Zoho whether module `{GDPR.key}` exists, so nothing was saved. "
            "Zoho has paused the bot's access for a few minutes after too many requests; try again after"
        )
    assert reads(sb.zoho, GDPR_PATH) == [429], "no call leaves while the lock lasts"
    assert await subscriptions(sb) == []
    assert confirmations(sb) == []

    sb.clock.advance(300)
    await sb.command(subscribing(kind, GDPR.key))
    assert reads(sb.zoho, GDPR_PATH) == [429, 200]
    assert len(await subscriptions(sb)) == 1, "the person tried again once Zoho reopened"


async def test_zoho_down_at_subscribe_time_stores_nothing_and_says_so(sb: SlackBot, kind: str) -> None:
    sb.zoho.fail_next(3, status=503)  # every attempt of the read

    sent = await sb.command(subscribing(kind, GDPR.key))

    assert sent.body["text"] == (
        f"I couldn't ask Zoho whether module `{GDPR.key}` exists, so nothing was saved. "
        "Zoho People isn't answering right now; try again in a few minutes."
    )
    assert reads(sb.zoho, GDPR_PATH) == [503, 503, 503]
    assert await subscriptions(sb) == []


# --------------------------------------------------------------------------- gone, then back


def drop(fz: FakeZoho, module: ModuleRef) -> None:
    """Zoho stops knowing the module: its reads answer 404 from now on."""
    with fz.lock:
        for course in fz.courses:
            for batch in course.batches:
                batch.modules = [m for m in batch.modules if m.module_id != module.module_id]


async def test_a_module_zoho_drops_is_paused_and_subscribing_again_once_it_is_back_resumes_it(
    walked: SlackBot, kind: str
) -> None:
    await walked.command(subscribing(kind, "GDPR Basics"))
    walked.clock.advance(3600)  # its data is old: the planner reads it
    drop(walked.zoho, GDPR)

    await tick_for(walked, 2 * 3600)

    assert reads(walked.zoho, GDPR_PATH) == [404], "one failed read, then no more"
    (paused,) = await subscriptions(walked)
    assert paused.paused_reason == MODULE_GONE_PAUSE
    listed = await walked.command(f"{kind} list")
    assert f"paused: {MODULE_GONE_PAUSE}" in listed.body["text"]

    still_gone = await walked.command(subscribing(kind, "GDPR Basics"))
    assert still_gone.body["text"] == (
        "Zoho no longer knows this module (it may have been removed); pick another with `/sessions`. "
        "Nothing was saved."
    )
    walked.zoho.set_org(sample_org(TODAY))  # it is back
    back = await walked.command(subscribing(kind, "GDPR Basics"))
    await tick_for(walked, 3600)

    assert "nothing was saved" not in back.body["text"].casefold()
    assert reads(walked.zoho, GDPR_PATH)[:3] == [404, 404, 200], "asked again only when subscribed again"
    (resumed,) = await subscriptions(walked)
    assert resumed.paused_reason is None
