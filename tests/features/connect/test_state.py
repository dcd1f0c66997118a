"""The connect flow's state: signed with BOT_SECRET_KEY, bound to a workspace and a person, alive
for 10 minutes; anything else is refused with a sentence for the page."""

from __future__ import annotations

import pytest

from bot.features.connect.render import readable
from bot.features.connect.state import BadState, read_state, sign_state

KEY = "k" * 40
OTHER = "o" * 40
NOW = 1_800_000_000.0


def test_a_signed_state_reads_back_as_who_asked_from_where() -> None:
    state = sign_state(KEY, "T1", "U1", NOW)
    found = read_state(KEY, state, NOW + 599)
    assert (found.workspace, found.user, found.expires_at) == ("T1", "U1", NOW + 600)
    assert found.nonce
    assert found.nonce != read_state(KEY, sign_state(KEY, "T1", "U1", NOW), NOW).nonce


def test_a_state_expires_after_ten_minutes() -> None:
    state = sign_state(KEY, "T1", "U1", NOW)
    with pytest.raises(BadState, match="expired"):
        read_state(KEY, state, NOW + 600)


def test_a_rotated_key_still_reads_a_state_signed_with_the_old_one() -> None:
    state = sign_state(OTHER, "T1", "U1", NOW)
    assert read_state(f"{KEY},{OTHER}", state, NOW).user == "U1"
    with pytest.raises(BadState, match="not one the bot made"):
        read_state(KEY, state, NOW)


@pytest.mark.parametrize(
    "forge",
    [
        lambda s: "",
        lambda s: s.split(".")[0],
        lambda s: s + "x",
        lambda s: s.replace(".", ".."),
        lambda s: "eyJ3IjoiVDIiLCJ1IjoiVTkiLCJlIjo5OTk5OTk5OTk5LCJuIjoieCJ9." + s.split(".")[1],
        lambda s: s.split(".")[0] + ".é",
        lambda s: "x" * 5000,
    ],
)
def test_a_missing_forged_or_malformed_state_is_refused(forge) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadState):
        read_state(KEY, forge(sign_state(KEY, "T1", "U1", NOW)), NOW)


@pytest.mark.parametrize(
    ("strptime", "shown"),
    [
        ("%d.%m.%Y", "dd.MM.yyyy"),
        ("%m-%d-%Y", "MM-dd-yyyy"),
        ("%d %b %Y", "dd MMM yyyy"),
        ("%y/%m/%d", "yy/MM/dd"),
    ],
)
def test_a_date_format_is_shown_as_zoho_people_writes_it(strptime: str, shown: str) -> None:
    assert readable(strptime) == shown
