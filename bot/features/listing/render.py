"""The `/sessions` messages, as pure functions from plain data to Block Kit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from bot.features.calendar.links import SessionFileLinks
from bot.features.forms.buttons import follow_buttons
from bot.features.listing.ids import Action, ListingRef, SessionRef, encode_listing, fits
from bot.features.session_view import Block, session_actions, session_section
from bot.sessions.listing import Listing
from bot.sessions.modules import ModuleRef
from bot.sessions.windows import WINDOW_NAMES
from bot.slack.text import clip, date_token, defang, escape, escape_clip, mrkdwn, plain, user_mention

PAGE_SIZE = 10
"""Sessions per message: 2 blocks each keeps a page near 25 blocks and 9,000 characters."""
MAX_PICKER_OPTIONS = 100
Message = dict[str, Any]


def listing_message(
    listing: Listing,
    window_label: str,
    window_word: str,
    zone: tzinfo,
    offset: int = 0,
    shared_by: str | None = None,
    links: SessionFileLinks | None = None,
) -> Message:
    """One page of a module's upcoming sessions; `shared_by` makes it the in-channel version;
    `links` adds each session's calendar file (when the bot has a public address)."""
    blocks = listing_blocks(listing, window_label, zone, offset, shared_by, links)
    shown = len(listing.sessions[offset : offset + PAGE_SIZE])
    blocks += _footer(listing, window_word, offset, shown, interactive=shared_by is None)
    return {"text": _summary(listing, window_label), "blocks": blocks}


def listing_blocks(
    listing: Listing,
    window_label: str,
    zone: tzinfo,
    offset: int = 0,
    shared_by: str | None = None,
    links: SessionFileLinks | None = None,
) -> list[Block]:
    """The heading and one page of sessions, each with its buttons: Remind me unless shared, or
    unless a button's value cannot name the session (an id too long for one: `ids.fits`)."""
    module = listing.module
    page = listing.sessions[offset : offset + PAGE_SIZE]
    blocks: list[Block] = [*_heading(module, window_label, shared_by)]
    if listing.stale:
        blocks.append(_stale_notice(listing, zone))
    if not listing.sessions:
        blocks.append({"type": "section", "text": mrkdwn(_nothing_text(listing, window_label, zone))})
    for position, session in enumerate(page, start=offset):
        blocks.append(session_section(session, zone))
        remindable = shared_by is None and fits(SessionRef(module.id, session.session_id))
        actions = session_actions(session, module, remindable=remindable, position=position, links=links)
        if actions is not None:
            blocks.append(actions)
    return blocks


def looking_up_message(query: str) -> Message:
    text = f"Looking up sessions of {defang(clip(query, 100))}…"
    return {
        "text": text,
        "blocks": [
            {"type": "context", "elements": [mrkdwn(f":hourglass_flowing_sand: {escape_clip(query, 100)}…")]}
        ],
    }


def still_discovering(query: str, command: str) -> str:
    """A name not found before the first walk of Zoho's courses has finished (a new install)."""
    return (
        f"I couldn't find a module called “{escape_clip(query, 100)}” yet: I'm still discovering the "
        f"modules in Zoho. Try again in a few minutes, or use the ids as `{command} course/batch/module`."
    )


def not_found_message(
    query: str, nearest: Sequence[ModuleRef], window_word: str, discovering: bool = False
) -> Message:
    """`discovering`: the first walk of Zoho's courses has not finished (a new install)."""
    shown = escape_clip(query, 100)
    if discovering:
        intro = still_discovering(query, "/sessions")
    elif nearest:
        intro = f"I couldn't find a module called “{shown}”. Did you mean one of these?"
    else:
        intro = (
            f"I couldn't find a module called “{shown}”, and no modules are known yet. "
            "Ask an admin to run `python -m bot modules --refresh`."
        )
    return _choices_message(intro, f"No module called {defang(clip(query, 100))}.", nearest, window_word)


def ambiguous_message(query: str, candidates: Sequence[ModuleRef], window_word: str) -> Message:
    intro = f"“{escape_clip(query, 100)}” matches several modules. Which one?"
    return _choices_message(
        intro, f"{defang(clip(query, 100))} matches several modules.", candidates, window_word
    )


