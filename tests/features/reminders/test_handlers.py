"""`/sessions remind …` and the Remind me button over signed HTTP: sentences, store rows, Home updates.

The bot runs on the FakeClock of tests/conftest.py (10:00 UTC, Monday 10 March
2025) with the sample org; U1 lives in Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.features.listing.ids import Action, decode_session
from bot.features.subscriptions.render import MAX_REMINDERS_PER_PERSON
from bot.features.subscriptions.render import REMINDERS_FULL as TOO_MANY
from bot.sessions.modules import ModuleRef
from tests.fakes.zoho_data import zoho_id
from tests.slack.harness import SlackBot, buttons, session_names

GDPR = f"{zoho_id(100003)}/{zoho_id(200004)}/{zoho_id(300009)}"
TOOLS = f"{zoho_id(100001)}/{zoho_id(200001)}/{zoho_id(300002)}"


def _home_publishes(bot: SlackBot) -> list[str]:
    return [c.args["user_id"] for c in bot.slack.calls_to("views.publish")]


async def test_remind_a_module_with_a_lead_time(walked: SlackBot) -> None:
    sent = await walked.command("remind GDPR Basics 1h")

    assert sent.status == 200
    assert sent.body["response_type"] == "ephemeral"
    assert sent.body["text"] == "I'll send you a direct message 1 hour before each session of *GDPR Basics*."
    (reminder,) = await walked.bot.store.reminders()
    assert (reminder.user_id, reminder.module.key, reminder.module.name) == ("U1", GDPR, "GDPR Basics")
    assert (reminder.session_id, reminder.lead, reminder.paused_reason) == ("", timedelta(hours=1), None)
    assert _home_publishes(walked) == ["U1"], "the Home tab shows the new reminder"
    assert walked.slack.calls_to("chat.postMessage") == [], "nothing is posted anywhere"


@pytest.mark.parametrize(
    ("text", "lead", "said"),
    [
        ("remind tools & systems", timedelta(minutes=15), "15 minutes"),
        ("remind Tools & Systems 1d", timedelta(days=1), "1 day"),
        ("remind Tools & Systems 90m", timedelta(minutes=90), "90 minutes"),
    ],
)
async def test_lead_times(walked: SlackBot, text: str, lead: timedelta, said: str) -> None:
    sent = await walked.command(text)
    assert sent.body["text"] == (
        f"I'll send you a direct message {said} before each session of *Tools &amp; Systems*."
    )
    (reminder,) = await walked.bot.store.reminders(user_id="U1")
    assert reminder.lead == lead


async def test_bad_lead_times_get_a_sentence_and_change_nothing(walked: SlackBot) -> None:
    for text in ("remind GDPR Basics 8d", "remind GDPR Basics 0m", "remind 1h"):
        sent = await walked.command(text)
        assert "/sessions remind" in sent.body["text"], text
    assert await walked.bot.store.reminders() == []
    assert walked.zoho.calls() == []


async def test_remind_list_and_off_for_one_module(walked: SlackBot) -> None:
    assert (await walked.command("remind list")).body["text"].startswith("You have no reminders.")
    await walked.command("remind GDPR Basics 1h")
    await walked.command("remind Tools & Systems")
    await walked.command("remind GDPR Basics", user="U2")

    listed = await walked.command("remind list")
    assert listed.body["text"] == (
        "Your reminders:\n"
        "• *GDPR Basics*: every session, 1 hour before\n"
        "• *Tools &amp; Systems*: every session, 15 minutes before"
    )

    walked.slack.clear_records()
    off = await walked.command("remind off gdpr basics")
    assert off.body["text"] == "Stopped your reminders for *GDPR Basics*."
    assert [r.module.key for r in await walked.bot.store.reminders(user_id="U1")] == [TOOLS]
    assert [r.user_id for r in await walked.bot.store.reminders(user_id="U2")] == ["U2"], "others' stay"
    assert _home_publishes(walked) == ["U1"]

    unknown = await walked.command("remind off GDPR Basics")
    assert unknown.body["text"].startswith("You have no reminders for “GDPR Basics”.")


async def test_remind_off_alone_stops_all_of_the_persons_reminders(walked: SlackBot) -> None:
    await walked.command("remind GDPR Basics 1h")
    await walked.command("remind Tools & Systems")
    await walked.command("remind Tools & Systems", user="U2")

    sent = await walked.command("remind off")

    assert sent.body["text"] == "Stopped all your reminders (2)."
    assert await walked.bot.store.reminders(user_id="U1") == []
    assert len(await walked.bot.store.reminders()) == 1


async def test_the_remind_me_button_of_a_listing_stores_a_one_session_reminder(walked: SlackBot) -> None:
    listing = await walked.command("GDPR Basics")
    assert session_names(listing.body) == ["Lawful bases explained", "Quiz & certification"]
    button = buttons(listing.body, Action.REMIND_SESSION.value)[0]
    ref = decode_session(button["value"])
    walked.slack.clear_records()

    click = await walked.click_button(button)
    answer = await walked.followup(click)

    assert click.status == 200
    assert answer["text"].startswith(
        "I'll send you a direct message 15 minutes before *Lawful bases explained* (<!date^"
    )
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False, "the listing stays where it was"
    (reminder,) = await walked.bot.store.reminders()
    assert (reminder.module.key, reminder.session_id, reminder.lead) == (
        GDPR,
        ref.session_id,
        timedelta(minutes=15),
    )
    assert ref.session_id == zoho_id(400021)
    assert _home_publishes(walked) == ["U1"]

    listed = await walked.command("remind list")
    assert listed.body["text"] == "Your reminders:\n• *GDPR Basics*: one session, 15 minutes before"


async def test_a_remind_me_button_for_a_session_that_has_started_says_so(walked: SlackBot) -> None:
    listing = await walked.command("GDPR Basics")
    button = buttons(listing.body, Action.REMIND_SESSION.value)[0]
    # "Lawful bases explained": 15 March 2025 12:00-12:30 in Paris; the click comes at 12:10.
    walked.clock.set(datetime(2025, 3, 15, 11, 10, tzinfo=UTC))

    answer = await walked.followup(await walked.click_button(button))

    assert answer["text"] == "That session has already started or is no longer planned."
    assert await walked.bot.store.reminders() == []
    assert walked.slack.calls_to("views.publish") == []


async def test_an_old_button_value_gets_a_sentence(walked: SlackBot) -> None:
    click = await walked.click(f"{Action.REMIND_SESSION.value}:x", "not-json")
    answer = await walked.followup(click)
    assert answer["text"] == "This button is from an older message; run `/sessions` again."
    assert await walked.bot.store.reminders() == []


async def test_a_persons_reminders_stop_at_the_limit_but_changing_one_still_works(walked: SlackBot) -> None:
    now = walked.clock.now()
    for n in range(MAX_REMINDERS_PER_PERSON - 1):
        await walked.bot.store.save_reminder(
            "U1", ModuleRef("1", "2", str(n), f"Module {n}"), timedelta(hours=1), now
        )
    await walked.command("remind GDPR Basics 1h")  # the 50th
    listing = await walked.command("GDPR Basics")
    walked.zoho.clear()
    walked.slack.clear_records()

    refused = await walked.command("remind Tools & Systems")
    button = buttons(listing.body, Action.REMIND_SESSION.value)[0]
    clicked = await walked.followup(await walked.click_button(button))

    for answer in (refused.body, clicked):
        assert answer["text"] == TOO_MANY
        assert "`/sessions remind off &lt;module&gt;`" in answer["text"], "it says how to make room"
    assert len(await walked.bot.store.reminders(user_id="U1")) == MAX_REMINDERS_PER_PERSON
    assert walked.slack.calls_to("views.publish") == [], "nothing changed"
    assert walked.zoho.calls() == []

    changed = await walked.command("remind GDPR Basics 1d")
    theirs = await walked.command("remind Tools & Systems", user="U2")

    assert changed.body["text"].startswith("I'll send you a direct message 1 day before")
    assert theirs.body["text"].startswith("I'll send you a direct message"), "the limit is per person"
    mine = await walked.bot.store.reminders(user_id="U1")
    assert len(mine) == MAX_REMINDERS_PER_PERSON
    assert next(r.lead for r in mine if r.module.key == GDPR) == timedelta(days=1)
