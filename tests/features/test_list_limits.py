"""`digest list` and `remind list` stay inside one Block Kit section however long the lists."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.features.digests.render import list_text as digest_list
from bot.features.reminders.render import list_text as reminder_list
from bot.sessions.modules import ModuleRef
from bot.slack.messages import sentence_message
from bot.store.records import Digest, Reminder

SECTION_LIMIT = 3000
LONG = "Ærø & <Module> " * 20


def test_a_long_reminder_list_fits_a_section_and_says_how_many_more() -> None:
    reminders = [
        Reminder(n, "U1", ModuleRef("c", "b", str(n), f"{LONG}{n}"), "", timedelta(hours=1), "paused " * 30)
        for n in range(40)
    ]

    message = sentence_message(reminder_list(reminders), "")

    text = message["blocks"][0]["text"]["text"]
    assert len(text) <= SECTION_LIMIT
    assert text.endswith("…and 30 more.")


def test_a_long_digest_list_fits_a_section() -> None:
    digests = [
        Digest(
            n,
            "C1",
            ModuleRef("c", "b", str(n), f"{LONG}{n}"),
            time(8),
            frozenset({0, 2, 4}),
            "America/Argentina/Buenos_Aires",
            "U1",
            datetime(2026, 1, 1, tzinfo=UTC),
            "the bot is not in this channel " * 5,
        )
        for n in range(40)
    ]

    text = sentence_message(digest_list(digests), "")["blocks"][0]["text"]["text"]

    assert len(text) <= SECTION_LIMIT
    assert text.endswith("…and 30 more.")
