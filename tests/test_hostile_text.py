"""Hostile text in every Zoho field, shown everywhere the bot shows Zoho's words.

Zoho's data is untrusted: a session name, trainer, room, type or description, and a
module, course or batch name may hold Slack mentions (`<!channel>`, `<@U123>`,
`<!subteam^S1>`), links, mrkdwn, control characters, direction overrides (U+202E),
10,000 characters, or text that looks like SQL. Wherever the bot shows them — the
`/sessions <module>` listing and its shared copy, a digest, a reminder DM, a change
notice, App Home and the terminal's preview table — they must stay words: within
Block Kit's limits, no mention or link Slack would make live, no control character, nothing
that turns the bot's own text around or drives a terminal; and a SQL-looking name is stored
and read back as typed.

The bot runs on the FakeClock of tests/conftest.py: 10:00 UTC (11:00 in Paris) on
Monday 10 March 2025. Every hostile module has a session today at 14:00 and one
tomorrow at 10:00 (Paris).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.cli.zoho_commands import preview
from bot.sessions.windows import next_days
from tests.conftest import TODAY, StartBot
from tests.fakes.blockkit import MESSAGE_MAX_BLOCKS, VIEW_MAX_BLOCKS, block_errors
from tests.fakes.signing import JSON_CONTENT_TYPE, event_body, signed_headers
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho_data import Batch, Course, Module, Org, make_session, zoho_id
from tests.slack.harness import (
    CHANNEL,
    USER,
    SlackBot,
    all_text,
    assert_within_slack_limits,
    buttons,
    session_names,
    text_objects,
)

JSON = dict[str, Any]

LONG = ("&<!channel> " * 834)[:10_000]
"""10,000 characters, every one of which grows when escaped."""
SQL = "'); DROP TABLE sends; --"
HOSTILE = {
    "mentions": "<!channel> <!here> <!everyone> <@U123> <!subteam^S1|@team> @channel @here",
    "links": "<https://evil.example|click> <mailto:x@evil.example|mail> https://evil.example/p",
    "mrkdwn": "*bold* _x_ ~y~ `code` ```block``` >quote",
    "control": "a\x00b\x07c\x08d\x1b[2Je\x1b]8;;https://evil.example\x07f\x1b]8;;\x07\x7fg\x9bh\r\ni",
    "rtl": "\u202egnp.exe\u202c \u202dlro \u2066iso\u2069 \u2067rli \u2068fsi",
    "sql": SQL,
    "long": LONG,
}
"""Each flavour is a module whose name, course, batch and sessions' every field carry it."""

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
"""Control characters but the newline the bot's own lines are joined with."""
TERMINAL_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TOKEN = re.compile(r"<([^<>]*)>")
_OURS = re.compile(rf"!date\^\d+\^[^|<>]*\|[^<>]*|@{USER}|#{CHANNEL}")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b|<!(channel|here|everyone|subteam)", re.IGNORECASE)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.IGNORECASE)


# --------------------------------------------------------------------------- the org


def _course(number: int, value: str) -> Course:
    """A course, batch and module named `value`; the module's two sessions carry it in every field
    Zoho shows (their names after "S0 " and "S1 ")."""
    module = Module(zoho_id(380000 + number), value)
    for k, (day, at) in enumerate(((0, time(14)), (1, time(10)))):
        start = datetime.combine(TODAY + timedelta(days=day), at)
        module.sessions.append(
            make_session(
                zoho_id(980000 + number * 10 + k),
                module.module_id,
                f"S{k} {value}",
                start,
                sessionTrainer=value,
                sessionRoom=value,
                roomId=zoho_id(500001),
                sessionType=value,
                description=value,
                totalLearnersCount=3,
            )
        )
    batch = Batch(zoho_id(280000 + number), value, modules=[module], learners_count=3)
    return Course(zoho_id(180000 + number), value, batches=[batch])


COURSES = {flavour: _course(number, value) for number, (flavour, value) in enumerate(HOSTILE.items(), 1)}


def ids(flavour: str) -> str:
    """`course/batch/module`: how a person names a module whose name cannot be typed."""
    course = COURSES[flavour]
    batch = course.batches[0]
    return f"{course.course_id}/{batch.batch_id}/{batch.modules[0].module_id}"


@pytest.fixture
def org() -> Org:
    return Org(courses=list(COURSES.values()))


# --------------------------------------------------------------------------- what is safe


