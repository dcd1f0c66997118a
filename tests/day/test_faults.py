"""The bot under the faults production brings, each against both fakes on the FakeClock:
Zoho down for half an hour, Zoho's lock, a revoked refresh token, Slack answering 429 in
bursts, and the database out of reach for a minute. (An instance killed mid-send is in
tests/day/test_crash_recovery.py; two instances on one PostgreSQL in tests/test_instances.py.)

Each test says what a person and an operator see, and counts what reached Zoho and Slack.
"""

from __future__ import annotations

import logging
from datetime import datetime, time

import pytest

from tests.clock import FakeClock
from tests.conftest import MakeBot, StartBot
from tests.fakes.proxy import TcpProxy
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.planned_day import (
    DAY,
    INDUCTION,
    PARIS,
    SPARSE,
    TICK,
    ChannelDigest,
    Plan,
    Ticks,
    digest_key,
    tick_plan,
)
from tests.slack.harness import Sent, SlackBot, all_text

CHANNEL = "CTRAINING"
PLAN = Plan(digests=(ChannelDigest(CHANNEL, (INDUCTION,), time(8)),))
KEY = digest_key(CHANNEL, DAY)

pytestmark = pytest.mark.backends("sqlite")
"""The faults of Zoho and Slack are the same on either store; the database's own fault is on PostgreSQL."""


def paris(hhmm: str) -> datetime:
    return datetime.combine(DAY, time.fromisoformat(hhmm), tzinfo=PARIS)


async def started(start_bot: StartBot, slack: FakeSlack, **env: str) -> SlackBot:
    PLAN.prepare_slack(slack)
    harness = await start_bot(**env)
    await harness.walk()
    await PLAN.subscribe(harness.bot.store)
    return harness


def digests_posted(slack: FakeSlack) -> list[str]:
    return [
        c.args["text"] for c in slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == CHANNEL
    ]


async def answer_text(harness: SlackBot, sent: Sent) -> str:
    """The command's answer, in its ack or, when slow, through its response_url."""
    return all_text(sent.body if sent.body.get("blocks") else await harness.followup(sent))


def api_calls(fz: FakeZoho, since: datetime, until: datetime) -> list[int]:
    return [r.status for r in fz.calls() if since.timestamp() <= r.at < until.timestamp()]


