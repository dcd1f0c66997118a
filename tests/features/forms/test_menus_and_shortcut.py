"""The module menus' option requests, the "Upcoming sessions" shortcut, and the forms over
Socket Mode: what Slack is answered and what it is asked to show."""

from __future__ import annotations

import asyncio
import html
from typing import Any

from bot.features.forms.ids import Field, FormAction, FormCallback
from bot.features.listing.ids import Action
from bot.slack.server import run_socket_mode
from tests.conftest import MakeBot
from tests.fakes.signing import (
    block_actions_payload,
    filled_state,
    option,
    shortcut_payload,
    slash_command_payload,
    view_submission_payload,
)
from tests.fakes.slack import TEAM_ID
from tests.features.forms.test_modals import button, module_choice
from tests.slack.harness import SlackBot, all_text, buttons, session_names

JSON = dict[str, Any]


def texts(answer: JSON) -> list[str]:
    return [o["text"]["text"] for o in answer["options"]]


async def test_the_module_menu_searches_the_catalog_forgiving_typos_and_accents(walked: SlackBot) -> None:
    assert texts(await walked.suggest(FormAction.MODULE, "gdpr basics"))[0] == (
        "Data Protection & GDPR › All staff › GDPR Basics"
    )
    assert texts(await walked.suggest(FormAction.MODULES, "securite"))[0] == (
        "Onboarding › Cohort A › Sécurité au travail"
    )
    assert texts(await walked.suggest(FormAction.MODULE, "Sécurté au travial"))[0].endswith(
        "Sécurité au travail"
    )
    assert texts(await walked.suggest(FormAction.BROWSE, "coachng"))[0].endswith("Coaching Conversations")
    assert len(texts(await walked.suggest(FormAction.MODULE, ""))) == 11, "every module before typing"
    assert texts(await walked.suggest(FormAction.MODULE, "qqqzzzxx")) == []
    assert walked.zoho.calls() == [], "no Zoho call per keystroke"


async def test_menu_options_carry_module_keys_the_forms_read_back(walked: SlackBot) -> None:
    (first, *_) = (await walked.suggest(FormAction.MODULE, "tools"))["options"]
    module = next(m for m in walked.bot.core.catalog.modules() if m.name == "Tools & Systems")
    assert first == {"text": {"type": "plain_text", "text": module.path, "emoji": False}, "value": module.key}


async def test_the_shortcut_opens_a_module_menu_and_picking_one_shows_its_sessions(walked: SlackBot) -> None:
    sent = await walked.shortcut(FormCallback.SHORTCUT)
    assert sent.status == 200
    (opened,) = await walked.slack.wait_for_calls_async("views.open")
    assert opened.ok, opened.response
    modal = walked.slack.modal(opened.response["view"]["id"])
    assert modal is not None
    assert modal["title"]["text"] == "Upcoming sessions"
    menu = next(b for b in modal["blocks"] if b.get("block_id") == Field.BROWSE)["accessory"]
    assert (menu["type"], menu["action_id"]) == ("external_select", FormAction.BROWSE)

    choice = module_choice(walked, "Tools & Systems")
    picked = {
        "type": "external_select",
        "action_id": FormAction.BROWSE.value,
        "block_id": Field.BROWSE.value,
        "selected_option": choice,
        "action_ts": "1.2",
    }
    await walked.act_in_modal(modal, picked)

    (updated,) = await walked.slack.wait_for_calls_async("views.update")
    assert updated.ok, updated.response
    assert updated.args["view_id"] == modal["id"]
    shown = walked.slack.modal(modal["id"])
    assert shown is not None
    assert session_names(shown) == [
        "Laptop & accounts setup",
        "Slack and e-mail etiquette",
        "Expense tool walkthrough",
    ]
    remind = buttons(shown, Action.REMIND_SESSION.value)
    assert len(remind) == 3
    assert len(buttons(shown, Action.CALENDAR.value)) == 3

    await walked.act_in_modal(shown, {**remind[0], "block_id": "b", "action_ts": "1.3"})

    dm = (await walked.slack.wait_for_calls_async("chat.postMessage"))[-1]
    assert dm.args["channel"] == "U1", "a modal has no response_url: the answer is a DM"
    assert "Laptop &amp; accounts setup" in dm.args["blocks"][0]["text"]["text"]
    (reminder,) = await walked.bot.store.reminders(user_id="U1")
    assert reminder.session_id


