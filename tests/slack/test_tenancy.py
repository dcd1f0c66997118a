"""A request signed with the right secret but naming another team runs nothing: the bot serves its
own tenant only (the team `auth.test` named at start)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from bot.features.listing.ids import Action
from bot.slack.tenancy import NOT_HERE
from tests.fakes.signing import block_actions_payload, signed_headers, slash_command_body
from tests.slack.harness import SlackBot, buttons

ANOTHER_TEAM = "T0999"


async def test_a_command_from_another_team_gets_a_sentence_and_changes_nothing(walked: SlackBot) -> None:
    body = slash_command_body(
        text="remind GDPR Basics 1h", team_id=ANOTHER_TEAM, response_url=walked.slack.response_url("forged")
    )

    sent = await walked.post(body, signed_headers(body, walked.secret))

    assert (sent.status, sent.http.text) == (200, NOT_HERE)
    assert await walked.bot.store.reminders() == []
    assert walked.slack.calls == []
    assert walked.zoho.calls() == []


async def test_a_button_copied_into_another_teams_payload_does_nothing_and_works_from_its_own(
    walked: SlackBot,
) -> None:
    listing = (await walked.command("Tools & Systems")).body
    (share,) = buttons(listing, Action.SHARE.value)
    payload = block_actions_payload(
        share["action_id"],
        share["value"],
        team_id=ANOTHER_TEAM,
        response_url=walked.slack.response_url("forged"),
        trigger_id=walked.slack.issue_trigger(),
    )
    body = urlencode({"payload": json.dumps(payload)})

    forged = await walked.post(body, signed_headers(body, walked.secret))

    assert (forged.status, forged.http.text) == (200, "")
    assert walked.slack.calls_to("chat.postMessage") == []
    assert walked.slack.responses_to("forged") == []

    own = await walked.click_button(share)

    assert own.status == 200
    (posted,) = await walked.slack.wait_for_calls_async("chat.postMessage", 1, timeout=15)
    assert posted.ok, "the same value from the bot's own team shares the listing"
