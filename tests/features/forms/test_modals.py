"""The reminder and digest forms over signed HTTP, as Slack sends them: opened from a listing or
App Home, filled, submitted, refused at a field, edited in place, and stopped.

The bot runs on the FakeClock of tests/conftest.py (10:00 UTC, Monday 10 March 2025) with the
sample org; U1 lives in Paris and is in the public channel C1 with the bot.
"""

from __future__ import annotations

import html
from datetime import time, timedelta
from typing import Any

import pytest

from bot.features.forms.ids import Field, FormAction, FormCallback, FormRef, Kind, encode_form
from tests.fakes.signing import option
from tests.fakes.zoho import FakeZoho
from tests.features.home.test_handlers import open_home
from tests.slack.harness import SlackBot, all_text, buttons

JSON = dict[str, Any]
GDPR = "GDPR Basics"


@pytest.fixture
async def bot(walked: SlackBot) -> SlackBot:
    walked.slack.join("C1", "U1")
    return walked


async def listing(bot: SlackBot, query: str = GDPR, user: str = "U1") -> JSON:
    sent = await bot.command(query, user=user)
    assert sent.status == 200
    return sent.body


def button(message: JSON, action: FormAction, label: str | None = None) -> JSON:
    found = [b for b in buttons(message, action.value) if label is None or b["text"]["text"] == label]
    assert found, f"no {action} button"
    return found[0]


def block(view: JSON, field: Field) -> JSON:
    return next(b for b in view["blocks"] if b.get("block_id") == field.value)


def module_key(bot: SlackBot, name: str) -> str:
    return next(m.key for m in bot.bot.core.catalog.modules() if m.name == name)


def module_choice(bot: SlackBot, name: str) -> JSON:
    module = next(m for m in bot.bot.core.catalog.modules() if m.name == name)
    return option(module.path, module.key)


def day(name: str) -> JSON:
    return option(name.capitalize(), name[:3].lower())


async def save(bot: SlackBot, modal: JSON, answers: dict[str, Any], user: str = "U1") -> None:
    """Submit a form that must save: the modal closes, and the person's Home is republished
    last (so the bot has finished with it)."""
    publishes = len(bot.slack.calls_to("views.publish"))
    sent = await bot.submit(modal, answers, user=user)
    assert sent.status == 200
    assert sent.body == {}, "an empty ack closes the modal"
    await bot.slack.wait_for_calls_async("views.publish", publishes + 1)


async def published_home(bot: SlackBot, user: str = "U1") -> JSON:
    view = bot.slack.home_view(user)
    assert view is not None
    return view


# --------------------------------------------------------------------------- reminder form


async def test_remind_me_of_every_session_opens_the_form_with_the_module_and_saves_it(bot: SlackBot) -> None:
    message = await listing(bot)
    modal = await bot.click_to_open(button(message, FormAction.OPEN_REMINDER))

    assert modal["type"] == "modal"
    assert modal["callback_id"] == FormCallback.REMINDER
    assert block(modal, Field.MODULE)["element"]["initial_option"]["value"] == module_key(bot, GDPR)
    assert block(modal, Field.LEAD)["element"]["initial_option"]["value"] == "15"
    publishes = len(bot.slack.calls_to("views.publish"))

    sent = await bot.submit(modal, {FormAction.LEAD: option("1 hour before", "60")})

    assert sent.status == 200
    assert sent.body == {}, "an empty ack closes the modal"
    (reminder,) = await bot.bot.store.reminders(user_id="U1")
    assert (reminder.module.name, reminder.lead, reminder.session_id) == (GDPR, timedelta(hours=1), "")
    (confirmation,) = await bot.slack.wait_for_calls_async("chat.postEphemeral")
    assert (confirmation.args["channel"], confirmation.args["user"]) == ("C1", "U1")
    assert "1 hour before every session of *GDPR Basics*" in confirmation.args["text"]
    await bot.slack.wait_for_calls_async("views.publish", publishes + 1)
    assert "*GDPR Basics*: every session, 1 hour before" in html.unescape(all_text(await published_home(bot)))


