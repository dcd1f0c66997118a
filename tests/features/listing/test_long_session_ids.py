"""A session whose Zoho id is too long for a button's value, in a listing and the shortcut's modal.

A "Remind me" button's value names the session by its id, and Slack refuses a whole message
(or view) with a button value over 2,000 characters. Found from outside: a 2,000-character id,
or 400 non-ASCII characters (each escaped to six in the value's JSON), made the listing's
value too long, so Slack would have refused the listing. Such a session is still listed, with
its calendar button (a link, no value); it has no "Remind me" of its own, since no value could
name it, while "Remind me of every session…" under the listing still covers it. Every other
session keeps its buttons.

The bot runs on the FakeClock of tests/conftest.py (10:00 UTC, Monday 10 March 2025).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from bot.features.listing.ids import MAX_VALUE_CHARS
from tests.conftest import TODAY
from tests.fakes.zoho_data import Batch, Course, Module, Org, make_session, zoho_id
from tests.slack.harness import SlackBot, assert_within_slack_limits, buttons, session_names

LONG_ID = "9" * 2000
WIDE_ID = "é" * 400
SHORT_ID = zoho_id(970001)
NAMES = ["Long id", "Wide id", "Short id"]
MODULE = "Odd ids"
REMIND = "listing.remind_session.v1"
CALENDAR = "listing.calendar.v1"


@pytest.fixture
def org() -> Org:
    module = Module(zoho_id(370001), MODULE)
    for hour, (session_id, name) in enumerate(zip((LONG_ID, WIDE_ID, SHORT_ID), NAMES, strict=True)):
        start = datetime.combine(TODAY + timedelta(days=1), time(9 + hour))
        module.sessions.append(make_session(session_id, module.module_id, name, start))
    batch = Batch(zoho_id(270001), "Cohort", modules=[module], learners_count=3)
    return Org(courses=[Course(zoho_id(170001), "Odd course", batches=[batch])])


def remind_sessions(message: dict) -> list[str]:
    """Which sessions (by name, in order) have a Remind me button beside them."""
    names, shown = session_names(message), []
    sections = [b for b in message["blocks"] if b["type"] == "section" and "accessory" not in b]
    titled = [s for s in sections if s["text"]["text"].startswith("*")]
    for name, section in zip(names, titled, strict=True):
        actions = message["blocks"][message["blocks"].index(section) + 1]
        if actions["type"] == "actions" and any(
            e["action_id"].startswith(REMIND) for e in actions["elements"]
        ):
            shown.append(name)
    return shown


async def test_a_listing_with_too_long_session_ids_stays_within_slacks_limits(walked: SlackBot) -> None:
    sent = await walked.command(MODULE)

    assert sent.status == 200
    listing = sent.body
    assert_within_slack_limits(listing)
    assert session_names(listing) == NAMES
    assert len(buttons(listing, CALENDAR)) == 3, "every session can go in a calendar"
    assert remind_sessions(listing) == ["Short id"]
    assert buttons(listing, "forms.open_reminder"), "Remind me of every session… still covers them"


async def test_remind_me_still_works_for_the_session_whose_id_fits(walked: SlackBot) -> None:
    sent = await walked.command(MODULE)
    (remind,) = buttons(sent.body, REMIND)

    click = await walked.click_button(remind)
    answer = await walked.followup(click)

    assert answer["text"].startswith("I'll send you a direct message")
    (reminder,) = await walked.bot.store.reminders()
    assert reminder.session_id == SHORT_ID


async def test_the_shortcut_modal_lists_them_within_slacks_limits(walked: SlackBot) -> None:
    module = next(m for m in walked.bot.core.catalog.modules() if m.name == MODULE)
    await walked.shortcut("sessions.upcoming.v1")
    (opened,) = await walked.slack.wait_for_calls_async("views.open")
    modal = walked.slack.modal(opened.response["view"]["id"])
    assert modal is not None
    picked = {
        "type": "external_select",
        "action_id": "forms.browse.v1",
        "block_id": "forms.browse",
        "selected_option": {"text": {"type": "plain_text", "text": MODULE}, "value": module.key},
        "action_ts": "1.2",
    }

    await walked.act_in_modal(modal, picked)

    (updated,) = await walked.slack.wait_for_calls_async("views.update")
    assert updated.ok, updated.response
    shown = walked.slack.modal(modal["id"])
    assert shown is not None
    assert session_names(shown) == NAMES
    assert all(
        len(e.get("value", "")) <= MAX_VALUE_CHARS for b in shown["blocks"] for e in b.get("elements", [])
    )
    assert remind_sessions(shown) == ["Short id"]
