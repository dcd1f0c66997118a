"""`/sessions` with nothing, `help`, or words it cannot use: answered in the ack, without Zoho."""

from __future__ import annotations

import re

import pytest

from bot.features.listing.ids import Action, decode_listing
from bot.features.router import COMMAND
from tests.slack.harness import SlackBot, all_text, assert_within_slack_limits, elements


def _picker(message: dict) -> dict | None:
    return next((e for e in elements(message) if e["type"] == "static_select"), None)


async def test_help_before_discovery_says_no_modules_are_known(sb: SlackBot) -> None:
    sent = await sb.command("")

    assert sent.status == 200
    assert sent.body["response_type"] == "ephemeral"
    assert "*/sessions* shows a module's upcoming training sessions" in all_text(sent.body)
    assert "No modules are known yet" in all_text(sent.body)
    assert _picker(sent.body) is None
    assert sb.zoho.requests == []


async def test_help_offers_a_module_picker_once_modules_are_known(walked: SlackBot) -> None:
    keys = {module.key: module.path for module in walked.bot.core.catalog.modules()}
    assert len(keys) == 11

    for text in ("", "help", "HELP"):
        sent = await walked.command(text)
        body = sent.body
        assert body["response_type"] == "ephemeral"
        assert body["text"] == "How to use /sessions, with a module picker."
        help_text = all_text(body)
        for example in ("`/sessions onboarding`", "`/sessions onboarding week`", "`today`", "`month`"):
            assert example in help_text
        picker = _picker(body)
        assert picker is not None
        assert picker["action_id"] == Action.SELECT_MODULE.value
        options = {decode_listing(o["value"]).module.key: o["text"]["text"] for o in picker["options"]}
        assert options == {key: path[:75] for key, path in keys.items()}
        assert all(len(o["value"]) <= 150 for o in picker["options"])
        assert_within_slack_limits(body)
    assert walked.zoho.requests == []


async def test_unusable_subcommand_input_gets_a_sentence_in_the_ack(walked: SlackBot) -> None:
    sent = await walked.command("digest tools at 25:00")

    assert sent.status == 200
    assert sent.body["response_type"] == "ephemeral"
    assert "“25:00” is not a time of day" in sent.body["text"]
    assert walked.zoho.requests == []
    assert walked.slack.responses == []


def test_the_command_is_sessions() -> None:
    assert COMMAND == "/sessions"


HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0123ABCD>",
    "<!subteam^S0123|@team>",
    "<https://evil.example|click here>",
]


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize(
    "template",
    [
        "digest gdpr basics at 9am {}",
        "digest gdpr basics at {}",
        "remind gdpr basics 9999h{}",
        "digest off {}",
        "{}",
    ],
)
async def test_what_a_person_typed_is_never_echoed_live(
    walked: SlackBot, template: str, hostile: str
) -> None:
    """Found by a probe: `/sessions digest gdpr basics at 9am <!channel>` answered with the
    broadcast live in `text` and `blocks`; each of these is shown back as plain characters."""
    sent = await walked.command(template.format(hostile))
    answer = sent.body if sent.body.get("text") else await walked.followup(sent)

    shown = answer.get("text", "") + "\n" + all_text(answer)
    assert hostile not in shown
    assert not re.search(r"<[!@#]|<https?:", shown.replace("<!date^", "")), shown