async def test_the_reminder_forms_module_can_be_changed_before_saving(bot: SlackBot) -> None:
    modal = await bot.click_to_open(button(await listing(bot), FormAction.OPEN_REMINDER))

    await save(bot, modal, {FormAction.MODULE: module_choice(bot, "Tools & Systems")})

    (reminder,) = await bot.bot.store.reminders(user_id="U1")
    assert reminder.module.name == "Tools & Systems"


async def test_a_reminder_form_without_a_module_is_refused_at_its_field(bot: SlackBot) -> None:
    view = await open_home(bot)
    modal = await bot.click_to_open(
        button(view, FormAction.OPEN_REMINDER, "Add a reminder"), channel=None, view=view
    )
    assert "initial_option" not in block(modal, Field.MODULE)["element"], "App Home's form starts empty"

    sent = await bot.submit(modal, {})

    assert sent.body["response_action"] == "errors"
    assert set(sent.body["errors"]) == {Field.MODULE}
    assert await bot.bot.store.reminders() == []


async def test_a_reminder_form_from_app_home_confirms_by_direct_message(bot: SlackBot) -> None:
    view = await open_home(bot)
    modal = await bot.click_to_open(
        button(view, FormAction.OPEN_REMINDER, "Add a reminder"), channel=None, view=view
    )

    await save(bot, modal, {FormAction.MODULE: module_choice(bot, GDPR)})

    posts = await bot.slack.wait_for_calls_async("chat.postMessage")
    assert posts[-1].args["channel"] == "U1"
    assert "15 minutes before every session of *GDPR Basics*" in posts[-1].args["text"]


# --------------------------------------------------------------------------- digest form


async def test_daily_digest_in_this_channel_opens_the_form_and_subscribes_the_channel(bot: SlackBot) -> None:
    bot.slack.add_user("U3", "lin", tz="America/New_York")
    bot.slack.join("C1", "U3")
    message = await listing(bot, user="U3")
    modal = await bot.click_to_open(button(message, FormAction.OPEN_DIGEST), user="U3")

    assert modal["callback_id"] == FormCallback.DIGEST
    assert block(modal, Field.CHANNEL)["element"]["initial_conversation"] == "C1"
    assert [o["value"] for o in block(modal, Field.MODULE)["element"]["initial_options"]] == [
        module_key(bot, GDPR)
    ]
    assert [o["value"] for o in block(modal, Field.DAYS)["element"]["initial_options"]] == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    ]
    assert "America/New_York" in block(modal, Field.TIME)["hint"]["text"], "read in the submitter's zone"

    await save(
        bot,
        modal,
        {
            FormAction.MODULES: [module_choice(bot, GDPR), module_choice(bot, "Tools & Systems")],
            FormAction.TIME: "07:45",
            FormAction.DAYS: [day("monday"), day("thursday")],
        },
        user="U3",
    )

    digests = await bot.bot.store.digests(channel_id="C1")
    assert sorted((d.module.name, d.at, d.weekdays, d.zone, d.created_by) for d in digests) == [
        (GDPR, time(7, 45), frozenset({0, 3}), "America/New_York", "U3"),
        ("Tools & Systems", time(7, 45), frozenset({0, 3}), "America/New_York", "U3"),
    ]
    (announced,) = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C1"]
    assert "<@U3> subscribed this channel to daily digests" in announced.args["blocks"][0]["text"]["text"]
    (confirmation,) = await bot.slack.wait_for_calls_async("chat.postEphemeral")
    assert "at 07:45 (America/New_York), Mon, Thu." in confirmation.args["text"]


