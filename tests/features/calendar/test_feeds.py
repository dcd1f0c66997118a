"""Calendar feeds over HTTP against both fakes, on the planned day (06:00 in Paris on Tuesday
10 March 2026): Ana has a reminder of every Induction session, #training a digest of Induction
and Site Safety. The feed is read back with `icalendar` and checked for RFC 5545's required
properties, before and after a session moves and another is cancelled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar, Component

from bot.features.calendar.render import NOT_FOUND, TOO_MANY
from tests.conftest import MakeBot
from tests.day.conftest import clock, org, slack  # noqa: F401  (the planned day's fixtures)
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.features.connect.test_connect_flow import KEY, _free_port
from tests.features.home.test_handlers import click_in_home, open_home
from tests.planned_day import INDUCTION, MINUTE, SAFETY, ChannelDigest, Plan, Sub, Ticks, session
from tests.slack.harness import SlackBot, all_text, buttons

JSON = dict[str, Any]
PLAN = Plan(
    subs=(Sub("UANA", INDUCTION, 15 * MINUTE),),
    digests=(ChannelDigest("CTRAINING", (INDUCTION, SAFETY), time(8)),),
)
ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+/calendar/[A-Za-z0-9_-]{43}\.ics")
FRESHNESS = timedelta(minutes=10)


@pytest.fixture
async def bot(make_bot: MakeBot, slack: FakeSlack) -> SlackBot:  # noqa: F811
    PLAN.prepare_slack(slack)
    harness = await make_bot(BOT_PUBLIC_URL=f"http://127.0.0.1:{_free_port()}", BOT_SECRET_KEY=KEY)
    await PLAN.subscribe(harness.bot.store)
    await harness.walk()  # the catalog knows each module's course and batch
    return harness


@pytest.fixture
async def ticks(bot: SlackBot) -> Ticks:
    """The first tick has read every followed module: the store knows their sessions."""
    ticks = Ticks(bot.clock)
    await ticks.tick(bot.bot)
    return ticks


async def read_again(ticks: Ticks, bot: SlackBot) -> None:
    ticks.clock.advance(FRESHNESS.total_seconds() + 1)
    await ticks.tick(bot.bot)


async def home_button(bot: SlackBot, label: str, user: str = "UANA") -> str:
    """Click `label` in the person's Home tab; the feed's address in the view published then."""
    view = await open_home(bot, user)
    (button,) = [b for b in buttons(view) if b["text"]["text"] == label]
    await click_in_home(bot, view, button, user=user)
    (address,) = ADDRESS.findall(all_text(bot.slack.calls_to("views.publish")[-1].args["view"]))
    return str(address)


def events(response: httpx.Response) -> dict[str, Component]:
    """The feed's events by summary, after checking what RFC 5545 requires of it."""
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"\r\n" in response.content, "lines end in CRLF"
    calendar = Calendar.from_ical(response.content)
    assert calendar.name == "VCALENDAR"
    assert (str(calendar["VERSION"]), bool(calendar.get("PRODID"))) == ("2.0", True)
    zones = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    found = {}
    for event in calendar.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART"):
            assert event.get(required) is not None, f"{required} missing"
        assert event["DTSTART"].params["TZID"] in zones, "each TZID has its VTIMEZONE"
        found[str(event["SUMMARY"])] = event
    return found


def summary(event: Component) -> tuple[datetime, int, str]:
    return event.decoded("DTSTART").astimezone(UTC), int(event["SEQUENCE"]), str(event["STATUS"])


async def test_a_feed_shows_a_moved_session_at_its_new_time_and_a_cancelled_one_for_seven_days(
    bot: SlackBot, ticks: Ticks, fz: FakeZoho
) -> None:
    address = await home_button(bot, "Subscribe in your calendar")
    calls = len(fz.calls())
    first = await bot.http.get(address)
    overview, meet, benefits = session(101), session(102), session(103)
    assert {name: summary(e) for name, e in events(first).items()} == {
        "Company overview": (overview.start, 0, "CONFIRMED"),
        "Meet the team": (meet.start, 0, "CONFIRMED"),
        "Benefits Q&A": (benefits.start, 0, "CONFIRMED"),
    }, "Induction's upcoming sessions; yesterday's is over"
    assert "Course of Induction › Batch of Induction › Induction" in str(
        events(first)["Meet the team"]["DESCRIPTION"]
    )
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    unchanged = [
        await bot.http.get(address, headers={"If-None-Match": etag}),
        await bot.http.get(address, headers={"If-Modified-Since": modified}),
    ]
    assert [(r.status_code, r.content, r.headers["ETag"]) for r in unchanged] == [(304, b"", etag)] * 2
    assert len(fz.calls()) == calls, "feeds are served from the store: no Zoho call"

    fz.update_session(
        meet.session_id, sessionStartDate="12-03-2026", sessionStartTime="4:00 PM", sessionEndTime="5:00 PM"
    )
    fz.remove_session(benefits.session_id)
    await read_again(ticks, bot)
    await read_again(ticks, bot)

    changed = await bot.http.get(address, headers={"If-None-Match": etag})
    assert changed.headers["ETag"] != etag
    assert {name: summary(e) for name, e in events(changed).items()} == {
        "Company overview": (overview.start, 0, "CONFIRMED"),
        "Meet the team": (meet.start.replace(day=12) + timedelta(hours=2), 1, "CONFIRMED"),
        "Benefits Q&A": (benefits.start, 1, "CANCELLED"),
    }

    bot.clock.advance(timedelta(days=7, minutes=1).total_seconds())
    assert "Benefits Q&A" not in events(await bot.http.get(address))


async def test_a_reset_address_and_an_unknown_one_get_the_same_404(bot: SlackBot, ticks: Ticks) -> None:
    old = await home_button(bot, "Subscribe in your calendar")
    assert (await bot.http.get(old)).status_code == 200

    new = await home_button(bot, "Reset link")

    assert new != old
    assert len(events(await bot.http.get(new))) == 3
    never = old.rsplit("/", 1)[0] + "/" + "A" * 43 + ".ics"
    refused = [await bot.http.get(url) for url in (old, never, old.rsplit("/", 1)[0] + "/nope.ics")]
    assert [(r.status_code, r.text) for r in refused] == [(404, NOT_FOUND)] * 3


async def test_an_address_asked_too_often_gets_429_with_retry_after(bot: SlackBot) -> None:
    address = await home_button(bot, "Subscribe in your calendar")
    statuses = [(await bot.http.get(address)).status_code for _ in range(10)]
    limited = await bot.http.get(address)

    assert statuses == [200] * 10
    assert (limited.status_code, limited.text, limited.headers["Retry-After"]) == (429, TOO_MANY, "60")
    bot.clock.advance(60)
    assert (await bot.http.get(address)).status_code == 200


async def test_digest_list_offers_the_channels_feed_of_its_modules(bot: SlackBot, ticks: Ticks) -> None:
    listed = (await bot.command("digest list", user="UANA", channel="CTRAINING")).body
    (address,) = ADDRESS.findall(all_text(listed))
    again = (await bot.command("digest list", user="UANA", channel="CTRAINING")).body

    assert ADDRESS.findall(all_text(again)) == [address], "one feed per channel"
    assert sorted(events(await bot.http.get(address))) == [
        "Benefits Q&A",
        "Company overview",
        "Evacuation walk",
        "Fire drill",
        "First aid",
        "Meet the team",
    ]
