"""The digest message: upcoming sessions of a channel's modules, grouped by day (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from bot.features.session_view import Block, session_text
from bot.features.subscriptions.render import digest_line
from bot.sessions.listing import Listing
from bot.slack.messages import Message, bullets
from bot.slack.text import clip, date_token, defang, escape_clip, mrkdwn, plain
from bot.store.records import Digest

MAX_BLOCKS = 45
MAX_CHARS = 10_000
NAME_CHARS = 60
MAX_NAMES_CHARS = 3_000
"""The modules' names in the top-level text, escaped: with the count and "(part 1 of 2)" it
stays well under Slack's 4,000 characters."""


def digest_messages(listings: Sequence[Listing], days: Sequence[date], zone: tzinfo) -> list[Message]:
    """One message, or several when Block Kit's limits force it; none when nothing is upcoming."""
    by_day: dict[date, list[tuple[datetime, Block]]] = {day: [] for day in days}
    total = 0
    for listing in listings:
        module = escape_clip(listing.module.title, 100)
        for session in listing.sessions:
            if session.start is None:
                continue
            day = session.start.astimezone(zone).date()
            if day in by_day:
                text = f"{module} · {session_text(session, zone, with_description=False)}"
                by_day[day].append((session.start, {"type": "section", "text": mrkdwn(text)}))
                total += 1
    if not total:
        return []
    blocks: list[Block] = []
    for day in days:
        entries = sorted(by_day[day], key=lambda entry: entry[0])
        if entries:
            blocks.append({"type": "context", "elements": [mrkdwn(f"*{day:%A %d %B}*")]})
            blocks += [block for _, block in entries]
    blocks = _stale_notes(listings, zone) + blocks
    header = {"type": "header", "text": plain("Upcoming training sessions", 150)}
    return _split(header, blocks, _summary(total, listings))


def _summary(total: int, listings: Sequence[Listing]) -> str:
    """The top-level text (notifications, screen readers): the count and the modules' names,
    escaped first and then cut, whole names only, so it stays under Slack's 4,000 characters
    however much escaping grows a name (each `&` becomes five characters)."""
    names = [defang(clip(listing.module.title, NAME_CHARS)) for listing in listings]
    shown: list[str] = []
    size = 0
    for name in names:
        if size + len(name) + 2 > MAX_NAMES_CHARS:
            break
        shown.append(name)
        size += len(name) + 2
    listed = ", ".join(shown)
    if len(shown) < len(names):
        listed += f" and {len(names) - len(shown)} more"
    return f"{total} upcoming training session{'s' if total != 1 else ''} this week ({listed})."


def _stale_notes(listings: Sequence[Listing], zone: tzinfo) -> list[Block]:
    """One line per module whose data is old (and why, when Zoho could not be asked): readers
    know the digest may miss a change."""
    notes = [
        f":warning: *{escape_clip(listing.module.title, 100)}*: not fresh, as Zoho knew it on "
        f"{date_token(listing.fetched_at, '{date_short_pretty} at {time}', zone)}"
        + (f" ({escape_clip(listing.problem, 200)})" if listing.problem else "")
        for listing in listings
        if listing.stale
    ]
    return [{"type": "context", "elements": [mrkdwn(note)]} for note in notes[:5]]


def _split(header: Block, blocks: list[Block], text: str) -> list[Message]:
    pages: list[list[Block]] = [[header]]
    chars = 0
    for block in blocks:
        size = len(str(block))
        if len(pages[-1]) >= MAX_BLOCKS or chars + size > MAX_CHARS:
            pages.append([])
            chars = 0
        pages[-1].append(block)
        chars += size
    count = len(pages)
    return [
        {"text": text if count == 1 else f"{text} (part {index} of {count})", "blocks": page}
        for index, page in enumerate(pages, start=1)
    ]


def list_text(digests: Sequence[Digest], notices: bool | None = None) -> str:
    """The channel's digests, and whether change notices are on when `notices` is given."""
    if not digests:
        return (
            "This channel has no digests. "
            "Add one with `/sessions digest &lt;module&gt; [at HH:MM] [mon-fri]`."
        )
    listed = "This channel's digests:\n" + bullets([digest_line(d) for d in digests])
    if notices is None:
        return listed
    state = (
        "Change notices are on: this channel hears when a session moves, is cancelled or is added "
        "(`/sessions digest notices off`)."
        if notices
        else "Change notices are off (`/sessions digest notices on`)."
    )
    return f"{listed}\n{state}"


def notices_text(on: bool) -> str:
    if on:
        return (
            "Change notices are on: this channel hears when a session of its digests moves, is cancelled "
            "or is added, or changes trainer or room."
        )
    return (
        "Change notices are off for this channel: its digests still come. "
        "Turn them back on with `/sessions digest notices on`."
    )