def assert_safe(message: JSON, max_blocks: int = MESSAGE_MAX_BLOCKS) -> None:
    """Within Block Kit's limits, and no mention, broadcast or link but those the bot makes itself
    (date tokens, the requester, the channel) in any text Slack parses."""
    assert block_errors(message.get("blocks", []), max_blocks) == []
    if "text" in message:  # a view has no top-level text
        assert_within_slack_limits(message)
    parsed = [message.get("text", "")]
    parsed += [t["text"] for t in text_objects(message.get("blocks", [])) if t["type"] == "mrkdwn"]
    for text in parsed:
        for token in _TOKEN.findall(text):
            assert _OURS.fullmatch(token), f"a live token <{token[:80]}> in {text[:300]!r}"
    unparsed = [message.get("text", "")]
    unparsed += [
        t["text"]
        for t in text_objects(message.get("blocks", []))
        if t["type"] == "mrkdwn" and t.get("verbatim") is not True
    ]
    for text in unparsed:
        assert not _BROADCAST.search(text), f"a broadcast Slack would ping: {text[:300]!r}"
        assert not _URL.search(text), f"a link Slack would make: {text[:300]!r}"
    everything = "\n".join([message.get("text", ""), all_text(message)])
    assert not BIDI_CONTROLS.search(everything), "Zoho's text must not turn the bot's own text around"
    assert not CONTROLS.search(everything), "nothing a reader cannot see"


async def tick_until(sb: SlackBot, done: Callable[[], bool], what: str, ticks: int = 20) -> None:
    """Tick the scheduler 30 fake seconds apart until `done()`; fail after `ticks` ticks."""
    for _ in range(ticks):
        await sb.bot.scheduler.tick()
        if done():
            return
        sb.clock.advance(30)
    raise AssertionError(f"no {what} after {ticks} ticks")


def posts(slack: FakeSlack, channel: str, containing: str = "") -> list[JSON]:
    return [
        c.args
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and containing in c.args.get("text", "")
    ]


# --------------------------------------------------------------------------- the listing

SHOWN = {
    "mentions": ["&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt; &lt;!subteam^S1|@team&gt;"],
    "links": ["&lt;https://evil.example|click&gt;"],
    "mrkdwn": ["*bold* _x_ ~y~ `code`"],
    "sql": [SQL],
    "long": ["&amp;&lt;!channel&gt; &amp;&lt;!channel&gt;"],
    "control": ["a b c d [2Je"],
    "rtl": ["gnp.exe"],
}
"""What each flavour must still show, escaped: hostile text is shown as words, not dropped."""


async def test_a_listing_and_its_shared_copy_show_hostile_text_as_words(walked: SlackBot) -> None:
    for count, flavour in enumerate(HOSTILE, start=1):
        sent = await walked.command(ids(flavour))

        assert sent.status == 200
        listing = sent.body
        assert_safe(listing)
        assert [name[:3] for name in session_names(listing)] == ["S0 ", "S1 "], flavour
        for words in SHOWN[flavour]:
            assert words in all_text(listing), flavour

        (share,) = buttons(listing, "listing.share")
        await walked.click_button(share)
        call = (await walked.slack.wait_for_calls_async("chat.postMessage", count))[-1]
        assert call.ok, call.response
        assert_safe(call.args)
        assert session_names(call.args) == session_names(listing)


# --------------------------------------------------------------------------- digest, reminder, notice, Home


async def test_digest_reminder_change_notice_and_home_show_hostile_text_as_words(walked: SlackBot) -> None:
    slack = walked.slack
    for flavour in HOSTILE:
        digest = await walked.command(f"digest {ids(flavour)} at 11:05")
        assert digest.body["text"].startswith("Done."), digest.body["text"][:300]
        assert_safe(digest.body)
        remind = await walked.command(f"remind {ids(flavour)} 1h")
        assert remind.body["text"].startswith("I'll send you a direct message"), remind.body["text"][:300]
        assert_safe(remind.body)
    confirmations = posts(slack, CHANNEL, "subscribed this channel")
    assert len(confirmations) == len(HOSTILE)
    for confirmation in confirmations:
        assert_safe(confirmation)

    # the digest, due at 11:05 in Paris (10:05 UTC)
    await tick_until(walked, lambda: bool(posts(slack, CHANNEL, "upcoming training session")), "digest")
    digests = posts(slack, CHANNEL, "upcoming training session")
    for part in digests:
        assert_safe(part)
    digest_text = "\n".join(all_text(part) for part in digests)
    for words in (w for flavour in HOSTILE for w in SHOWN[flavour]):
        assert words in digest_text
    assert digest_text.count("*S0 ") == digest_text.count("*S1 ") == len(HOSTILE)

    # the reminders, an hour before 14:00 in Paris (13:00 UTC)
    walked.clock.set(datetime(2025, 3, 10, 12, 0, tzinfo=UTC))
    await tick_until(walked, lambda: len(posts(slack, USER, "Reminder")) >= len(HOSTILE), "reminders")
    reminders = posts(slack, USER, "Reminder")
    assert len(reminders) == len(HOSTILE)
    for dm in reminders:
        assert_safe(dm)
    assert any(f"*S0 {SQL}*" in all_text(dm) for dm in reminders)

    # a change: tomorrow's sessions move an hour, to another trainer and room
    for course in COURSES.values():
        walked.zoho.update_session(
            course.batches[0].modules[0].sessions[1]["sessionId"],
            sessionStartTime="11:00 AM",
            sessionEndTime="12:00 PM",
            sessionTrainer=HOSTILE["rtl"] + HOSTILE["mentions"],
            sessionRoom=LONG,
        )
    walked.clock.advance(11 * 60)  # past the freshness setting: the followed modules are read again
    notice = "to training sessions ("

    def both_told() -> bool:
        return bool(posts(slack, CHANNEL, notice) and posts(slack, USER, notice))

    await tick_until(walked, both_told, "notices")
    for message in posts(slack, CHANNEL, notice) + posts(slack, USER, notice):
        assert_safe(message)
        assert "moved" in all_text(message)

    # App Home: upcoming sessions, recent changes, reminders and digests
    body = event_body({"type": "app_home_opened", "user": USER, "channel": f"D{USER}", "tab": "home"})
    before = len(slack.calls_to("views.publish"))
    sent = await walked.post(body, signed_headers(body, walked.secret, content_type=JSON_CONTENT_TYPE))
    assert sent.status == 200
    published = (await slack.wait_for_calls_async("views.publish", before + 1))[-1]
    assert published.ok, published.response
    view = published.args["view"]
    assert_safe(view, VIEW_MAX_BLOCKS)
    home = all_text(view)
    assert "*Recent changes*" in home
    assert "* moved: ~<!date^" in home
    assert f"*{SQL}*: every session, 1 hour before" in home
    assert len(buttons(view, "forms.stop_")) == 2 * len(HOSTILE), "each reminder and digest has Stop"
    assert len(buttons(view, "forms.open_")) == 2 * len(HOSTILE) + 2, "and its Edit, and the two Add buttons"

    assert all(c.ok for c in slack.calls), [(c.method, c.error) for c in slack.calls if not c.ok]