def help_message(modules: Sequence[ModuleRef]) -> Message:
    lines = [
        "*/sessions* shows a module's upcoming training sessions from Zoho People.",
        "• `/sessions onboarding`: the next 14 days",
        f"• `/sessions onboarding week`: also {', '.join(f'`{w}`' for w in WINDOW_NAMES)}",
        "• `/sessions digest onboarding at 09:00 mon-fri`: a daily digest in this channel "
        "(`digest list`, `digest off onboarding`, `digest notices off` for no change notices)",
        "• `/sessions remind onboarding 1h`: a DM before each session "
        "(`15m`, `1h`, `1d`; `remind list`, `remind off`)",
    ]
    blocks: list[Block] = [{"type": "section", "text": mrkdwn("\n".join(lines))}]
    if modules:
        blocks.append(_picker(modules))
    else:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    mrkdwn("No modules are known yet: ask an admin to run `python -m bot modules --refresh`.")
                ],
            }
        )
    return {"text": "How to use /sessions, with a module picker.", "blocks": blocks}


def _heading(module: ModuleRef, window_label: str, shared_by: str | None) -> list[Block]:
    where = " › ".join(escape_clip(part, 100) for part in (module.course_name, module.batch_name) if part)
    context = f"{where} · upcoming, {escape(window_label)}" if where else f"Upcoming, {escape(window_label)}"
    if shared_by:
        context += f" · shared by {user_mention(shared_by)}"
    return [
        {"type": "header", "text": plain(module.title, 150)},
        {"type": "context", "elements": [mrkdwn(context)]},
    ]


def _stale_notice(listing: Listing, zone: tzinfo) -> Block:
    since = date_token(listing.fetched_at, "{date_short_pretty} at {time}", zone)
    reason = f"{escape_clip(listing.problem, 200)} " if listing.problem else ""
    return {"type": "context", "elements": [mrkdwn(f":warning: {reason}Showing data from {since}.")]}


def _nothing_text(listing: Listing, window_label: str, zone: tzinfo) -> str:
    text = f"No upcoming sessions of *{escape_clip(listing.module.title, 150)}* in {escape(window_label)}."
    following = listing.next_after
    if following is not None and following.start is not None:
        text += (
            f"\nThe next one is *{escape_clip(following.name, 150)}* on "
            f"{date_token(following.start, '{date_long_pretty} at {time}', zone)}."
        )
    return text


def _footer(listing: Listing, window_word: str, offset: int, shown: int, interactive: bool) -> list[Block]:
    total = len(listing.sessions)
    blocks: list[Block] = []
    if total > PAGE_SIZE or offset:
        blocks.append(
            {"type": "context", "elements": [mrkdwn(f"Sessions {offset + 1}–{offset + shown} of {total}")]}
        )
    if not interactive:
        return blocks
    buttons = []
    if offset + shown < total:
        buttons.append(
            _button("Show more", Action.SHOW_MORE, ListingRef(listing.module.id, window_word, offset + shown))
        )
    if total:
        buttons.append(
            _button("Share in channel", Action.SHARE, ListingRef(listing.module.id, window_word, offset))
        )
    buttons += follow_buttons(listing.module)
    blocks.append({"type": "actions", "block_id": "listing:footer", "elements": buttons})
    return blocks


def _button(label: str, action: Action, ref: ListingRef) -> Block:
    return {"type": "button", "action_id": action.value, "text": plain(label), "value": encode_listing(ref)}


def _choices_message(intro: str, text: str, modules: Sequence[ModuleRef], window_word: str) -> Message:
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(intro)}]
    if modules:
        buttons = [
            {
                "type": "button",
                "action_id": f"{Action.PICK_MODULE}:{index}",
                "text": plain(module.path, 75),
                "value": encode_listing(ListingRef(module.id, window_word)),
            }
            for index, module in enumerate(modules[:10])
        ]
        blocks.append({"type": "actions", "block_id": "listing:choices", "elements": buttons})
    return {"text": text, "blocks": blocks}


def _picker(modules: Sequence[ModuleRef]) -> Block:
    options = [
        {"text": plain(module.path, 75), "value": encode_listing(ListingRef(module.id))}
        for module in modules[:MAX_PICKER_OPTIONS]
    ]
    return {
        "type": "section",
        "block_id": "listing:picker",
        "text": mrkdwn("Or pick a module:"),
        "accessory": {
            "type": "static_select",
            "action_id": Action.SELECT_MODULE.value,
            "placeholder": plain("Choose a module"),
            "options": options,
        },
    }


def _summary(listing: Listing, window_label: str) -> str:
    """The top-level text: what notifications and screen readers say."""
    title = defang(clip(listing.module.title, 150))
    count = len(listing.sessions)
    if not count:
        return f"No upcoming sessions of {title} in {window_label}."
    first = listing.sessions[0]
    noun = "session" if count == 1 else "sessions"
    text = f"{title}: {count} upcoming {noun} in {window_label}. Next: {defang(clip(first.name, 150))}"
    if first.start is not None:
        text += f", {_wall_clock(first.start)}"
    return text + "."


def _wall_clock(moment: datetime) -> str:
    return f"{moment:%a %d %b %H:%M} {moment.tzname()}"