async def test_picking_a_module_the_bot_no_longer_knows_says_so_in_the_modal(walked: SlackBot) -> None:
    await walked.shortcut(FormCallback.SHORTCUT)
    (opened,) = await walked.slack.wait_for_calls_async("views.open")
    modal = walked.slack.modal(opened.response["view"]["id"])
    assert modal is not None

    action = {
        "type": "external_select",
        "action_id": FormAction.BROWSE.value,
        "block_id": Field.BROWSE.value,
        "selected_option": option("Gone", "9/9/9"),
        "action_ts": "1.2",
    }
    await walked.act_in_modal(modal, action)

    (updated,) = await walked.slack.wait_for_calls_async("views.update")
    assert "I no longer know that module" in html.unescape(all_text(updated.args["view"]))
    assert walked.zoho.calls() == []


async def test_the_forms_work_over_socket_mode(make_bot: MakeBot) -> None:
    sb = await make_bot(SLACK_APP_TOKEN="xapp-test", SLACK_SIGNING_SECRET="")
    await sb.walk()
    sb.slack.join("C1", "U1")
    stop = asyncio.Event()
    task = asyncio.create_task(run_socket_mode(sb.bot.bolt, "xapp-test", stop))
    try:
        await sb.slack.wait_socket_connected_async(timeout=10)
        message = await listing_over_socket(sb)
        open_digest = button(message, FormAction.OPEN_DIGEST)
        click = block_actions_payload(
            open_digest["action_id"], open_digest["value"], trigger_id=sb.slack.issue_trigger()
        )
        sb.slack.socket_send(click, "interactive")
        (opened,) = await sb.slack.wait_for_calls_async("views.open", timeout=10)
        modal = sb.slack.modal(opened.response["view"]["id"])
        assert modal is not None

        options = sb.slack.socket_send(
            {
                "type": "block_suggestion",
                "action_id": FormAction.MODULES.value,
                "block_id": Field.MODULE.value,
                "value": "gdpr",
                "user": {"id": "U1"},
                "team": {"id": TEAM_ID},
                "view": modal,
            },
            "interactive",
        )
        answer = await sb.slack.wait_for_ack_async(options, timeout=10)
        assert answer.payload["options"][0]["text"]["text"].endswith("GDPR Basics")

        refused = sb.slack.socket_send(
            view_submission_payload(modal, filled_state(modal, {FormAction.DAYS: []})), "interactive"
        )
        errors = await sb.slack.wait_for_ack_async(refused, timeout=10)
        assert errors.payload == {
            "response_action": "errors",
            "errors": {Field.DAYS: "Tick at least one day."},
        }

        saved = sb.slack.socket_send(view_submission_payload(modal, filled_state(modal, {})), "interactive")
        await sb.slack.wait_for_ack_async(saved, timeout=10)
        await sb.slack.wait_for_calls_async("chat.postEphemeral", timeout=10)
        (digest,) = await sb.bot.store.digests(channel_id="C1")
        assert digest.module.name == "GDPR Basics"

        shortcut = sb.slack.socket_send(
            shortcut_payload(FormCallback.SHORTCUT.value, sb.slack.issue_trigger()), "interactive"
        )
        await sb.slack.wait_for_ack_async(shortcut, timeout=10)
        await sb.slack.wait_for_calls_async("views.open", 2, timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def listing_over_socket(sb: SlackBot) -> JSON:
    envelope = sb.slack.socket_send(
        slash_command_payload(text="GDPR Basics", response_url=sb.slack.response_url())
    )
    return (await sb.slack.wait_for_ack_async(envelope, timeout=10)).payload
