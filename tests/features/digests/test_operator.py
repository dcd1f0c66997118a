"""`python -m bot digest --channel C… [--dry-run]`: the operator's way to see or send a digest now.

`main()` runs in-process as a terminal would run it: settings from the
environment, the real clock, a fake Zoho with sample sessions around today.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.sessions.modules import ModuleRef
from bot.store.store import Store
from bot.tenants import Tenant
from tests.conftest import run_sync
from tests.fakes.slack import TEAM_ID, FakeSlack
from tests.fakes.zoho import FakeZoho
from tests.fakes.zoho_data import zoho_id

GDPR = ModuleRef(zoho_id(100003), zoho_id(200004), zoho_id(300009), "GDPR Basics")


async def _subscribe(data: Path, channel: str) -> None:
    root = await Store.open(f"sqlite+aiosqlite:///{data / 'bot.sqlite3'}")
    try:
        await root.tenant(Tenant(TEAM_ID)).save_digest(
            channel,
            GDPR,
            time(8),
            frozenset(range(7)),
            "Europe/Paris",
            "U1",
            datetime.now(UTC),
        )
    finally:
        await root.close()


def test_dry_run_prints_the_digest_and_posts_nothing(
    terminal: Path, slack: FakeSlack, live_zoho: FakeZoho, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal.mkdir(parents=True)
    run_sync(_subscribe(terminal, "C1"))

    assert main(["digest", "--channel", "C1", "--dry-run"]) == 0

    (message,) = json.loads(capsys.readouterr().out)
    assert message["text"] == "1 upcoming training session this week (GDPR Basics)."
    assert message["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Upcoming training sessions", "emoji": False},
    }
    assert "*Lawful bases explained*" in json.dumps(message["blocks"])
    assert slack.calls_to("chat.postMessage") == []
    assert len(live_zoho.calls()) == 1, "one read of the module"


def test_without_dry_run_the_digest_is_posted(
    terminal: Path, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal.mkdir(parents=True)
    run_sync(_subscribe(terminal, "C1"))

    assert main(["digest", "--channel", "C1"]) == 0

    assert capsys.readouterr().out == "Posted 1 message(s) to C1.\n"
    (post,) = slack.calls_to("chat.postMessage")
    assert post.ok
    assert post.args["channel"] == "C1"
    assert post.args["text"] == "1 upcoming training session this week (GDPR Basics)."


def test_a_channel_without_a_digest_says_so(
    terminal: Path, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "--channel", "C9", "--dry-run"]) == 0
    assert capsys.readouterr().out == (
        "Channel C9 has no digest, or nothing is upcoming in its modules this week.\n"
    )


def test_a_refused_post_is_one_sentence_and_a_failing_exit(
    terminal: Path, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.add_channel("CPRIV", "secret", is_private=True, is_member=False)
    terminal.mkdir(parents=True)
    run_sync(_subscribe(terminal, "CPRIV"))

    assert main(["digest", "--channel", "CPRIV"]) == 1
    assert capsys.readouterr().out == (
        "Slack refused the digest for CPRIV: the bot is not in this channel; "
        "invite it with /invite @Sessions.\n"
    )
