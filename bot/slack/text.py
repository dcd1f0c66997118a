"""Pure helpers for text Slack shows: escaping untrusted data, date tokens, calendar links.

Zoho's data is untrusted. In mrkdwn it is escaped and placed in `verbatim`
text objects, so Slack does not turn `@channel` or a URL inside it into a live
mention or link; `<!...>` tokens are only ever built from our own numbers.
Escaping also drops Unicode's direction overrides, embeddings and isolates
(U+202A–U+202E, U+2066–U+2069), so outside text cannot turn the bot's own words
that follow it around; the one-line helpers (`clip`, `escape_clip`, `plain`)
drop control characters as well.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import quote_plus, urlencode

ZERO_WIDTH_SPACE = "\u200b"
URL_LIMIT = 3000
"""Slack refuses a whole message whose button `url` is longer than this."""
_BROADCAST = re.compile(r"@(channel|here|everyone)", re.IGNORECASE)
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):(//)", re.IGNORECASE)
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_DATE_TOKEN = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_MARKED = re.compile(r"([*`])([^*`\n]+)\1")


def escape(text: str) -> str:
    """mrkdwn's three control characters, in Slack's order, and no direction controls."""
    text = _BIDI_CONTROLS.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str) -> str:
    """Outside text as one line of what a reader can see: direction controls go, control
    characters and runs of whitespace become one space."""
    return " ".join(_CONTROLS.sub(" ", _BIDI_CONTROLS.sub("", text)).split())


def defang(text: str) -> str:
    """Escape, and break broadcast words, for places that cannot be `verbatim` (top-level text)."""
    return neutralise(escape(text))


def neutralise(mrkdwn_text: str) -> str:
    """Break `@channel`-like words and URL schemes in already escaped text with an invisible
    space, so Slack's parsing of a top-level `text` can neither ping nor link."""
    unpinged = _BROADCAST.sub(lambda match: "@" + ZERO_WIDTH_SPACE + match.group(1), mrkdwn_text)
    return _SCHEME.sub(lambda match: f"{match.group(1)}:{ZERO_WIDTH_SPACE}{match.group(2)}", unpinged)


def unformatted(mrkdwn_text: str) -> str:
    """One of our mrkdwn sentences as plain text, for places Slack shows literally (a workflow
    step's error): date tokens become their fallback, bold and code marks around words go (a lone
    `*` in a name stays), entities are unescaped, and broadcast words stay broken."""
    text = _DATE_TOKEN.sub(lambda match: match.group(1), mrkdwn_text)
    text = _MARKED.sub(lambda match: match.group(2), text)
    return neutralise(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def escape_clip(text: str, limit: int) -> str:
    """Escaped text of at most `limit` characters: clipping before escaping would let `&` grow
    it five-fold, clipping after could cut an entity such as `&amp;` in half."""
    text = one_line(text)
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    pieces, size = [], 0
    for char in text:
        piece = escape(char)
        if size + len(piece) > limit - 1:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces).rstrip(" ,.:") + "…"  # never ";": it ends an entity


def mrkdwn(text: str) -> dict[str, Any]:
    """A text object that shows formatting but never auto-links mentions or URLs."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    """A plain_text object: Slack shows it literally, so it needs no escaping, only a length cap."""
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": False}


def clip(text: str, limit: int) -> str:
    """One line (`one_line`) of at most `limit` characters, with an ellipsis, on a word boundary
    where one is near."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"


def date_token(
    moment: datetime, token_format: str, fallback_zone: tzinfo, fallback_format: str = "%a %d %b %Y %H:%M"
) -> str:
    """`<!date^…>`: each reader sees `moment` in their own zone; old clients see the fallback."""
    local = moment.astimezone(fallback_zone)
    fallback = f"{local.strftime(fallback_format)} {local.tzname()}"
    return f"<!date^{int(moment.timestamp())}^{token_format}|{fallback}>"


def time_range(start: datetime, end: datetime | None, fallback_zone: tzinfo) -> str:
    """ "Tomorrow 11:00 AM – 1:00 PM", in the reader's zone."""
    text = date_token(start, "{date_short_pretty} {time}", fallback_zone)
    if end is not None:
        text += " – " + date_token(end, "{time}", fallback_zone, "%H:%M")
    return text


def calendar_link(title: str, start: datetime, end: datetime | None, details: str, location: str) -> str:
    """A Google Calendar "create event" URL, times in UTC, under Slack's 3000-character url cap."""
    finish = end or start
    dates = f"{_utc_stamp(start)}/{_utc_stamp(finish)}"
    # Limits on the encoded text: a non-Latin character takes up to 9 characters once encoded.
    query = {
        "action": "TEMPLATE",
        "text": _clip_encoded(title, 200, 600),
        "dates": dates,
        "details": _clip_encoded(details, 1000, 1800),
        "location": _clip_encoded(location, 200, 400),
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def _clip_encoded(text: str, limit: int, encoded_limit: int) -> str:
    """`clip` to `limit` characters, then shorter until its URL-encoded form fits `encoded_limit`."""
    text = clip(text, limit)
    while (encoded := len(quote_plus(text))) > encoded_limit:
        text = clip(text, max(1, len(text) * encoded_limit // encoded - 1))
    return text


def user_mention(user_id: str) -> str:
    """A mention of a Slack user id that Slack itself gave us (never from Zoho data)."""
    return f"<@{user_id}>" if user_id.isalnum() else escape(user_id)


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
