"""`/sessions digest …` over signed HTTP: what the person reads, what Slack receives, what is stored.

The bot runs on the FakeClock of tests/conftest.py (10:00 UTC, Monday 10 March
2025) with the sample org; U1 lives in Paris, U2 in New York.
"""

from __future__ import annotations

import asyncio
from datetime import time

import pytest

from bot.features.subscriptions.render import DIGESTS_FULL as TOO_MANY
from bot.features.subscriptions.render import INVITE, MAX_DIGESTS_PER_CHANNEL
from bot.sessions.modules import ModuleRef
from tests.fakes.zoho_data import zoho_id
from tests.slack.harness import CHANNEL, SlackBot, all_text

GDPR = f"{zoho_id(100003)}/{zoho_id(200004)}/{zoho_id(300009)}"
TOOLS = f"{zoho_id(100001)}/{zoho_id(200001)}/{zoho_id(300002)}"
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


@pytest.fixture
async def bot(walked: SlackBot) -> SlackBot:
    walked.slack.add_user("U2", "grace", tz="America/New_York")
    walked.slack.add_channel("CPRIV", "secret-plans", is_private=True, is_member=False)
    return walked


def _posts(bot: SlackBot, channel: str) -> list[dict]:
    return [c.args for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]


async def test_digest_defaults_to_eight_every_day_in_the_persons_own_zone(bot: SlackBot) -> None:
    sent = await bot.command("digest GDPR Basics", user="U2")

    assert sent.status == 200
    assert sent.body["response_type"] == "ephemeral"
    assert sent.body["text"] == (
        "Done. This channel gets a digest of *GDPR Basics* at 08:00 (America/New_York), every day."
    )
    (digest,) = await bot.bot.store.digests()
    assert (digest.channel_id, digest.module.key, digest.module.name) == (CHANNEL, GDPR, "GDPR Basics")
    assert (digest.at, digest.weekdays, digest.zone, digest.created_by) == (
        time(8),
        EVERY_DAY,
        "America/New_York",
        "U2",
    )
    (announce,) = _posts(bot, CHANNEL)
    assert announce["text"] == (
        "<@U2> subscribed this channel to a daily digest: "
        "*GDPR Basics* at 08:00 (America/New_York), every day."
    )
    assert {c.args["user"] for c in bot.slack.calls_to("users.info")} == {"U2"}, "the zone is the person's"
    assert [c.args["user_id"] for c in bot.slack.calls_to("views.publish")] == ["U2"]


async def test_digest_at_a_time_on_weekdays(bot: SlackBot) -> None:
    sent = await bot.command("digest GDPR Basics at 09:30 mon-fri")

    assert sent.body["text"] == (
        "Done. This channel gets a digest of *GDPR Basics* at 09:30 (Europe/Paris), Monday to Friday."
    )
    (digest,) = await bot.bot.store.digests()
    assert (digest.at, digest.weekdays, digest.zone) == (time(9, 30), WEEKDAYS, "Europe/Paris")


async def test_subscribing_again_changes_the_time_of_the_one_digest(bot: SlackBot) -> None:
    await bot.command("digest GDPR Basics")
    await bot.command("digest gdpr basics at 7am sat,sun")

    (digest,) = await bot.bot.store.digests()
    assert (digest.at, digest.weekdays) == (time(7), frozenset({5, 6}))


async def test_digest_list_shows_the_channels_digests(bot: SlackBot) -> None:
    empty = await bot.command("digest list")
    assert empty.body["text"].startswith("This channel has no digests.")

    await bot.command("digest GDPR Basics at 09:30 mon-fri")
    await bot.command("digest Tools & Systems", user="U2")
    await bot.command("digest Tools & Systems", channel="C9")  # another channel's
    bot.slack.add_channel("C9", "elsewhere")

    listed = await bot.command("digest list")
    assert listed.body["text"] == (
        "This channel's digests:\n"
        "• *Tools &amp; Systems* at 08:00 (America/New_York), every day\n"
        "• *GDPR Basics* at 09:30 (Europe/Paris), Monday to Friday\n"
        "Change notices are on: this channel hears when a session moves, is cancelled or is added "
        "(`/sessions digest notices off`)."
    )


async def test_digest_off_stops_one_module(bot: SlackBot) -> None:
    await bot.command("digest GDPR Basics")
    await bot.command("digest Tools & Systems")
    bot.slack.clear_records()

    sent = await bot.command("digest off gdpr basics")

    assert sent.body["text"] == "Stopped the digest of *GDPR Basics* in this channel."
    assert [d.module.key for d in await bot.bot.store.digests()] == [TOOLS]
    assert [c.args["user_id"] for c in bot.slack.calls_to("views.publish")] == ["U1"]
    assert _posts(bot, CHANNEL) == [], "stopping is said to the person, not to the channel"


async def test_digest_off_for_a_module_the_channel_does_not_follow_says_so(bot: SlackBot) -> None:
    await bot.command("digest GDPR Basics")
    sent = await bot.command("digest off Tools & Systems")
    assert sent.body["text"].startswith("This channel has no digest of “Tools &amp; Systems”.")
    assert len(await bot.bot.store.digests()) == 1


