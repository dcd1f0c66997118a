"""A sentence for the person whatever fails, never silence or a traceback; causes go to the log."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from bot.features.listing.ids import Action
from bot.slack.errors import ADMIN_NEEDED
from tests.conftest import MakeBot
from tests.fakes.zoho_data import zoho_id
from tests.slack.harness import SlackBot, buttons

REFERENCE = re.compile(
    r"Something went wrong on the bot's side \(reference ([0-9a-f]{8})\); please try again\."
)
MODULES_FILE = f"""
[[modules]]
name = "Tools & Systems"
aliases = ["tools"]
course = "{zoho_id(100001)}"
batch = "{zoho_id(200001)}"
module = "{zoho_id(300002)}"
course_name = "Onboarding"
batch_name = "Cohort A"
"""


def _no_internals(text: str) -> None:
    for leak in ("Traceback", "RuntimeError", "boom", "Exception"):
        assert leak not in text


async def test_revoked_refresh_token_asks_for_an_admin(make_bot: MakeBot, tmp_path: Path) -> None:
    modules = tmp_path / "modules.toml"
    modules.write_text(MODULES_FILE, encoding="utf-8")
    sb = await make_bot(BOT_MODULES_FILE=str(modules))
    sb.zoho.revoke_refresh_token()  # before the bot's first call to Zoho

    sent = await sb.command("tools")

    assert sent.status == 200
    assert sent.body["response_type"] == "ephemeral"
    assert sent.body["text"] == ADMIN_NEEDED
    assert "`python -m bot check`" in sent.body["text"]
    assert [r.path for r in sb.zoho.requests] == ["/oauth/v2/token"]
    _no_internals(sent.http.text)


async def test_refresh_token_revoked_after_discovery_asks_for_an_admin(walked: SlackBot) -> None:
    walked.zoho.revoke_refresh_token()

    sent = await walked.command("Tools & Systems")

    assert sent.body["text"] == ADMIN_NEEDED
    assert [r.status for r in walked.zoho.requests if r.path.startswith("/api/")] == [401]
    _no_internals(sent.http.text)


async def test_revoked_refresh_token_with_no_catalog_yet_asks_for_an_admin(sb: SlackBot) -> None:
    sb.zoho.revoke_refresh_token()

    sent = await sb.command("Tools & Systems")

    # not "no module called…": the course search failed for want of a token
    assert sent.body["text"] == ADMIN_NEEDED
    assert [r.path for r in sb.zoho.requests] == ["/oauth/v2/token"]


async def test_unexpected_error_in_a_command_gives_a_reference(
    walked: SlackBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(walked.bot.core.catalog, "lookup", broken)
    caplog.set_level(logging.ERROR, logger="bot")

    sent = await walked.command("Tools & Systems")

    assert sent.status == 200
    assert sent.body["response_type"] == "ephemeral"
    match = REFERENCE.fullmatch(sent.body["text"])
    assert match, sent.body["text"]
    _no_internals(sent.http.text)
    logged = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert logged, "the reference leads to the cause in the log"
    assert logged[0].exc_info is not None
    assert "boom" in str(logged[0].exc_info[1])


async def test_unexpected_error_behind_a_button_is_told_through_response_url(
    walked: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = (await walked.command("Tools & Systems")).body
    (share,) = buttons(listing, Action.SHARE.value)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(walked.bot.core.sessions, "upcoming", broken)
    click = await walked.click_button(share)

    assert click.status == 200
    assert click.seconds < 1.0, "the ack is not lost to the failure that follows it"
    answer = await walked.followup(click)
    assert REFERENCE.fullmatch(answer["text"]), answer["text"]
    assert answer["replace_original"] is False
    assert answer["response_type"] == "ephemeral"
    _no_internals(str(answer))
    assert walked.slack.calls_to("chat.postMessage") == []