async def test_a_digest_form_with_no_day_ticked_is_refused_at_the_days_and_saves_nothing(
    bot: SlackBot,
) -> None:
    modal = await bot.click_to_open(button(await listing(bot), FormAction.OPEN_DIGEST))

    sent = await bot.submit(modal, {FormAction.DAYS: []})

    assert sent.body == {"response_action": "errors", "errors": {Field.DAYS: "Tick at least one day."}}
    assert await bot.bot.store.digests() == []
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_a_private_channel_the_bot_is_not_in_is_refused_with_how_to_invite_it(bot: SlackBot) -> None:
    bot.slack.add_channel("G7", "secret-cohort", is_private=True, is_member=False, members=["U1"])
    modal = await bot.click_to_open(button(await listing(bot), FormAction.OPEN_DIGEST))

    sent = await bot.submit(modal, {FormAction.CHANNEL: "G7"})

    assert sent.body["response_action"] == "errors"
    assert "/invite @Sessions" in sent.body["errors"][Field.CHANNEL]
    assert await bot.bot.store.digests() == []


async def test_a_channel_the_person_is_not_in_is_refused(bot: SlackBot) -> None:
    bot.slack.add_channel("C9", "elsewhere", members=["U2"])
    modal = await bot.click_to_open(button(await listing(bot), FormAction.OPEN_DIGEST))

    sent = await bot.submit(modal, {FormAction.CHANNEL: "C9"})

    assert sent.body["errors"] == {Field.CHANNEL: "You're not in that channel: choose one you're in."}
    assert await bot.bot.store.digests() == []