# --------------------------------------------------------------------------- the terminal


async def test_the_preview_table_prints_hostile_text_without_terminal_controls(
    walked: SlackBot, capsys: pytest.CaptureFixture[str]
) -> None:
    window = next_days(walked.clock.now())
    for flavour in HOSTILE:
        assert await preview(walked.bot.core, ids(flavour), window) == 0
    out = capsys.readouterr().out

    assert not TERMINAL_CONTROLS.search(out), repr(TERMINAL_CONTROLS.findall(out)[:10])
    assert f"S0 {SQL}" in out, "the terminal shows Zoho's words as they are"
    assert "S0 <!channel>" in out
    assert max(len(line) for line in out.splitlines()) < 1000, "10,000 characters are shortened"


# --------------------------------------------------------------------------- stored and read back


@pytest.mark.parametrize("flavour", ["sql", "long", "control"])
async def test_a_hostile_module_name_can_be_followed_listed_and_stopped(
    start_bot: StartBot, flavour: str
) -> None:
    """On SQLite and PostgreSQL; by name for the SQL-looking one (stored and read back verbatim),
    by ids for names no one can type (the store keeps 300 characters of a name, without NUL)."""
    walked = await start_bot()
    await walked.walk()
    typed = SQL if flavour == "sql" else ids(flavour)

    digest = await walked.command(f"digest {typed}")
    remind = await walked.command(f"remind {typed} 1d")

    assert digest.body["text"].startswith("Done. This channel gets a digest of *"), digest.body["text"][:300]
    assert remind.body["text"].startswith("I'll send you a direct message 1 day"), remind.body["text"][:300]
    (stored_digest,) = await walked.bot.store.digests()
    (stored_reminder,) = await walked.bot.store.reminders()
    assert stored_digest.module.key == stored_reminder.module.key == ids(flavour)
    listed = await walked.command("digest list")
    reminders = await walked.command("remind list")
    for answer in (digest, remind, listed, reminders):
        assert_safe(answer.body)
    (confirmation,) = posts(walked.slack, CHANNEL, "subscribed this channel")
    assert_safe(confirmation)
    if flavour == "sql":
        assert stored_digest.module.name == stored_reminder.module.name == SQL
        assert digest.body["text"] == (
            f"Done. This channel gets a digest of *{SQL}* at 08:00 (Europe/Paris), every day."
        )
        assert f"• *{SQL}* at 08:00 (Europe/Paris), every day" in listed.body["text"]
        assert f"• *{SQL}*: every session, 1 day before" in reminders.body["text"]

    off = await walked.command(f"digest off {typed}")
    assert off.body["text"].startswith("Stopped the digest of *"), off.body["text"][:300]
    assert await walked.bot.store.digests() == []
    assert len(await walked.bot.store.reminders()) == 1, "the other table is untouched"


# --------------------------------------------------------------------------- the forms


async def test_the_forms_and_their_menus_show_hostile_names_within_slacks_limits(walked: SlackBot) -> None:
    walked.slack.join(CHANNEL, USER)
    for flavour in HOSTILE:
        listing = (await walked.command(ids(flavour))).body
        for action in ("forms.open_reminder", "forms.open_digest"):
            (opener,) = buttons(listing, action)
            modal = await walked.click_to_open(opener)
            assert_safe(modal, VIEW_MAX_BLOCKS)
    answer = await walked.suggest("forms.module.v1", "")
    assert len(answer["options"]) == len(HOSTILE)
    assert all(len(o["text"]["text"]) <= 75 for o in answer["options"])
