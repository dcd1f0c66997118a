"""The App Home tab over signed HTTP: published on app_home_opened and after every change, Stop buttons.

The bot runs on the FakeClock of tests/conftest.py (10:00 UTC, Monday 10 March
2025) with the sample org; U1 lives in Paris.
"""

from __future__ import annotations

import html
from typing import Any

from bot.features.forms.ids import FormAction, FormRef, Kind, encode_form
from tests.fakes.signing import JSON_CONTENT_TYPE, block_actions_body, event_body, signed_headers
from tests.slack.harness import SECRET, SlackBot, all_text, buttons

JSON = dict[str, Any]


async def open_home(bot: SlackBot, user: str = "U1") -> JSON:
    """Send app_home_opened as Slack does; return the view then published for `user`."""
    before = len(bot.slack.calls_to("views.publish"))
    body = event_body(
        {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home", "event_ts": "1.2"}
    )
    sent = await bot.post(body, signed_headers(body, SECRET, content_type=JSON_CONTENT_TYPE))
    assert sent.status == 200
    calls = await bot.slack.wait_for_calls_async("views.publish", before + 1)
    call = calls[-1]
    assert call.ok, call.response
    assert call.args["user_id"] == user
    return call.args["view"]


async def click_in_home(bot: SlackBot, view: JSON, button: JSON, user: str = "U1") -> None:
    """A block_actions click from the Home tab: no channel, no response_url, the view attached."""
    body = block_actions_body(
        button["action_id"], button.get("value"), user_id=user, channel_id=None, response_url=None, view=view
    )
    before = len(bot.slack.calls_to("views.publish"))
    sent = await bot.post(body, signed_headers(body, SECRET))
    assert sent.status == 200
    await bot.slack.wait_for_calls_async("views.publish", before + 1)


def text_of(view: JSON) -> str:
    return html.unescape(all_text(view))


async def test_opening_home_with_nothing_set_up_shows_how_to(walked: SlackBot) -> None:
    view = await open_home(walked)

    assert view["type"] == "home"
    text = text_of(view)
    assert "Nothing in the next 14 days." in text
    assert "None yet: `/sessions remind <module> [15m|1h|1d]`" in text
    assert "None: `/sessions digest <module> [at HH:MM] [mon-fri]` in a channel." in text
    assert [b["text"]["text"] for b in buttons(view)] == ["Add a reminder", "Add a channel digest"]
    assert walked.zoho.calls() == [], "the Home tab is built from the store and the cache only"


async def test_home_lists_reminders_digests_and_upcoming_sessions_with_stop_buttons(walked: SlackBot) -> None:
    await walked.command("GDPR Basics")  # fills the cache the Home tab reads
    await walked.command("remind GDPR Basics 1h")
    await walked.command("digest Tools & Systems at 09:30 mon-fri")
    await walked.command("remind Tools & Systems", user="U2")  # someone else's
    walked.zoho.clear()

    view = await open_home(walked)

    text = text_of(view)
    assert "GDPR Basics · *Lawful bases explained*" in text
    assert "GDPR Basics · *Quiz & certification*" in text
    assert "*GDPR Basics*: every session, 1 hour before" in text
    assert "<#C1> · *Tools & Systems* at 09:30 (Europe/Paris), Monday to Friday" in text
    assert "Tools & Systems*: every session" not in text, "only the person's own reminders"
    (reminder,) = await walked.bot.store.reminders(user_id="U1")
    (digest,) = await walked.bot.store.digests()
    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons(view)] == [
        (
            f"{FormAction.OPEN_REMINDER}:{reminder.id}",
            encode_form(FormRef(Kind.REMINDER, reminder.id)),
            "Edit",
        ),
        (
            f"{FormAction.STOP_REMINDER}:{reminder.id}",
            encode_form(FormRef(Kind.REMINDER, reminder.id)),
            "Stop",
        ),
        (f"{FormAction.OPEN_DIGEST}:{digest.id}", encode_form(FormRef(Kind.DIGEST, digest.id)), "Edit"),
        (f"{FormAction.STOP_DIGEST}:{digest.id}", encode_form(FormRef(Kind.DIGEST, digest.id)), "Stop"),
        (FormAction.OPEN_REMINDER.value, encode_form(FormRef(Kind.REMINDER)), "Add a reminder"),
        (FormAction.OPEN_DIGEST.value, encode_form(FormRef(Kind.DIGEST)), "Add a channel digest"),
    ]
    assert len(view["blocks"]) <= 100
    assert walked.zoho.calls() == []