async def test_zoho_down_for_half_an_hour(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    harness = await started(start_bot, slack)
    ticks = Ticks(clock)
    await ticks.through(harness.bot, until=paris("07:40"))
    fz.down_until = paris("08:10").timestamp()

    await ticks.through(harness.bot, until=paris("08:00"), sparse=TICK)  # every 30 s, as in production
    during = await harness.command("Induction")
    await ticks.through(harness.bot, until=paris("08:10"), sparse=TICK)

    answer = await answer_text(harness, during)
    assert "Meet the team" in answer, "the person sees the sessions the bot holds"
    assert "Zoho People is not answering" in answer, "and why they may be old"
    (digest,) = [c.args for c in slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == CHANNEL]
    assert ticks.sent[KEY] == [paris("08:00")], "the digest went out on time from held data"
    assert "*Induction*: not fresh, as Zoho knew it on" in all_text(digest), "marked as not fresh"
    failed = api_calls(fz, paris("07:40"), paris("08:10"))
    assert set(failed) == {503}
    assert len(failed) <= 30, f"the planner rests between failed ticks, not a storm: {len(failed)}"

    await ticks.through(harness.bot, until=paris("08:30"), sparse=TICK)  # the planner's rest ends in there
    assert 200 in api_calls(fz, paris("08:10"), paris("08:30")), "reads resume once Zoho is back"
    after = await harness.command("Induction")
    text = await answer_text(harness, after)
    assert "is not answering" not in text


async def test_zoho_locked_nothing_reaches_it_until_the_lock_ends(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock
) -> None:
    harness = await started(start_bot, slack)
    ticks = Ticks(clock)
    await ticks.through(harness.bot, until=paris("07:00"))
    fz.answer_429_next(1)

    await ticks.through(harness.bot, until=paris("07:10"), sparse=TICK)  # every 30 s through the lock

    calls = [r for r in fz.calls() if r.at >= paris("07:00").timestamp()]
    locked_at = next(r.at for r in calls if r.status == 429)
    in_lock = [r for r in calls if locked_at < r.at < locked_at + 300]
    assert in_lock == [], "nothing is sent to Zoho while its lock lasts"
    assert any(r.status == 200 for r in calls if r.at >= locked_at + 300), "the budget resumes after"


async def test_a_revoked_refresh_token_is_one_clear_error_and_no_refresh_storm(
    start_bot: StartBot, slack: FakeSlack, fz: FakeZoho, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    harness = await started(start_bot, slack)
    ticks = Ticks(clock)
    await ticks.through(harness.bot, until=paris("07:00"))
    fz.revoke_refresh_token()
    fz.expire_all_tokens()
    tokens_before = len(fz.token_requests())
    caplog.clear()

    await ticks.through(harness.bot, until=paris("08:00"), busy=[paris("07:00")], sparse=SPARSE)
    sent = await harness.command("Induction")

    refreshes = len(fz.token_requests()) - tokens_before
    assert refreshes <= 3, f"{refreshes} token requests in an hour: at most one each half hour"
    operator = [r for r in caplog.records if r.levelno >= logging.ERROR and "refresh token" in r.getMessage()]
    assert len(operator) == 1, [r.getMessage() for r in operator]
    text = await answer_text(harness, sent)
    assert "Meet the team" in text, "commands answer from held data"


async def test_slack_429_bursts_delay_a_digest_but_it_goes_out_once(
    start_bot: StartBot, slack: FakeSlack, clock: FakeClock
) -> None:
    harness = await started(start_bot, slack)
    ticks = Ticks(clock)
    await ticks.through(harness.bot, until=paris("07:59"))
    slack.rate_limit_next("chat.postMessage", n=4, retry_after=1)

    await ticks.through(harness.bot, until=paris("08:10"), busy=[paris("08:00")])

    assert len(digests_posted(slack)) == 1
    limited = [c for c in slack.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) == 4
    assert ticks.sent[KEY][0] <= paris("08:01")


@pytest.fixture
def postgres_url(postgres_server: object) -> str:
    return postgres_server.fresh_database()  # type: ignore[attr-defined]


async def test_the_database_unreachable_for_a_minute(
    make_bot, postgres_url: str, slack: FakeSlack, clock: FakeClock
) -> None:
    host_port = postgres_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = await TcpProxy(host, int(port)).start()
    try:
        url = postgres_url.replace(host_port, f"127.0.0.1:{proxy.port}")
        PLAN.prepare_slack(slack)
        harness = await make_bot(DATABASE_URL=url)
        await harness.walk()
        await PLAN.subscribe(harness.bot.store)
        ticks = Ticks(clock)
        await ticks.through(harness.bot, until=paris("07:59:30"))

        await proxy.cut()
        failed_ticks = 0
        for moment in tick_plan(paris("08:00"), paris("08:01"), busy=[paris("08:00")]):
            clock.set(moment)
            try:  # as the scheduler's loop does: a failed tick is logged, the next one tries again
                await harness.bot.scheduler.tick()
            except Exception:
                failed_ticks += 1
        during = await harness.command("Induction")
        assert failed_ticks >= 2
        assert digests_posted(slack) == [], "no send while the store cannot record it"
        await proxy.restore()
        await ticks.through(harness.bot, until=paris("08:05"), busy=[paris("08:01")])

        text = (
            all_text(during.body) if during.body.get("blocks") else all_text(await harness.followup(during))
        )
        assert "Meet the team" in text, "commands still show sessions"
        assert len(digests_posted(slack)) == 1, "the digest goes out once the store is back, once"
    finally:
        await proxy.close()


@pytest.mark.parametrize("fault", ["refuses", "unreachable"])
async def test_slack_failing_auth_test_never_tells_people_to_reinstall(
    make_bot: MakeBot, slack: FakeSlack, fault: str, unused_tcp_port: int
) -> None:
    """Bolt's own authorization asked auth.test first and, when it failed, answered "your
    installation is no longer available, please reinstall" (or a 500 when Slack was out of reach)."""
    if fault == "refuses":
        slack.error_next("auth.test", "internal_error", n=10)
        harness = await make_bot()
    else:
        harness = await make_bot(SLACK_API_URL=f"http://127.0.0.1:{unused_tcp_port}/api")

    sent = await harness.command("help")

    assert sent.status == 200
    assert "reinstall" not in sent.http.text
    assert sent.body["text"].startswith("How to use /sessions")