async def test_a_module_zoho_no_longer_knows_is_refused_at_the_module(bot: SlackBot) -> None:
    modal = await bot.click_to_open(button(await listing(bot), FormAction.OPEN_DIGEST))
    drop_module(bot.zoho, module_key(bot, GDPR))
    bot.clock.advance(3600)
    await listing(bot)  # Zoho answers 404 for it now

    sent = await bot.submit(modal, {})

    assert sent.body["response_action"] == "errors"
    assert "Zoho no longer knows this module" in sent.body["errors"][Field.MODULE]
    assert await bot.bot.store.digests() == []
    assert [c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")] == []


async def test_a_module_id_zoho_does_not_have_is_refused_at_the_module(bot: SlackBot) -> None:
    modal = await bot.click_to_open(button(await listing(bot), FormAction.OPEN_REMINDER))

    sent = await bot.submit(modal, {FormAction.MODULE: option("Made up", "111/222/333")})

    assert "Zoho has no module `111/222/333`" in sent.body["errors"][Field.MODULE]
    assert await bot.bot.store.reminders() == []


def drop_module(fz: FakeZoho, key: str) -> None:
    module_id = key.rsplit("/", 1)[1]
    with fz.lock:
        for course in fz.courses:
            for batch in course.batches:
                batch.modules = [m for m in batch.modules if m.module_id != module_id]


# --------------------------------------------------------------------------- Edit keeps one subscription


async def test_edit_in_app_home_changes_the_reminder_in_place(bot: SlackBot) -> None:
    await bot.command("remind GDPR Basics 45m")
    (before,) = await bot.bot.store.reminders(user_id="U1")
    view = await open_home(bot)
    modal = await bot.click_to_open(button(view, FormAction.OPEN_REMINDER, "Edit"), channel=None, view=view)

    assert modal["title"]["text"] == "Edit reminder"
    assert block(modal, Field.LEAD)["element"]["initial_option"]["value"] == "45"
    assert block(modal, Field.MODULE)["element"]["initial_option"]["value"] == module_key(bot, GDPR)

    await save(bot, modal, {FormAction.LEAD: option("2 hours before", "120")})

    (after,) = await bot.bot.store.reminders(user_id="U1")
    assert (after.id, after.lead, after.created_at) == (before.id, timedelta(hours=2), before.created_at)


async def test_edit_in_app_home_changes_the_digest_in_place_and_tells_the_channel(bot: SlackBot) -> None:
    await bot.command("digest GDPR Basics at 09:30 mon-fri")
    (before,) = await bot.bot.store.digests()
    sends = await bot.bot.store.send_records()
    view = await open_home(bot)
    modal = await bot.click_to_open(button(view, FormAction.OPEN_DIGEST, "Edit"), channel=None, view=view)

    assert modal["title"]["text"] == "Edit digest"
    assert block(modal, Field.TIME)["element"]["initial_time"] == "09:30"
    assert block(modal, Field.CHANNEL)["element"]["initial_conversation"] == "C1"

    await save(bot, modal, {FormAction.TIME: "10:15", FormAction.DAYS: [day("saturday")]})

    (after,) = await bot.bot.store.digests()
    assert (after.id, after.at, after.weekdays, after.created_by) == (before.id, time(10, 15), {5}, "U1")
    assert await bot.bot.store.send_records() == sends
    changed = bot.slack.calls_to("chat.postMessage")[-1]
    assert changed.args["channel"] == "C1"
    assert (
        "<@U1> changed this channel's daily digest: *GDPR Basics* at 10:15"
        in changed.args["blocks"][0]["text"]["text"]
    )


async def test_editing_a_digest_onto_a_module_the_channel_already_has_is_refused(bot: SlackBot) -> None:
    await bot.command("digest GDPR Basics")
    await bot.command("digest Tools & Systems")
    view = await open_home(bot)
    modal = await bot.click_to_open(buttons(view, FormAction.OPEN_DIGEST.value)[0], channel=None, view=view)

    sent = await bot.submit(modal, {FormAction.MODULES: [module_choice(bot, "Tools & Systems")]})

    assert "already has a digest of Tools & Systems" in sent.body["errors"][Field.MODULE]
    assert sorted(d.module.name for d in await bot.bot.store.digests()) == [GDPR, "Tools & Systems"]


# --------------------------------------------------------------------------- who may change what


async def test_someone_elses_stop_leaves_the_reminder_and_says_so(bot: SlackBot) -> None:
    await bot.command("remind GDPR Basics")
    view = await open_home(bot)
    bot.slack.add_user("U2", "grace")
    stop = button(view, FormAction.STOP_REMINDER)

    modal_calls = len(bot.slack.calls_to("views.open"))
    publishes = len(bot.slack.calls_to("views.publish"))
    await bot.click_button(stop, user="U2", channel=None, view=view)

    (told,) = (await bot.slack.wait_for_calls_async("views.open", modal_calls + 1))[modal_calls:]
    await bot.slack.wait_for_calls_async("views.publish", publishes + 1)
    assert "isn't yours" in all_text(told.args["view"])
    assert len(await bot.bot.store.reminders(user_id="U1")) == 1


async def test_someone_elses_edit_of_a_reminder_is_refused(bot: SlackBot) -> None:
    await bot.command("remind GDPR Basics")
    view = await open_home(bot)
    modal = await bot.click_to_open(button(view, FormAction.OPEN_REMINDER, "Edit"), channel=None, view=view)
    bot.slack.add_user("U2", "grace")

    sent = await bot.submit(modal, {FormAction.LEAD: option("1 day before", "1440")}, user="U2")

    assert sent.body["response_action"] == "update"
    assert "isn't yours" in all_text(sent.body["view"])
    (reminder,) = await bot.bot.store.reminders()
    assert reminder.lead == timedelta(minutes=15)
    assert await bot.bot.store.reminders(user_id="U2") == []


async def test_anyone_in_the_channel_may_stop_its_digest_and_the_channel_hears_who(bot: SlackBot) -> None:
    await bot.command("digest GDPR Basics")
    view = await open_home(bot)
    stop = button(view, FormAction.STOP_DIGEST)
    bot.slack.add_user("U2", "grace")
    bot.slack.add_user("U3", "lin")
    bot.slack.join("C1", "U2")

    publishes = len(bot.slack.calls_to("views.publish"))
    await bot.click_button(stop, user="U3", channel=None, view=view)  # not in C1
    await bot.slack.wait_for_calls_async("views.open")
    await bot.slack.wait_for_calls_async("views.publish", publishes + 1)
    assert len(await bot.bot.store.digests()) == 1

    await bot.click_button(stop, user="U2", channel=None, view=view)
    await bot.slack.wait_for_calls_async("views.publish", publishes + 2)
    assert await bot.bot.store.digests() == []
    said = bot.slack.calls_to("chat.postMessage")[-1].args["blocks"][0]["text"]["text"]
    assert said.startswith("<@U2> stopped this channel's digest: *GDPR Basics*")


# --------------------------------------------------------------------------- tampered values


async def test_a_tampered_form_gets_a_sentence_and_changes_nothing(bot: SlackBot) -> None:
    modal = await bot.click_to_open(button(await listing(bot), FormAction.OPEN_REMINDER))
    for metadata in ('{"v":1,"k":"r","s":"1; drop table"}', "x" * 4000, encode_form(FormRef(Kind.DIGEST))):
        sent = await bot.submit({**modal, "private_metadata": metadata}, {})

        assert sent.status == 200
        assert sent.body["response_action"] == "update"
        assert "nothing was saved" in all_text(sent.body["view"])
    assert await bot.bot.store.reminders() == []


async def test_a_tampered_edit_button_gets_a_sentence_and_opens_no_form(bot: SlackBot) -> None:
    message = await listing(bot)
    tampered = {**button(message, FormAction.OPEN_REMINDER), "value": '{"v":1,"k":"r","s":99}'}

    sent = await bot.click_button(tampered)

    (answer,) = await bot.responses(sent)
    assert "isn't yours" in answer.body["text"]
    assert bot.slack.calls_to("views.open") == []


async def test_a_submission_for_a_reminder_since_stopped_says_so(bot: SlackBot) -> None:
    await bot.command("remind GDPR Basics")
    view = await open_home(bot)
    modal = await bot.click_to_open(button(view, FormAction.OPEN_REMINDER, "Edit"), channel=None, view=view)
    await bot.command("remind off")

    sent = await bot.submit(modal, {})

    assert sent.body["response_action"] == "update"
    assert await bot.bot.store.reminders() == []


async def test_anyone_in_the_channel_edits_its_digest_from_digest_list(bot: SlackBot) -> None:
    await bot.command("digest GDPR Basics at 09:30 mon-fri")
    (before,) = await bot.bot.store.digests()
    bot.slack.add_user("U2", "grace", tz="Asia/Tokyo")
    bot.slack.join("C1", "U2")
    listed = (await bot.command("digest list", user="U2")).body
    edit = button(listed, FormAction.OPEN_DIGEST, "Edit GDPR Basics")
    assert button(listed, FormAction.STOP_DIGEST, "Stop GDPR Basics")

    modal = await bot.click_to_open(edit, user="U2")

    assert block(modal, Field.TIME)["element"]["initial_time"] == "17:30", "09:30 in Paris, read in Tokyo"
    await save(bot, modal, {FormAction.TIME: "18:00"}, user="U2")

    (after,) = await bot.bot.store.digests()
    assert (after.id, after.at, after.zone, after.created_by) == (before.id, time(18), "Asia/Tokyo", "U1")
    said = bot.slack.calls_to("chat.postMessage")[-1]
    assert said.args["channel"] == "C1"
    assert said.args["blocks"][0]["text"]["text"].startswith("<@U2> changed this channel's daily digest")


async def test_someone_outside_the_channel_cannot_edit_its_digest(bot: SlackBot) -> None:
    await bot.command("digest GDPR Basics")
    edit = button((await bot.command("digest list")).body, FormAction.OPEN_DIGEST)
    bot.slack.add_user("U3", "lin")

    sent = await bot.click_button(edit, user="U3")

    (answer,) = await bot.responses(sent)
    assert "Only people in <#C1> can change its digest" in answer.body["text"]
    assert bot.slack.calls_to("views.open") == []