async def test_stop_in_home_removes_the_reminder_and_republishes(walked: SlackBot) -> None:
    await walked.command("remind GDPR Basics 1h")
    await walked.command("remind Tools & Systems")
    view = await open_home(walked)
    stop_gdpr = buttons(view, FormAction.STOP_REMINDER.value)[0]

    await click_in_home(walked, view, stop_gdpr)

    assert [r.module.name for r in await walked.bot.store.reminders(user_id="U1")] == ["Tools & Systems"]
    republished = walked.slack.home_view("U1")
    assert republished is not None
    assert "*GDPR Basics*: every session" not in text_of(republished)
    assert "*Tools & Systems*: every session, 15 minutes before" in text_of(republished)
    assert len(buttons(republished, FormAction.STOP_REMINDER.value)) == 1


async def test_stop_in_home_removes_a_digest_the_person_set_up(walked: SlackBot) -> None:
    await walked.command("digest GDPR Basics")
    view = await open_home(walked)

    await click_in_home(walked, view, buttons(view, FormAction.STOP_DIGEST.value)[0])

    assert await walked.bot.store.digests() == []
    republished = walked.slack.home_view("U1")
    assert republished is not None
    assert buttons(republished, FormAction.STOP_DIGEST.value) == []


async def test_a_stop_click_cannot_remove_someone_elses_digest(walked: SlackBot) -> None:
    await walked.command("digest GDPR Basics")
    view = await open_home(walked)
    walked.slack.add_user("U2", "grace", tz="America/New_York")

    await click_in_home(walked, view, buttons(view, FormAction.STOP_DIGEST.value)[0], user="U2")

    assert len(await walked.bot.store.digests()) == 1


async def test_home_is_republished_after_each_command_that_changes_it(walked: SlackBot) -> None:
    await walked.command("remind GDPR Basics 1h")
    assert "*GDPR Basics*: every session, 1 hour before" in text_of(walked.slack.home_view("U1") or {})

    await walked.command("remind off")
    assert "None yet" in text_of(walked.slack.home_view("U1") or {})

    await walked.command("digest GDPR Basics at 07:15")
    assert "*GDPR Basics* at 07:15 (Europe/Paris), every day" in text_of(walked.slack.home_view("U1") or {})

    await walked.command("digest off GDPR Basics")
    assert "None: `/sessions digest" in text_of(walked.slack.home_view("U1") or {})
    assert [c.args["user_id"] for c in walked.slack.calls_to("views.publish")] == ["U1"] * 4


async def test_a_home_tab_of_another_tab_is_not_published(walked: SlackBot) -> None:
    body = event_body({"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "messages"})
    sent = await walked.post(body, signed_headers(body, SECRET, content_type=JSON_CONTENT_TYPE))
    assert sent.status == 200
    await open_home(walked)  # a later home event proves the earlier one was handled
    assert len(walked.slack.calls_to("views.publish")) == 1


async def test_an_event_slack_resends_is_handled_once(walked: SlackBot) -> None:
    """Found by a probe: events resent with X-Slack-Retry-Num and the same event_id were handled
    each time. The resends go first; another person's event after them is the barrier."""
    event = {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home", "event_ts": "1.2"}
    body = event_body(event, event_id="EvRESENT01")
    first = await walked.post(body, signed_headers(body, SECRET, content_type=JSON_CONTENT_TYPE))
    assert first.status == 200
    await walked.slack.wait_for_calls_async("views.publish", 1)
    for retry in ("1", "2"):
        headers = {**signed_headers(body, SECRET, content_type=JSON_CONTENT_TYPE), "X-Slack-Retry-Num": retry}
        assert (await walked.post(body, headers)).status == 200
    walked.slack.add_user("U2", "bo", tz="Europe/Paris")
    barrier = event_body({**event, "user": "U2", "channel": "DU2"}, event_id="EvBARRIER2")
    await walked.post(barrier, signed_headers(barrier, SECRET, content_type=JSON_CONTENT_TYPE))

    await walked.slack.wait_for_async(lambda: walked.slack.home_view("U2"), what="the barrier's Home")
    published = [c.args["user_id"] for c in walked.slack.calls_to("views.publish")]
    assert published.count("U1") == 1, published
