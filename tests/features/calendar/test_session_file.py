"""A session's calendar file over HTTP: the listing's "Add to Outlook / Apple calendar" link, the
.ics it downloads read back with `icalendar`, and the links the bot did not make."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.features.calendar.links import SessionFileLinks, SessionLink
from bot.features.calendar.render import SESSION_NOT_FOUND
from bot.features.forms.ids import Field, FormAction, FormCallback
from bot.sessions.modules import ModuleId
from tests.conftest import TODAY, MakeBot
from tests.features.connect.test_connect_flow import KEY, _free_port
from tests.features.forms.test_modals import module_choice
from tests.slack.harness import SlackBot, buttons

KOLKATA = ZoneInfo("Asia/Kolkata")
FILE_BUTTON = "Add to Outlook / Apple calendar"


@pytest.fixture
async def kolkata(make_bot: MakeBot) -> SlackBot:
    """A bot with a public address whose organisation reads Zoho's times in Asia/Kolkata."""
    bot = await make_bot(
        BOT_PUBLIC_URL=f"http://127.0.0.1:{_free_port()}", BOT_SECRET_KEY=KEY, ZOHO_TIMEZONE="Asia/Kolkata"
    )
    await bot.walk()
    return bot


def file_links(message: dict[str, object]) -> dict[str, str]:
    """Each session's file link, by the session's id (from the button's action id)."""
    return {
        str(b["action_id"]).rsplit(":", 1)[1]: str(b["url"])
        for b in buttons(message)
        if b["text"]["text"] == FILE_BUTTON
    }


async def test_a_sessions_file_holds_it_at_the_right_instant_in_the_organisations_zone(
    kolkata: SlackBot,
) -> None:
    listed = (await kolkata.command("GDPR Basics week")).body
    links = file_links(listed)
    assert len(links) == len([b for b in buttons(listed) if b["text"]["text"] == "Add to Google Calendar"])
    calls_before = len(kolkata.zoho.calls())

    (session_id, url) = next(iter(links.items()))
    response = await kolkata.http.get(url)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert len(kolkata.zoho.calls()) == calls_before, "served from held data, no Zoho call"
    calendar = Calendar.from_ical(response.content)
    assert (str(calendar["VERSION"]), bool(calendar.get("PRODID"))) == ("2.0", True)
    (event,) = calendar.walk("VEVENT")
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Kolkata"
    assert event["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert str(event["SUMMARY"]) == "Lawful bases explained"
    # 12:00 on TODAY + 5 days as Zoho wrote it, read in Kolkata: 06:30 UTC
    noon = datetime.combine(TODAY + timedelta(days=5), time(12), tzinfo=KOLKATA)
    assert event.decoded("DTSTART").astimezone(UTC) == noon.astimezone(UTC)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)
    assert str(event["UID"]).split("@")[0].endswith(f".{session_id}")
    assert int(event["SEQUENCE"]) == 0
    assert "Data Protection & GDPR › All staff › GDPR Basics" in str(event["DESCRIPTION"])
    assert event.get("DTSTAMP") is not None


async def test_a_link_the_bot_did_not_sign_gets_404_and_a_sentence(kolkata: SlackBot) -> None:
    url = next(iter(file_links((await kolkata.command("GDPR Basics week")).body).values()))
    body, signature, _ = url.rsplit("/", 1)[1].split(".")
    base = url.rsplit("/", 1)[0]
    forged = [
        f"{base}/{body}.{signature[:-2]}AA.ics",  # the MAC altered
        f"{base}/{body[:-2]}{'AA' if body[-2:] != 'AA' else 'BB'}.{signature}.ics",  # the session altered
        f"{base}/{body}.ics",  # no MAC
    ]
    for address in forged:
        response = await kolkata.http.get(address)
        assert (response.status_code, response.text) == (404, SESSION_NOT_FOUND), address


async def test_without_a_public_address_there_is_no_file_link(walked: SlackBot) -> None:
    listed = (await walked.command("GDPR Basics week")).body
    assert [b["text"]["text"] for b in buttons(listed)].count("Add to Google Calendar") >= 1
    assert file_links(listed) == {}


async def test_the_shortcuts_modal_offers_the_file_beside_google_calendar(kolkata: SlackBot) -> None:
    await kolkata.shortcut(FormCallback.SHORTCUT)
    (opened,) = await kolkata.slack.wait_for_calls_async("views.open")
    modal = kolkata.slack.modal(opened.response["view"]["id"])
    assert modal is not None
    picked = {
        "type": "external_select",
        "action_id": FormAction.BROWSE.value,
        "block_id": Field.BROWSE.value,
        "selected_option": module_choice(kolkata, "GDPR Basics"),
        "action_ts": "1.2",
    }
    await kolkata.act_in_modal(modal, picked)
    await kolkata.slack.wait_for_calls_async("views.update")

    shown = kolkata.slack.modal(modal["id"])
    assert shown is not None
    google = [b for b in buttons(shown) if b["text"]["text"] == "Add to Google Calendar"]
    links = file_links(shown)
    assert google
    assert len(links) == len(google)
    assert [(await kolkata.http.get(url)).status_code for url in links.values()] == [200] * len(links)


def test_a_link_names_its_tenant_under_the_signature_and_an_older_link_names_none() -> None:
    module = ModuleId("100", "200", "300")
    alpha = SessionFileLinks("https://bot.example", KEY, "TALPHA")
    single = SessionFileLinks("https://bot.example", KEY)
    made = alpha.url(module, "s|1").rsplit("/", 1)[1]

    assert single.read(made) == SessionLink(module, "s|1", "TALPHA"), "any instance reads whose it is"
    assert alpha.read(single.url(module, "s1").rsplit("/", 1)[1]) == SessionLink(module, "s1", "")
    mac = made.split(".")[1]
    other = SessionFileLinks("https://bot.example", KEY, "TBETA").url(module, "s|1").rsplit("/", 1)[1]
    assert single.read(f"{other.split('.')[0]}.{mac}.ics") is None, "another tenant's body, this MAC"
