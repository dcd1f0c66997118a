"""`/sessions <module>` end to end over signed HTTP: the ack, response_url, chat.postMessage, Zoho calls.

The bot and the fake Zoho share a FakeClock at 10:00 UTC (11:00 in Paris) on
Monday 10 March 2025; sample data sits around that day.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.features.listing.handlers import CANNOT_POST
from bot.features.listing.ids import Action, ListingRef, decode_listing
from bot.features.listing.render import PAGE_SIZE
from bot.sessions.modules import ModuleId
from tests.conftest import START, TODAY
from tests.fakes.zoho_data import Batch, Course, Module, Org, make_session, zoho_id
from tests.slack.harness import (
    SlackBot,
    all_text,
    assert_within_slack_limits,
    block_text_chars,
    buttons,
    date_stamps,
    header,
    session_names,
)

PARIS = ZoneInfo("Europe/Paris")
TOOLS = ["Laptop & accounts setup", "Slack and e-mail etiquette", "Expense tool walkthrough"]
INTRO_A = f"{zoho_id(100001)}/{zoho_id(200001)}/{zoho_id(300001)}"
"""Onboarding › Cohort A › Introduction, by its ids ("introduction" alone is ambiguous)."""


def session_calls(sb: SlackBot) -> list[str]:
    """LMS requests for sessions (not the catalog walk, not tokens)."""
    return [r.path for r in sb.zoho.calls() if r.path.endswith("/sessions")]


# --------------------------------------------------------------------------- the answer in the ack


async def test_cold_then_warm_answer_travels_in_the_ack(walked: SlackBot) -> None:
    cold = await walked.command("Tools & Systems")

    assert cold.status == 200
    assert cold.body["response_type"] == "ephemeral"
    assert header(cold.body) == "Tools & Systems"
    assert session_names(cold.body) == TOOLS
    assert "Onboarding › Cohort A · upcoming, the next 14 days" in all_text(cold.body)
    assert cold.body["text"].startswith("Tools &amp; Systems: 3 upcoming sessions in the next 14 days.")
    assert_within_slack_limits(cold.body)
    assert len(session_calls(walked)) == 1
    assert walked.slack.responses == []

    warm = await walked.command("tools")
    assert session_names(warm.body) == TOOLS
    assert len(session_calls(walked)) == 1, "a fresh cache answers without asking Zoho"
    assert walked.slack.responses == []


async def test_sessions_are_sorted_and_ended_ones_left_out(walked: SlackBot) -> None:
    # "Feedback models" ended a week ago; the practice lab (09:00-12:00 Paris) is still running.
    sent = await walked.command("Giving Feedback")
    assert session_names(sent.body) == ["Practice lab: difficult conversations", "Follow-up clinic"]
    starts = [stamps[0] for stamps in map(date_stamps, _session_texts(sent.body))]
    assert starts == sorted(starts)


def _session_texts(message: dict) -> list[str]:
    return [
        b["text"]["text"]
        for b in message["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("*") and "accessory" not in b
    ]


async def test_times_are_date_tokens_with_the_zoho_zone_as_fallback(walked: SlackBot) -> None:
    sent = await walked.command("Tools & Systems")
    laptop = _session_texts(sent.body)[0]
    start = datetime.combine(TODAY + timedelta(days=1), time(9, 30), PARIS)
    end = start + timedelta(hours=2)
    assert date_stamps(laptop) == [int(start.timestamp()), int(end.timestamp())]
    assert "|Tue 11 Mar 2025 09:30 CET>" in laptop
    assert "Trainer: Kwame Mensah · Room: Training Lab 2 · Type: Classroom · Learners: 12" in laptop


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("Tools & Systems week", "the next 7 days", TOOLS[:2]),
        ("Tools & Systems tomorrow", "tomorrow", TOOLS[:1]),
        ("Tools & Systems today", "today", []),
        ("Giving Feedback today", "today", ["Practice lab: difficult conversations"]),
        ("Handling Data Requests", "the next 14 days", ["Subject access requests"]),
        ("Handling Data Requests week", "the next 7 days", []),
        (
            "Handling Data Requests month",
            "the next 30 days",
            ["Subject access requests", "Breach reporting drill"],
        ),
    ],
)
async def test_window_words_change_the_window(
    walked: SlackBot, text: str, label: str, expected: list[str]
) -> None:
    sent = await walked.command(text)
    assert session_names(sent.body) == expected
    assert f"upcoming, {label}" in all_text(sent.body)


async def test_today_and_tomorrow_are_the_readers_own_days(walked: SlackBot) -> None:
    # "Meet your buddy" is at 14:00 Paris today: 02:00 tomorrow for a reader in Auckland.
    walked.slack.add_user("UNZ", "kiri", tz="Pacific/Auckland")

    paris_today = await walked.command(f"{INTRO_A} today")
    paris_tomorrow = await walked.command(f"{INTRO_A} tomorrow")
    auckland_today = await walked.command(f"{INTRO_A} today", user="UNZ")
    auckland_tomorrow = await walked.command(f"{INTRO_A} tomorrow", user="UNZ")

    assert session_names(paris_today.body) == ["Meet your buddy"]
    assert session_names(paris_tomorrow.body) == []
    assert session_names(auckland_today.body) == []
    assert session_names(auckland_tomorrow.body) == ["Meet your buddy"]
    assert {c.args["user"] for c in walked.slack.calls_to("users.info")} == {"U1", "UNZ"}


# --------------------------------------------------------------------------- finding the module


async def test_unknown_module_offers_the_nearest_as_buttons(walked: SlackBot) -> None:
    sent = await walked.command("toolz and sistems week")

    body = sent.body
    assert body["response_type"] == "ephemeral"
    assert "I couldn't find a module called “toolz and sistems”" in all_text(body)
    assert body["text"] == "No module called toolz and sistems."
    choices = buttons(body, Action.PICK_MODULE.value)
    assert 1 <= len(choices) <= 3
    assert choices[0]["text"]["text"] == "Onboarding › Cohort A › Tools & Systems"
    assert all(len(b["text"]["text"]) <= 75 for b in choices)
    assert decode_listing(choices[0]["value"]).window == "week"
    assert_within_slack_limits(body)

    click = await walked.click_button(choices[0])
    assert click.status == 200
    assert click.body == {}
    listing = await walked.followup(click)
    assert listing["replace_original"] is True
    assert header(listing) == "Tools & Systems"
    assert session_names(listing) == TOOLS[:2]
    assert "upcoming, the next 7 days" in all_text(listing)


async def test_before_the_first_discovery_an_unknown_name_says_to_try_again_soon(sb: SlackBot) -> None:
    sent = await sb.command("toolz and sistems")

    assert "I'm still discovering the modules in Zoho" in all_text(sent.body)
    assert "/sessions course/batch/module" in all_text(sent.body)
    assert [r.query.get("search") for r in sb.zoho.calls()] == ["toolz and sistems"]


async def test_ambiguous_name_offers_each_candidate_by_its_path(walked: SlackBot) -> None:
    sent = await walked.command("introduction")

    assert "“introduction” matches several modules" in all_text(sent.body)
    choices = buttons(sent.body, Action.PICK_MODULE.value)
    assert [b["text"]["text"] for b in choices] == [
        "Onboarding › Cohort A › Introduction",
        "Onboarding › Cohort B › Introduction",
    ]
    assert len({b["action_id"] for b in choices}) == 2
    assert session_calls(walked) == []

    click = await walked.click_button(choices[1])
    listing = await walked.followup(click)
    assert listing["replace_original"] is True
    assert "Onboarding › Cohort B" in all_text(listing)
    # Its sessions are 14 days ahead: 09:00 Paris is inside the 14-day window, 14:00 is past it.
    assert session_names(listing) == ["Welcome & company overview"]


async def test_module_picker_selection_shows_the_listing(walked: SlackBot) -> None:
    help_message = (await walked.command("")).body
    select = next(b["accessory"] for b in help_message["blocks"] if "accessory" in b)
    option = next(o for o in select["options"] if o["text"]["text"].endswith("Tools & Systems"))

    click = await walked.click(
        select["action_id"],
        None,
        action={
            "type": "static_select",
            "action_id": select["action_id"],
            "block_id": "listing:picker",
            "selected_option": option,
            "placeholder": select["placeholder"],
            "action_ts": "1700000000.000200",
        },
    )
    listing = await walked.followup(click)
    assert listing["replace_original"] is True
    assert session_names(listing) == TOOLS


# --------------------------------------------------------------------------- nothing, old data, no data


async def test_empty_window_names_the_next_session_and_its_date(walked: SlackBot) -> None:
    sent = await walked.command("Company Culture")

    assert session_names(sent.body) == []
    text = all_text(sent.body)
    assert "No upcoming sessions of *Company Culture* in the next 14 days." in text
    assert "The next one is *Our values in practice* on <!date^" in text
    next_start = datetime.combine(TODAY + timedelta(days=15), time(10, 0), PARIS)
    assert int(next_start.timestamp()) in date_stamps(text)
    assert sent.body["text"] == "No upcoming sessions of Company Culture in the next 14 days."
    assert buttons(sent.body, Action.SHARE.value) == []


async def test_stale_data_is_shown_with_why_and_from_when(walked: SlackBot) -> None:
    await walked.command("Tools & Systems")  # fills the cache at START
    walked.clock.advance(700)  # past the 10-minute TTL
    walked.zoho.answer_429_next(1)  # the refresh behind the next answer gets Zoho's lock

    during_refresh = await walked.command("Tools & Systems")
    assert session_names(during_refresh.body) == TOOLS
    await walked.bot.core.sessions.drain()
    assert [r.status for r in walked.zoho.calls() if r.path.endswith("/sessions")] == [200, 429]

    stale = await walked.command("Tools & Systems")
    assert session_names(stale.body) == TOOLS
    notice = next(t for t in all_text(stale.body).split("\n") if t.startswith(":warning:"))
    assert "Zoho has paused API access" in notice
    assert "Showing data from <!date^" in notice
    assert date_stamps(notice) == [int(START.timestamp())]
    assert len(session_calls(walked)) == 2, "no call leaves while Zoho's lock lasts"


async def test_no_data_and_zoho_down_gives_a_sentence(walked: SlackBot) -> None:
    walked.zoho.fail_next(50, status=500)

    sent = await walked.command("Tools & Systems")

    assert sent.status == 200
    assert sent.body["response_type"] == "ephemeral"
    assert "Zoho People isn't answering right now; try again in a few minutes." in sent.body["text"]
    assert "Traceback" not in sent.http.text
    assert [r.status for r in walked.zoho.calls()] == [500, 500, 500]


async def test_no_data_and_zoho_locked_says_until_when(walked: SlackBot) -> None:
    walked.zoho.answer_429_next(1)

    sent = await walked.command("Tools & Systems")

    assert "Zoho has paused the bot's access" in sent.body["text"]
    assert date_stamps(sent.body["text"]) == [int(START.timestamp()) + 300]
    again = await walked.command("Tools & Systems")
    assert "Zoho has paused the bot's access" in again.body["text"]
    assert len(walked.zoho.calls()) == 1, "the lock is respected, not probed"


# --------------------------------------------------------------------------- show more


def _busy_module(count: int) -> Org:
    """One module with `count` sessions in the next 12 days, two a day, long texts everywhere."""
    module = Module(zoho_id(390001), "Busy Module")
    for k in range(count):
        day = TODAY + timedelta(days=1 + k // 2)
        start = datetime.combine(day, time(9, 0) if k % 2 == 0 else time(14, 0))
        module.sessions.append(
            make_session(
                zoho_id(900001 + k),
                module.module_id,
                f"Session {k + 1:02d} " + "with a rather long title " * 8,
                start,
                90,
                description="A description that goes on and on. " * 20,
                sessionTrainer="Trainer " + "Name " * 30,
                sessionRoom="Room " + "Wing " * 30,
                totalLearnersCount=k,
            )
        )
    batch = Batch(zoho_id(290001), "Busy Batch", modules=[module])
    return Org(courses=[Course(zoho_id(190001), "Busy Course", batches=[batch])])


def _numbers(message: dict) -> list[int]:
    return [int(name.split()[1]) for name in session_names(message)]


async def test_show_more_pages_through_23_sessions(sb: SlackBot) -> None:
    sb.zoho.set_org(_busy_module(23))
    await sb.walk()

    first = (await sb.command("Busy Module")).body
    assert _numbers(first) == list(range(1, 11))
    assert "Sessions 1–10 of 23" in all_text(first)
    assert first["text"].startswith("Busy Module: 23 upcoming sessions in the next 14 days.")
    (more,) = buttons(first, Action.SHOW_MORE.value)
    assert more["text"]["text"] == "Show more"
    assert decode_listing(more["value"]) == ListingRef(
        ModuleId(zoho_id(190001), zoho_id(290001), zoho_id(390001)), "", 10
    )

    click = await sb.click_button(more)
    assert click.status == 200
    second = await sb.followup(click)
    assert second["replace_original"] is True
    assert _numbers(second) == list(range(11, 21))
    assert "Sessions 11–20 of 23" in all_text(second)

    (more,) = buttons(second, Action.SHOW_MORE.value)
    third = await sb.followup(await sb.click_button(more))
    assert third["replace_original"] is True
    assert _numbers(third) == [21, 22, 23]
    assert "Sessions 21–23 of 23" in all_text(third)
    assert buttons(third, Action.SHOW_MORE.value) == []
    assert len(buttons(third, Action.SHARE.value)) == 1

    for message in (first, second, third):
        print(f"\npage: {len(message['blocks'])} blocks, {block_text_chars(message)} chars of block text")
        assert_within_slack_limits(message)
        assert len(message["blocks"]) <= 2 * PAGE_SIZE + 5
        assert block_text_chars(message) < 13_000
    assert len(session_calls(sb)) == 1, "paging reads the cache"


# --------------------------------------------------------------------------- share in channel


async def test_share_posts_the_same_sessions_in_the_channel(walked: SlackBot) -> None:
    listing = (await walked.command("Tools & Systems")).body
    (share,) = buttons(listing, Action.SHARE.value)

    click = await walked.click_button(share)
    assert click.status == 200
    (call,) = await walked.slack.wait_for_calls_async("chat.postMessage", 1, timeout=15)

    assert call.ok
    assert call.args["channel"] == "C1"
    posted = call.args
    assert session_names(posted) == TOOLS
    assert header(posted) == "Tools & Systems"
    assert "shared by <@U1>" in all_text(posted)
    assert posted["text"] == listing["text"]
    ids = [e["action_id"] for e in buttons(posted)]
    assert ids, "calendar links stay"
    for action in (Action.SHARE, Action.SHOW_MORE, Action.REMIND_SESSION, Action.PICK_MODULE):
        assert not any(i.startswith(action.value) for i in ids)
    assert_within_slack_limits(posted)
    assert walked.slack.responses_to(click.response_url_name) == []


async def test_share_in_a_private_channel_without_the_bot_says_to_invite_it(walked: SlackBot) -> None:
    walked.slack.add_channel("G1", "secret-team", is_private=True, is_member=False)
    listing = (await walked.command("Tools & Systems", channel="G1")).body
    (share,) = buttons(listing, Action.SHARE.value)

    click = await walked.click_button(share, channel="G1")
    answer = await walked.followup(click)

    (call,) = walked.slack.calls_to("chat.postMessage")
    assert call.error == "not_in_channel"
    assert answer["text"] == CANNOT_POST
    assert "Invite me first" in answer["text"]
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert answer["replace_original"] is False


async def test_a_button_from_an_older_version_gets_a_sentence(walked: SlackBot) -> None:
    click = await walked.click(Action.SHOW_MORE.value, '{"v":0,"m":"a/b/c"}')
    answer = await walked.followup(click)
    assert "older message" in answer["text"]
    assert answer["replace_original"] is False


@pytest.mark.parametrize(
    "value",
    [
        pytest.param('{"v":1,"m":"KEY","o":Infinity}', id="infinite-offset"),
        pytest.param('{"v":1,"m":"KEY","o":-5}', id="negative-offset"),
        pytest.param('{"v":1,"m":"KEY","o":1e308}', id="huge-offset"),
        pytest.param('{"v":1,"m":"KEY","w":"fortnight"}', id="unknown-window"),
        pytest.param('{"v":1,"m":"KEY","w":["week"]}', id="window-not-text"),
        pytest.param('{"v":1,"m":' + "[" * 5000 + "]" * 5000 + "}", id="5000-deep"),
        pytest.param('{"v":1,"m":"' + "a/b/" + "c" * 900_000 + '"}', id="900-KB-module"),
        pytest.param("[]", id="not-an-object"),
        pytest.param("", id="empty"),
    ],
)
async def test_a_tampered_button_value_gets_a_sentence_and_a_bounded_log_line(
    walked: SlackBot, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a probe: such values gave "Something went wrong" or, for a 900 KB module field,
    stalled the bot for 11 s; the log then carried the whole value."""
    (tools,) = [m for m in walked.bot.core.catalog.modules() if m.name == "Tools & Systems"]
    with caplog.at_level(logging.INFO):
        click = await walked.click(Action.SHOW_MORE.value, value.replace("KEY", tools.key))
        answer = await walked.followup(click)

    assert click.status == 200
    assert "older message" in answer["text"]
    assert walked.zoho.requests == []
    assert max((len(r.getMessage()) for r in caplog.records), default=0) < 1000


async def test_calendar_link_buttons_are_acknowledged(walked: SlackBot) -> None:
    listing = (await walked.command("Tools & Systems")).body
    calendar = buttons(listing, Action.CALENDAR.value)[0]
    click = await walked.click(calendar["action_id"], None)
    assert click.status == 200
    assert click.body == {}
    assert calendar["url"].startswith("https://calendar.google.com/")


def test_sample_day_is_a_monday() -> None:
    """The expectations above rely on it (and on Paris being at UTC+1 that week)."""
    assert date(2025, 3, 10) == TODAY
    assert START.astimezone(PARIS).hour == 11


@pytest.mark.parametrize("command", ["{}", "digest {}", "remind {} 1h"])
async def test_before_the_first_discovery_every_command_says_the_same_about_an_unknown_name(
    sb: SlackBot, command: str
) -> None:
    """Found by a probe: digest and remind said the module did not exist where the listing rightly
    said to try again soon."""
    sent = await sb.command(command.format("toolz and sistems"))
    answer = sent.body if sent.body.get("text") else await sb.followup(sent)

    assert "I'm still discovering the modules in Zoho" in all_text(answer)
    assert await sb.bot.store.digests() == []
    assert await sb.bot.store.reminders() == []