async def test_a_private_channel_without_the_bot_gets_the_invite_sentence_and_nothing_stored(
    bot: SlackBot,
) -> None:
    sent = await bot.command("digest GDPR Basics", channel="CPRIV")

    assert sent.body["text"] == INVITE
    assert "/invite @Sessions" in all_text(sent.body)
    assert await bot.bot.store.digests() == []
    assert [c.args["channel"] for c in bot.slack.calls_to("conversations.info")] == ["CPRIV"]
    assert bot.slack.calls_to("chat.postMessage") == [], "asked without posting: nothing said before a save"
    assert bot.slack.calls_to("views.publish") == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("digest onboarding at 25:99", "“25:99” is not a time of day such as 08:30 or 9am."),
        ("digest GDPR Basics at 9 someday", "“someday” is not a set of weekdays"),
        ("digest", "Which module should the digest follow?"),
        ("digest off", "Which digest should stop?"),
    ],
)
async def test_bad_input_gets_a_clear_sentence_and_changes_nothing(
    bot: SlackBot, text: str, says: str
) -> None:
    sent = await bot.command(text)

    assert says in sent.body["text"]
    assert "/sessions digest" in sent.body["text"], "with an example of how to say it"
    assert await bot.bot.store.digests() == []
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.zoho.calls() == []


async def test_an_unknown_module_is_named_back_and_nothing_stored(bot: SlackBot) -> None:
    sent = await bot.command("digest underwater basket weaving")
    assert sent.body["text"].startswith("I couldn't find a module called “underwater basket weaving”.")
    assert await bot.bot.store.digests() == []
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_subscribing_again_in_a_paused_channel_resumes_all_its_digests(bot: SlackBot) -> None:
    """A pause means the bot could not post; the confirmation just posted proves it can again."""
    await bot.command("digest GDPR Basics")
    await bot.command("digest Tools & Systems")
    await bot.bot.store.pause_channel_digests(CHANNEL, "the bot is not in this channel")

    await bot.command("digest GDPR Basics at 09:00")

    assert [d.paused_reason for d in await bot.bot.store.digests(channel_id=CHANNEL)] == [None, None]


async def test_a_channels_digests_stop_at_the_limit_but_changing_one_still_works(bot: SlackBot) -> None:
    now = bot.clock.now()
    for n in range(MAX_DIGESTS_PER_CHANNEL - 1):
        module = ModuleRef("1", "2", str(n), f"Module {n}")
        await bot.bot.store.save_digest(CHANNEL, module, time(8), EVERY_DAY, "Europe/Paris", "U1", now)
    await bot.command("digest GDPR Basics")  # the 50th
    bot.slack.clear_records()

    refused = await bot.command("digest Tools & Systems")

    assert refused.body["text"] == TOO_MANY
    assert "`/sessions digest off &lt;module&gt;`" in refused.body["text"], "it says how to make room"
    assert len(await bot.bot.store.digests(channel_id=CHANNEL)) == MAX_DIGESTS_PER_CHANNEL
    assert _posts(bot, CHANNEL) == [], "nothing announced in the channel"
    assert bot.zoho.calls() == []

    bot.slack.add_channel("C9", "elsewhere")
    changed = await bot.command("digest GDPR Basics at 09:30 mon-fri")
    elsewhere = await bot.command("digest Tools & Systems", channel="C9")

    assert changed.body["text"].startswith("Done. This channel gets a digest of *GDPR Basics* at 09:30")
    assert elsewhere.body["text"].startswith("Done."), "the limit is per channel"
    digests = await bot.bot.store.digests(channel_id=CHANNEL)
    assert len(digests) == MAX_DIGESTS_PER_CHANNEL
    assert next(d.at for d in digests if d.module.key == GDPR) == time(9, 30)


async def test_two_adds_at_once_to_a_channel_one_short_of_its_limit_save_and_announce_one(
    bot: SlackBot,
) -> None:
    """The limit is kept by the save itself, and the channel is told only after a save that took:
    two people adding at once never pass it, and never leave an announcement for nothing."""
    now = bot.clock.now()
    for n in range(MAX_DIGESTS_PER_CHANNEL - 1):
        module = ModuleRef("1", "2", str(n), f"Module {n}")
        await bot.bot.store.save_digest(CHANNEL, module, time(8), EVERY_DAY, "Europe/Paris", "U1", now)
    bot.slack.clear_records()

    answers = await asyncio.gather(
        bot.command("digest GDPR Basics", user="U1"), bot.command("digest Tools & Systems", user="U2")
    )

    texts = sorted(answer.body["text"] for answer in answers)
    assert texts[0].startswith("Done. This channel gets a digest of *")
    assert texts[1] == TOO_MANY
    assert len(await bot.bot.store.digests(channel_id=CHANNEL)) == MAX_DIGESTS_PER_CHANNEL
    announced = [p["text"] for p in _posts(bot, CHANNEL)]
    assert len(announced) == 1
    assert "subscribed this channel to a daily digest" in announced[0]
