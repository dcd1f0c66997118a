"""Zoho's data is untrusted: what crosses the wire pings nobody, links nothing, and fits Slack's limits."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

from bot.features.listing.ids import Action
from bot.slack.text import ZERO_WIDTH_SPACE
from tests.conftest import TODAY
from tests.fakes.zoho_data import Batch, Course, Module, Org, make_session, zoho_id
from tests.slack.harness import (
    SlackBot,
    all_text,
    assert_within_slack_limits,
    buttons,
    header,
    session_names,
    text_objects,
)

MODULE = "Party & <Fun>"
HOSTILE = "<!channel> @here party"
RAW_TOKENS = ("<!channel>", "<!here>", "<@U123>", "<!subteam", "<https://evil", "<mailto:")


def _hostile_org() -> Org:
    module = Module(zoho_id(390001), MODULE)
    tomorrow = datetime.combine(TODAY + timedelta(days=1), time(10, 0))
    module.sessions += [
        make_session(
            zoho_id(900001),
            module.module_id,
            HOSTILE,
            tomorrow,
            sessionTrainer="<@U123>",
            sessionRoom="@everyone & co",
            sessionType="<!here>",
            description="see <https://evil.example|here> & <!subteam^S1> or <mailto:x@evil.example|me>",
        ),
        make_session(zoho_id(900002), module.module_id, "Q&A time", tomorrow + timedelta(hours=3)),
    ]
    batch = Batch(zoho_id(290001), "Batch <!here>", modules=[module])
    return Org(courses=[Course(zoho_id(190001), "R&D <Labs>", batches=[batch])])


def _assert_harmless(message: dict[str, Any], wire: str) -> None:
    """`wire` is the JSON exactly as it crossed; `message` the same, parsed."""
    assert "&lt;!channel&gt;" in wire
    for token in RAW_TOKENS:
        assert token not in wire, token
    for text in text_objects(message["blocks"]):
        if text["type"] == "mrkdwn":
            assert text.get("verbatim") is True, text
    top = message["text"].casefold()
    for broadcast in ("@here", "@channel", "@everyone"):
        assert broadcast not in top
    assert f"@{ZERO_WIDTH_SPACE}here" in message["text"]
    assert_within_slack_limits(message)


async def test_hostile_names_are_escaped_and_verbatim_in_the_ack(sb: SlackBot) -> None:
    sb.zoho.set_org(_hostile_org())
    await sb.walk()

    sent = await sb.command(MODULE)

    assert session_names(sent.body) == [HOSTILE, "Q&A time"]
    _assert_harmless(sent.body, sent.http.text)
    # plain_text shows data literally: no escaping there
    assert header(sent.body) == MODULE
    # mrkdwn escapes &, < and > (and only those)
    text = all_text(sent.body)
    assert "*&lt;!channel&gt; @here party*" in text
    assert "*Q&amp;A time*" in text
    assert "Trainer: &lt;@U123&gt; · Room: @everyone &amp; co · Type: &lt;!here&gt;" in text
    assert "R&amp;D &lt;Labs&gt; › Batch &lt;!here&gt;" in text
    assert "see &lt;https://evil.example|here&gt; &amp; &lt;!subteam^S1&gt;" in text
    assert sent.body["text"].startswith("Party &amp; &lt;Fun&gt;: 2 upcoming sessions")


async def test_hostile_names_are_harmless_when_shared_in_a_channel(sb: SlackBot) -> None:
    sb.zoho.set_org(_hostile_org())
    await sb.walk()
    listing = (await sb.command(MODULE)).body

    await sb.click_button(buttons(listing, Action.SHARE.value)[0])
    (call,) = await sb.slack.wait_for_calls_async("chat.postMessage", 1, timeout=15)

    assert call.ok
    _assert_harmless(call.args, json.dumps(call.args, ensure_ascii=False).replace("<@U1>", ""))
    assert "shared by <@U1>" in all_text(call.args)
    assert session_names(call.args) == [HOSTILE, "Q&A time"]


async def test_module_names_in_choices_are_plain_text(sb: SlackBot) -> None:
    org = _hostile_org()
    twin = Batch(zoho_id(290002), "Batch B", modules=[Module(zoho_id(390002), MODULE)])
    org.courses[0].batches.append(twin)
    sb.zoho.set_org(org)
    await sb.walk()

    sent = await sb.command(MODULE.lower())

    choices = buttons(sent.body, Action.PICK_MODULE.value)
    assert [b["text"]["text"] for b in choices] == [
        "R&D <Labs> › Batch <!here> › Party & <Fun>",
        "R&D <Labs> › Batch B › Party & <Fun>",
    ]
    assert all(b["text"]["type"] == "plain_text" for b in choices)
    assert "“party &amp; &lt;fun&gt;” matches several modules" in all_text(sent.body)
    # Raw tokens only ever inside plain_text, which Slack shows literally.
    mrkdwn = [t["text"] for t in text_objects(sent.body["blocks"]) if t["type"] == "mrkdwn"]
    _assert_no_raw_tokens(json.dumps([sent.body["text"], *mrkdwn]))


async def test_what_a_person_typed_is_escaped_too(walked: SlackBot) -> None:
    sent = await walked.command("<!channel> @here")

    assert "“&lt;!channel&gt; @here”" in all_text(sent.body)
    assert sent.body["text"] == f"No module called &lt;!channel&gt; @{ZERO_WIDTH_SPACE}here."
    _assert_no_raw_tokens(sent.http.text)


async def test_long_non_latin_text_keeps_the_message_postable(sb: SlackBot) -> None:
    """A long description in Cyrillic makes a long calendar URL: Slack must still accept the message."""
    module = Module(zoho_id(390001), "Русский курс")
    start = datetime.combine(TODAY + timedelta(days=2), time(9, 0))
    module.sessions.append(
        make_session(
            zoho_id(900001),
            module.module_id,
            "Занятие " * 40,
            start,
            description="Очень длинное описание занятия. " * 60,
            sessionRoom="Аудитория " * 30,
        )
    )
    sb.zoho.set_org(
        Org(
            courses=[
                Course(zoho_id(190001), "Курс", batches=[Batch(zoho_id(290001), "Группа", modules=[module])])
            ]
        )
    )
    await sb.walk()
    listing = (await sb.command("Русский курс")).body
    assert_within_slack_limits(listing)

    await sb.click_button(buttons(listing, Action.SHARE.value)[0])
    (call,) = await sb.slack.wait_for_calls_async("chat.postMessage", 1, timeout=15)
    assert call.ok, call.response


def _assert_no_raw_tokens(wire: str) -> None:
    for token in RAW_TOKENS:
        assert token not in wire, token
