"""Pure text helpers: escaping untrusted data, defanging broadcasts, date tokens, calendar links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from bot.slack.text import (
    URL_LIMIT,
    ZERO_WIDTH_SPACE,
    calendar_link,
    clip,
    date_token,
    defang,
    escape,
    mrkdwn,
    plain,
    time_range,
    unformatted,
    user_mention,
)

PARIS = ZoneInfo("Europe/Paris")
ZWSP = ZERO_WIDTH_SPACE


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("Tools & Systems", "Tools &amp; Systems"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("a > b < c", "a &gt; b &lt; c"),
        # & first: an entity already in the data is shown as typed, not decoded by Slack
        ("&lt;", "&amp;lt;"),
        ("&amp;", "&amp;amp;"),
        # nothing else is touched
        ("*bold* _it_ `code` \"q\" 'a' @here #general", "*bold* _it_ `code` \"q\" 'a' @here #general"),
    ],
)
def test_escape_replaces_the_three_control_characters_in_order(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "defanged"),
    [
        ("@here party", f"@{ZWSP}here party"),
        ("@channel", f"@{ZWSP}channel"),
        ("hi @Everyone!", f"hi @{ZWSP}Everyone!"),
        ("@HERE and @here", f"@{ZWSP}HERE and @{ZWSP}here"),
        ("<!channel> & co", "&lt;!channel&gt; &amp; co"),
        ("mail me@hereford.example", f"mail me@{ZWSP}hereford.example"),
        # case folding changes lengths ("ß" → "ss"): the text around must stay intact
        ("Straße @here", f"Straße @{ZWSP}here"),
        ("ßßßß @here x", f"ßßßß @{ZWSP}here x"),
        ("no mention", "no mention"),
    ],
)
def test_defang_escapes_and_breaks_broadcast_words(raw: str, defanged: str) -> None:
    assert defang(raw) == defanged
    for word in ("@here", "@channel", "@everyone"):
        assert word not in defang(raw).casefold()


def test_text_objects() -> None:
    assert mrkdwn("*x*") == {"type": "mrkdwn", "text": "*x*", "verbatim": True}
    assert plain("R&D <Labs>") == {"type": "plain_text", "text": "R&D <Labs>", "emoji": False}
    assert plain("") == {"type": "plain_text", "text": " ", "emoji": False}
    assert len(plain("word " * 100, 75)["text"]) <= 75


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("  spaced \n  out  ", 100, "spaced out"),
        ("short", 5, "short"),
        ("the quick brown fox jumps", 20, "the quick brown…"),
        ("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…"),
        ("one, two, three, four", 16, "one, two, three…"),
    ],
)
def test_clip(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected
    assert len(clip(text, limit)) <= limit


def test_date_token_renders_per_reader_and_falls_back_with_the_zone_named() -> None:
    moment = datetime(2025, 3, 11, 8, 30, tzinfo=UTC)
    assert date_token(moment, "{date_short_pretty} at {time}", PARIS) == (
        f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|Tue 11 Mar 2025 09:30 CET>"
    )
    summer = datetime(2025, 7, 1, 8, 30, tzinfo=UTC)
    assert date_token(summer, "{time}", PARIS, "%H:%M").endswith("|10:30 CEST>")
    assert date_token(summer, "{time}", UTC, "%H:%M").endswith("|08:30 UTC>")


def test_unformatted_is_what_a_reader_of_plain_text_should_see() -> None:
    moment = datetime(2025, 3, 11, 8, 30, tzinfo=UTC)
    sentence = (
        f"*Stop* “C*ops &amp; Q&lt;A&gt;”: after {date_token(moment, '{time}', PARIS)}, "
        "use `/sessions digest off`; tell @channel"
    )

    assert unformatted(sentence) == (
        "Stop “C*ops & Q<A>”: after Tue 11 Mar 2025 09:30 CET, use /sessions digest off; "
        f"tell @{ZERO_WIDTH_SPACE}channel"
    )


def test_time_range_has_start_and_end_tokens() -> None:
    start = datetime(2025, 3, 11, 9, 30, tzinfo=PARIS)
    end = datetime(2025, 3, 11, 11, 30, tzinfo=PARIS)
    text = time_range(start, end, PARIS)
    assert text == (
        f"<!date^{int(start.timestamp())}^{{date_short_pretty}} {{time}}|Tue 11 Mar 2025 09:30 CET>"
        f" – <!date^{int(end.timestamp())}^{{time}}|11:30 CET>"
    )
    assert time_range(start, None, PARIS).count("<!date^") == 1


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_calendar_link_times_are_utc() -> None:
    start = datetime(2025, 3, 11, 9, 30, tzinfo=PARIS)
    end = datetime(2025, 3, 11, 11, 30, tzinfo=PARIS)
    url = calendar_link("Laptop & accounts setup", start, end, "Onboarding › Cohort A", "Training Lab 2")
    assert url.startswith("https://calendar.google.com/calendar/render?")
    query = _query(url)
    assert query == {
        "action": "TEMPLATE",
        "text": "Laptop & accounts setup",
        "dates": "20250311T083000Z/20250311T103000Z",
        "details": "Onboarding › Cohort A",
        "location": "Training Lab 2",
    }
    assert _query(calendar_link("x", start, None, "", ""))["dates"] == "20250311T083000Z/20250311T083000Z"


@pytest.mark.parametrize("char", ["a", "&", "é", "Ж", "字", "😀"])
def test_calendar_link_stays_under_slacks_url_cap(char: str) -> None:
    start = datetime(2025, 3, 11, 9, 30, tzinfo=PARIS)
    url = calendar_link(char * 500, start, None, (char * 20 + " ") * 200, char * 500)
    assert len(url) <= URL_LIMIT
    query = _query(url)
    assert query["text"].startswith(char)
    assert query["details"].startswith(char)
    assert query["location"].startswith(char)


def test_user_mention_only_for_slack_ids() -> None:
    assert user_mention("U123ABC") == "<@U123ABC>"
    assert user_mention("<!channel>") == "&lt;!channel&gt;"
