"""The subscriptions service's rules as people reach them, found from outside and pinned here:
where a digest may go, a refusal that changes nothing, a pause a save must not lift, and a
long digest whose sender died between parts."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.features.forms.ids import FormAction
from bot.features.outbox import ABANDONED_CLAIM, Outbox, Parcel, SendReport
from bot.features.subscriptions.render import MAX_DIGESTS_PER_CHANNEL
from bot.sessions.modules import ModuleRef
from bot.slack import delivery
from bot.slack.errors import MODULE_GONE_PAUSE, NOT_CONNECTED_PAUSE
from bot.store.records import Slot
from tests.conftest import StartBot
from tests.fakes.signing import option
from tests.features.home.test_handlers import open_home
from tests.slack.harness import SlackBot, buttons

JSON = dict[str, Any]
EVERY_DAY = frozenset(range(7))


@pytest.fixture
async def bot(walked: SlackBot) -> SlackBot:
    walked.slack.join("C1", "U1")
    walked.slack.add_user("U2", "grace")
    return walked


def posts(bot: SlackBot, channel: str) -> list[str]:
    return [
        c.args.get("text", "")
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel
    ]


def choice(bot: SlackBot, name: str) -> JSON:
    module = next(m for m in bot.bot.core.catalog.modules() if m.name == name)
    return option(module.path, module.key)


async def edit_modal(bot: SlackBot, user: str = "U1") -> JSON:
    view = await open_home(bot, user)
    (edit,) = [b for b in buttons(view, FormAction.OPEN_DIGEST.value) if b["text"]["text"] == "Edit"]
    return await bot.click_to_open(edit, channel=None, view=view, user=user)


async def fill(bot: SlackBot, channel: str, count: int) -> None:
    for n in range(count):
        module = ModuleRef("1", "2", str(n), f"Filler {n}")
        await bot.bot.store.save_digest(
            channel, module, time(8), EVERY_DAY, "Europe/Paris", "U9", bot.clock.now()
        )


async def test_a_digest_typed_in_a_dm_between_people_is_refused_but_in_the_bots_own_dm_it_is_saved(
    bot: SlackBot,
) -> None:
    refused = await bot.command("digest GDPR Basics", channel="D0PEERS")
    assert refused.body["text"].startswith("I can't post in this channel")
    assert await bot.bot.store.digests() == []

    saved = await bot.command("digest GDPR Basics", channel="DU1")
    assert saved.body["text"].startswith("Done.")
    assert [d.channel_id for d in await bot.bot.store.digests()] == ["DU1"]


async def test_a_channel_that_refuses_the_announcement_gets_no_digest(bot: SlackBot) -> None:
    """conversations.info cannot foresee every refusal (posting restricted to admins): the save
    is then undone, so no digest is kept for a channel that was never told."""
    bot.slack.error_next("chat.postMessage", "restricted_action", n=1)
    sent = await bot.command("digest GDPR Basics")
    assert sent.body["text"] == "Slack refused to post there (restricted_action); try again."
    assert await bot.bot.store.digests() == []


async def test_an_archived_channel_is_called_archived_by_the_command_and_the_form(bot: SlackBot) -> None:
    bot.slack.add_channel("CARCH", "old-team", is_archived=True, members=["U1"])
    typed = await bot.command("digest GDPR Basics", channel="CARCH")
    listing = (await bot.command("GDPR Basics")).body
    (open_digest,) = buttons(listing, FormAction.OPEN_DIGEST.value)
    sent = await bot.submit(await bot.click_to_open(open_digest), {FormAction.CHANNEL: "CARCH"})
    assert "archived" in typed.body["text"]
    assert sent.body == {
        "response_action": "errors",
        "errors": {"forms.channel": sent.body["errors"]["forms.channel"]},
    }
    assert "archived" in sent.body["errors"]["forms.channel"]
    assert await bot.bot.store.digests() == []


async def test_an_edit_refused_at_the_channels_limit_changes_nothing(bot: SlackBot) -> None:
    await fill(bot, "C1", MAX_DIGESTS_PER_CHANNEL - 1)
    await bot.command("digest GDPR Basics at 09:30")  # the 50th, U1's
    modal = await edit_modal(bot)
    bot.slack.clear_records()

    sent = await bot.submit(
        modal,
        {
            FormAction.TIME: "10:15",
            FormAction.MODULES: [choice(bot, "GDPR Basics"), choice(bot, "Tools & Systems")],
        },
    )

    assert sent.body["response_action"] == "errors"
    digests = await bot.bot.store.digests(channel_id="C1")
    assert len(digests) == MAX_DIGESTS_PER_CHANNEL
    assert next(d.at for d in digests if d.module.name == "GDPR Basics") == time(9, 30)
    assert posts(bot, "C1") == []


async def test_a_creator_who_left_the_channel_may_no_longer_edit_its_digest(bot: SlackBot) -> None:
    await bot.command("digest GDPR Basics at 09:30")
    bot.slack.leave("C1", "U1")
    sent = await bot.submit(await edit_modal(bot), {FormAction.TIME: "11:00"})
    assert sent.body["response_action"] == "errors"
    assert sent.body["errors"] == {"forms.channel": "You're not in that channel: choose one you're in."}
    assert [d.at for d in await bot.bot.store.digests()] == [time(9, 30)]


async def test_saving_a_digest_lifts_the_channels_pauses_but_not_those_about_zoho(bot: SlackBot) -> None:
    for name in ("GDPR Basics", "Tools & Systems", "Company Culture"):
        await bot.command(f"digest {name} at 09:30")
    digests = {d.module.name: d for d in await bot.bot.store.digests()}
    store = bot.bot.store
    await store.pause_digest(digests["Tools & Systems"].id, "the bot is not in this channel")
    await store.pause_module_digests(digests["Company Culture"].module.id, MODULE_GONE_PAUSE)

    await bot.command("digest GDPR Basics at 10:00")

    pauses = {d.module.name: d.paused_reason for d in await store.digests()}
    assert pauses == {"GDPR Basics": None, "Tools & Systems": None, "Company Culture": MODULE_GONE_PAUSE}
    await store.pause_all(NOT_CONNECTED_PAUSE)
    await bot.command("digest GDPR Basics at 10:30")
    assert {d.paused_reason for d in await store.digests() if d.module.name != "GDPR Basics"} == {
        NOT_CONNECTED_PAUSE,
        MODULE_GONE_PAUSE,
    }


def _parts(count: int) -> list[JSON]:
    return [{"text": f"part {k} of {count}", "blocks": []} for k in range(1, count + 1)]


async def test_a_long_digest_whose_sender_died_between_parts_loses_no_part(start_bot: StartBot) -> None:
    """A claimed the digest, posted part 1, claimed part 2 five seconds later and died. B retakes
    the digest when A's claim lapses: part 2, still A's for five seconds, is not taken as posted."""
    bot = await start_bot()
    store, t0, key = bot.bot.store, bot.clock.now(), "digest:C1:2025-03-10"
    client = AsyncWebClient(token="xoxb-test", base_url=bot.slack.api_url)
    await store.claim(Slot(key, "digest", "C1", t0), "A", t0, ABANDONED_CLAIM)
    await store.claim(Slot(f"{key}#part1", "digest-part", "C1", t0), "A", t0, ABANDONED_CLAIM)
    await delivery.post(client, "C1", _parts(3)[0], [f"{key}#part1"])
    await store.finish(f"{key}#part1", "sent")
    await store.claim(
        Slot(f"{key}#part2", "digest-part", "C1", t0), "A", t0 + timedelta(seconds=5), ABANDONED_CLAIM
    )
    outbox = Outbox(store, client, "B")

    lapsed = t0 + ABANDONED_CLAIM + timedelta(seconds=1)
    first = await outbox.deliver(Parcel.of("digest", "C1", t0, key, _parts(3), None), lapsed, SendReport())
    second = await outbox.deliver(
        Parcel.of("digest", "C1", t0, key, _parts(3), None), lapsed + timedelta(seconds=30), SendReport()
    )

    assert (first, second) == (False, True)
    texts = [c.args["text"] for c in bot.slack.calls_to("chat.postMessage", ok=True)]
    assert texts == ["part 1 of 3", "part 2 of 3", "part 3 of 3"]
    assert {r.key: r.state for r in await store.send_records()}[key] == "sent"
