"""What subscribing says: a subscription's line, the confirmations to the person and the channel,
and the refusals' sentences (pure, mrkdwn-escaped)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.features.commands import describe_lead, describe_weekdays
from bot.slack.text import escape, escape_clip, user_mention
from bot.store.records import Digest, Reminder

MAX_DIGESTS_PER_CHANNEL = 50
"""Modules a channel's digests may follow; changing one the channel has is never refused."""
MAX_REMINDERS_PER_PERSON = 50
"""Reminders a person may have (a module's every session or one session each)."""

DIGESTS_FULL = (
    f"This channel already has digests of {MAX_DIGESTS_PER_CHANNEL} modules, the most a channel may "
    "have, so nothing was saved. Stop one with `/sessions digest off &lt;module&gt;` "
    "(`/sessions digest list` shows them), then try again."
)
DIGESTS_FULL_FIELD = f"That channel has digests of {MAX_DIGESTS_PER_CHANNEL} modules, the most."
REMINDERS_FULL = (
    f"You already have {MAX_REMINDERS_PER_PERSON} reminders, the most one person may have, so nothing "
    "was saved. Stop some with `/sessions remind off &lt;module&gt;` (`/sessions remind list` shows them), "
    "then try again."
)
REMINDERS_FULL_FIELD = f"You already have {MAX_REMINDERS_PER_PERSON} reminders; stop one first."
INVITE = (
    "I can't post in this channel, so I can't send it a digest. Invite me first "
    "(`/invite @Sessions`), then run the command again."
)
INVITE_FIELD = "That's a private channel I'm not in. Invite me there with /invite @Sessions, then save again."
ARCHIVED = "That channel is archived, so it can't get a digest; choose another."
NOT_A_MEMBER = "You're not in that channel: choose one you're in."
MEMBERS_UNKNOWN = "Slack couldn't tell me who is in that channel; try again."
NOT_YOUR_REMINDER = "That reminder isn't yours, or it was already stopped, so nothing changed."
DIGEST_GONE = "That digest was already stopped, so nothing changed."


def not_in_channel(digest: Digest) -> str:
    return f"Only people in <#{digest.channel_id}> can change its digest, so nothing changed."


def cannot_post(reason: str) -> str:
    return f"Slack refused to post there ({escape(reason)}); try again."


def digest_line(digest: Digest) -> str:
    """How a digest is described in lists and confirmations."""
    line = (
        f"*{escape_clip(digest.module.title, 100)}* at {digest.at:%H:%M} ({escape(digest.zone)}), "
        f"{describe_weekdays(digest.weekdays)}"
    )
    if digest.paused_reason:
        line += f"  :double_vertical_bar: paused: {escape_clip(digest.paused_reason, 100)}"
    return line


def reminder_line(reminder: Reminder) -> str:
    what = "one session" if reminder.session_id else "every session"
    line = f"*{escape_clip(reminder.module.title, 100)}*: {what}, {describe_lead(reminder.lead)} before"
    if reminder.paused_reason:
        line += f"  :double_vertical_bar: paused: {escape_clip(reminder.paused_reason, 100)}"
    return line


def digest_announcement(user: str, digests: Sequence[Digest], edited: bool) -> str:
    """What the channel is told when someone sets up or changes its digest."""
    lines = "; ".join(digest_line(d) for d in digests)
    if edited:
        return f"{user_mention(user)} changed this channel's daily digest: {lines}."
    if len(digests) == 1:
        return f"{user_mention(user)} subscribed this channel to a daily digest: {lines}."
    return f"{user_mention(user)} subscribed this channel to daily digests: {lines}."


def digest_stopped_announcement(user: str, digest: Digest) -> str:
    return f"{user_mention(user)} stopped this channel's digest: {digest_line(digest)}."


def digests_saved(digests: Sequence[Digest], here: bool) -> str:
    """The person's confirmation; `here` when they asked in the channel itself."""
    first = digests[0]
    names = ", ".join(f"*{escape_clip(d.module.title, 100)}*" for d in digests)
    where = "This channel" if here else f"<#{first.channel_id}>"
    return (
        f"Done. {where} gets a digest of {names} at {first.at:%H:%M} ({escape(first.zone)}), "
        f"{describe_weekdays(first.weekdays)}."
    )


def digests_stopped(digests: Sequence[Digest]) -> str:
    names = ", ".join(f"*{escape_clip(d.module.title, 100)}*" for d in digests)
    return f"Stopped the digest of {names} in this channel."


def reminder_saved(reminder: Reminder, start: str) -> str:
    what = "one session" if reminder.session_id else "every session"
    return (
        f"{start}: a direct message {describe_lead(reminder.lead)} before {what} of "
        f"*{escape_clip(reminder.module.title, 100)}*."
    )


def reminders_of_module_saved(reminder: Reminder) -> str:
    return (
        f"I'll send you a direct message {describe_lead(reminder.lead)} before each session "
        f"of *{escape_clip(reminder.module.title, 100)}*."
    )


def already(title: str, start: str) -> str:
    return f"{start} {escape_clip(title, 100)}; edit that one instead."
