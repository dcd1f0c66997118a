"""Connecting Zoho People from Slack, over real HTTP against the fakes: App Home's button, the
browser through Zoho's consent and back, the organisation's zone and date format taken from
Zoho, and `/sessions` then showing the right instants.

The bot has no ZOHO_REFRESH_TOKEN and no ZOHO_TIMEZONE: everything comes from the flow.
"""

from __future__ import annotations

import re
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.__main__ import _with_core
from bot.app import open_bot
from bot.cli import zoho_commands
from bot.config import ConfigError, load_settings
from bot.core import Core
from bot.features.connect.render import ConnectAction
from bot.sessions.windows import next_days
from bot.slack.errors import NOT_CONNECTED, SETTINGS_PAUSE, SETTINGS_UNKNOWN
from tests.clock import FakeClock
from tests.conftest import TODAY, MakeBot
from tests.fakes.signing import option
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho, consent_return_url, follow_consent
from tests.fakes.zoho_data import Org, OrgSettings, sample_org
from tests.features.home.test_handlers import open_home
from tests.slack.harness import SlackBot, all_text

JSON = dict[str, Any]
ADMIN = "UADMIN"
KEY = "a-secret-key-of-more-than-thirty-two-characters"
KOLKATA = OrgSettings(time_zone="Asia/Kolkata", date_format="MM-dd-yyyy", company="111")
PARIS = OrgSettings(time_zone="Europe/Paris", date_format="dd.MM.yyyy", company="222")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=[KOLKATA, PARIS], ids=["kolkata-MM-dd-yyyy", "paris-dd.MM.yyyy"])
def org(request: pytest.FixtureRequest) -> Org:
    return sample_org(TODAY, settings=request.param)


@pytest.fixture
def slack(slack: FakeSlack) -> FakeSlack:
    slack.add_user(ADMIN, "grace", tz="America/New_York", is_admin=True)
    return slack


@pytest.fixture
async def bot(make_bot: MakeBot) -> SlackBot:
    """A bot connected from Slack: BOT_PUBLIC_URL and BOT_SECRET_KEY, no refresh token, no zone."""
    public = f"http://127.0.0.1:{_free_port()}"
    return await make_bot(
        BOT_PUBLIC_URL=public,
        BOT_SECRET_KEY=KEY,
        ZOHO_REFRESH_TOKEN="",
        ZOHO_TIMEZONE="",
        ZOHO_DATE_FORMAT="",
    )


def button_of(view: JSON, action: str) -> JSON:
    (button,) = [
        element
        for block in view["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == action
    ]
    return button


def connect_url(view: JSON) -> str:
    return str(button_of(view, ConnectAction.CONNECT)["url"])


async def connect(bot: SlackBot, user: str = ADMIN) -> httpx.Response:
    """The person clicks Connect in App Home and goes through Zoho's consent in their browser."""
    async with httpx.AsyncClient() as browser:
        return await follow_consent(browser, connect_url(await open_home(bot, user)))


async def test_an_admin_connects_from_app_home_and_listings_show_the_organisations_times(
    bot: SlackBot, fz: FakeZoho, org: Org
) -> None:
    home = await open_home(bot, ADMIN)
    url = connect_url(home)
    assert url.startswith(f"{bot.bot.core.settings.public_url}/zoho/connect?state=")
    assert ConnectAction.DISCONNECT not in str(home), "nothing to disconnect yet"

    fz.approve_as(user="hr@example.com", admin=True)
    async with httpx.AsyncClient() as browser:
        page = await follow_consent(browser, url)

    assert page.status_code == 200
    assert "Connected to Zoho People (US), time zone " + org.settings.time_zone in page.text
    consent = fz.consents[-1]
    assert consent.scopes == [
        "ZOHOPEOPLE.training.READ",
        "ZOHOPEOPLE.forms.READ",
        "ZOHOPEOPLE.organization.READ",
    ]
    assert (consent.access_type, consent.prompt) == ("offline", "consent")
    assert consent.params["redirect_uri"] == f"{bot.bot.core.settings.public_url}/zoho/oauth_redirect"
    exchanged = [r for r in fz.token_requests() if r.form.get("grant_type") == "authorization_code"]
    assert len(exchanged) == 1
    assert exchanged[0].form["redirect_uri"] == consent.params["redirect_uri"]
    assert [r.path for r in fz.calls("/api/v3/")] == ["/api/v3/organization"]
    republished = (await bot.slack.wait_for_calls_async("views.publish", 2))[-1]
    assert republished.args["user_id"] == ADMIN
    card = all_text(republished.args["view"])
    assert "Connected to Zoho People (US) by <@UADMIN>" in card
    assert f"Time zone: *{org.settings.time_zone}* (Zoho)" in card

    await bot.walk()
    listed = await bot.command("tools & systems week")
    text = all_text(listed.body)
    # "Laptop & accounts setup" is tomorrow at 09:30 on the organisation's wall clock.
    wall = datetime.combine(TODAY + timedelta(days=1), datetime.strptime("09:30", "%H:%M").time())
    instant = wall.replace(tzinfo=ZoneInfo(org.settings.time_zone))
    assert f"<!date^{int(instant.timestamp())}^" in text, text[:500]


async def test_someone_who_may_not_set_the_bot_up_sees_who_connected_but_no_button(
    bot: SlackBot, fz: FakeZoho
) -> None:
    before = await open_home(bot, "U1")
    assert "isn't connected yet" in all_text(before)
    assert "/zoho/connect" not in str(before)
    fz.approve_as(admin=True)
    assert (await connect(bot)).status_code == 200

    after = await open_home(bot, "U1")
    assert "Connected to Zoho People (US) by <@UADMIN>" in all_text(after)
    assert "/zoho/connect" not in str(after)
    assert ConnectAction.DISCONNECT not in str(after)


async def test_a_command_before_zoho_is_connected_says_who_can_connect_it(
    bot: SlackBot, fz: FakeZoho
) -> None:
    answer = await bot.command("gdpr basics")
    assert NOT_CONNECTED.split(":")[0] in all_text(answer.body)
    assert fz.calls("/api/") == [], "nothing is asked of Zoho without a connection"


def written(folder: Path) -> dict[Path, bytes]:
    """Every file under `folder`, with its bytes (the SQLite store, its WAL, the caches)."""
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def _return_with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


@pytest.mark.parametrize("org", [KOLKATA], indirect=True, ids=["kolkata"])
async def test_every_refused_return_gets_a_page_and_changes_nothing(bot: SlackBot, fz: FakeZoho) -> None:
    fz.approve_as(admin=True)
    redirect = f"{bot.bot.core.settings.public_url}/zoho/oauth_redirect"
    async with httpx.AsyncClient() as browser:

        async def consented() -> str:
            return await consent_return_url(browser, connect_url(await open_home(bot, ADMIN)))

        cases = {
            "no state": re.sub(r"state=[^&]*", "state=", await consented()),
            "a forged state": _return_with(await consented(), state="eyJ3IjoiVCJ9.AAAA"),
            "a server that is not Zoho's": _return_with(
                await consented(), **{"accounts-server": "https://accounts.evil.example"}
            ),
            "no code": f"{redirect}?state=x",
        }
        answers = {name: await browser.get(url) for name, url in cases.items()}
        assert fz.token_requests() == [], "no code was sent anywhere for a refused return"
        assert await bot.bot.store.connection("workspace") is None

        good = await consented()
        used = await browser.get(good)
        replayed = await browser.get(good)

    for name, answer in answers.items():
        assert answer.status_code == 400, name
        assert "Zoho People was not connected" in answer.text, name
    assert used.status_code == 200, "an untampered return connects"
    assert replayed.status_code == 400
    assert "already used" in replayed.text


@pytest.mark.parametrize("org", [KOLKATA], indirect=True, ids=["kolkata"])
async def test_an_expired_state_a_used_code_and_a_refusal_each_get_a_page(
    bot: SlackBot, fz: FakeZoho, clock: Any
) -> None:
    fz.approve_as(admin=True)
    async with httpx.AsyncClient() as browser:
        late = await consent_return_url(browser, connect_url(await open_home(bot, ADMIN)))
        clock.advance(601)
        expired = await browser.get(late)

        first = await consent_return_url(browser, connect_url(await open_home(bot, ADMIN)))
        code = parse_qs(urlsplit(first).query)["code"][0]
        assert (await browser.get(first)).status_code == 200
        fresh = await consent_return_url(browser, connect_url(await open_home(bot, ADMIN)))
        reused = await browser.get(_return_with(fresh, code=code))

        fz.refuse()
        refused = await browser.get(
            await consent_return_url(browser, connect_url(await open_home(bot, ADMIN)))
        )

    assert (expired.status_code, "expired" in expired.text) == (400, True)
    assert (reused.status_code, "already used, or more than two minutes passed" in reused.text) == (400, True)
    assert (refused.status_code, "not allowed" in refused.text) == (400, True)


@pytest.mark.parametrize("org", [PARIS], indirect=True, ids=["paris"])
async def test_a_non_admin_zoho_user_connects_and_is_asked_for_the_zone_and_date_format(
    bot: SlackBot, fz: FakeZoho
) -> None:
    fz.approve_as(user="someone@example.com", admin=False)
    page = await connect(bot)
    assert page.status_code == 200
    assert "only tells its administrators" in page.text

    home = (await bot.slack.wait_for_calls_async("views.publish", 2))[-1].args["view"]
    assert "Zoho only tells its administrators" in all_text(home)
    await bot.walk()
    waiting = await bot.command("tools & systems week")
    assert all_text(waiting.body).endswith(SETTINGS_UNKNOWN), "no session is shown at a wrong time"
    button = button_of(home, ConnectAction.SETTINGS)
    modal = await bot.click_to_open(button, user=ADMIN, channel=None, view=home)
    zone = modal["blocks"][1]["element"]["initial_option"]["value"]
    assert zone == "America/New_York", "the person's own Slack zone comes first"
    sent = await bot.submit(
        modal,
        {
            ConnectAction.ZONE: option("Europe/Paris", "Europe/Paris"),
            ConnectAction.DATE_FORMAT: option("dd.MM.yyyy", "%d.%m.%Y"),
        },
        user=ADMIN,
    )
    assert sent.status == 200
    card = all_text((await bot.slack.wait_for_calls_async("views.publish", 3))[-1].args["view"])
    assert "Time zone: *Europe/Paris* (<@UADMIN> in App Home)" in card

    await bot.walk()
    text = all_text((await bot.command("tools & systems week")).body)
    wall = datetime.combine(TODAY + timedelta(days=1), datetime.strptime("09:30", "%H:%M").time())
    assert f"<!date^{int(wall.replace(tzinfo=ZoneInfo('Europe/Paris')).timestamp())}^" in text


@pytest.mark.parametrize("org", [KOLKATA], indirect=True, ids=["kolkata"])
async def test_the_refresh_token_is_in_no_file_the_bot_wrote(
    bot: SlackBot, fz: FakeZoho, data_dir: Path
) -> None:
    fz.approve_as(user="hr@example.com", admin=True)
    assert (await connect(bot)).status_code == 200
    await bot.walk()
    await bot.command("gdpr basics")
    (token,) = fz.live_refresh_tokens(user="hr@example.com")
    access = fz.live_tokens()
    files = written(data_dir)
    assert files, "the bot wrote its store and caches there"
    for path, content in files.items():
        assert token.encode() not in content, path
        for live in access:
            assert live.encode() not in content, f"{path} holds an access token in clear"


@pytest.mark.parametrize("org", [KOLKATA], indirect=True, ids=["kolkata"])
async def test_disconnect_revokes_pauses_and_reconnecting_resumes_with_nothing_lost(
    bot: SlackBot, fz: FakeZoho
) -> None:
    fz.approve_as(user="hr@example.com", admin=True)
    assert (await connect(bot)).status_code == 200
    await bot.walk()
    await bot.command("digest GDPR Basics at 09:00")
    await bot.command("remind tools & systems 1h")
    (token,) = fz.live_refresh_tokens(user="hr@example.com")

    home = await open_home(bot, ADMIN)
    button = button_of(home, ConnectAction.DISCONNECT)
    assert button["confirm"]["confirm"]["text"] == "Disconnect"
    said = await bot.click_to_open(button, user=ADMIN, channel=None, view=home)
    assert "Disconnected Zoho People" in all_text(said)
    assert [r.form.get("token") for r in fz.revoke_requests()] == [token]
    assert fz.live_refresh_tokens(user="hr@example.com") == []
    digests, reminders = await bot.bot.store.digests(), await bot.bot.store.reminders()
    assert [d.paused_reason for d in digests] == [reminders[0].paused_reason]
    assert "not connected" in (digests[0].paused_reason or "")
    answer = await bot.command("gdpr basics")
    assert "isn't connected" in all_text(answer.body)

    assert (await connect(bot)).status_code == 200
    await bot.walk()  # what the catalog's loop does, woken by the connection
    digests, reminders = await bot.bot.store.digests(), await bot.bot.store.reminders()
    assert [(d.module.name, d.paused_reason) for d in digests] == [("GDPR Basics", None)]
    assert [(r.module.name, r.paused_reason) for r in reminders] == [("Tools & Systems", None)]
    assert "Lawful bases" in all_text((await bot.command("gdpr basics month")).body)


@pytest.mark.parametrize("org", [KOLKATA], indirect=True, ids=["kolkata"])
async def test_a_bot_started_with_another_key_names_the_setting_and_does_not_start(
    bot: SlackBot, fz: FakeZoho, bot_env: dict[str, str], clock: FakeClock
) -> None:
    fz.approve_as(admin=True)
    assert (await connect(bot)).status_code == 200
    environ = {
        **bot_env,
        "BOT_PUBLIC_URL": "http://127.0.0.1:1",
        "BOT_SECRET_KEY": "another-key-that-did-not-seal-anything-here",
        "ZOHO_REFRESH_TOKEN": "",
    }
    with pytest.raises(ConfigError) as caught:
        await open_bot(load_settings(environ=environ, env_file=None), clock=clock)
    assert "BOT_SECRET_KEY" in str(caught.value)


@pytest.mark.parametrize("org", [KOLKATA], indirect=True, ids=["kolkata"])
async def test_when_zoho_does_not_answer_for_the_settings_nothing_is_read_wrongly_and_it_asks_again(
    bot: SlackBot, fz: FakeZoho, clock: FakeClock
) -> None:
    fz.approve_as(user="hr@example.com", admin=True)
    assert (await connect(bot)).status_code == 200
    await bot.walk()
    await bot.command("digest GDPR Basics at 09:00")
    async with httpx.AsyncClient() as browser:
        back = await consent_return_url(browser, connect_url(await open_home(bot, ADMIN)))
        fz.fail_next(3, status=503)  # the organisation's settings, three tries
        page = await browser.get(back)
    assert "answer when asked for the organisation" in page.text
    assert "isn&#x27;t one" not in page.text, "a Zoho admin is not told they are not one"
    await bot.walk()
    assert all_text((await bot.command("gdpr basics")).body).endswith(SETTINGS_UNKNOWN)
    assert [d.paused_reason for d in await bot.bot.store.digests()] == [SETTINGS_PAUSE]

    service = bot.bot.connect
    assert service is not None
    await service.refresh()
    assert fz.calls("/api/v3/") == [] or len(fz.calls("/api/v3/")) == 3, "not asked again at once"
    clock.advance(301)
    await service.refresh()
    assert service.status().zone == "Asia/Kolkata"
    assert [d.paused_reason for d in await bot.bot.store.digests()] == [None]


@pytest.mark.parametrize("org", [KOLKATA], indirect=True, ids=["kolkata"])
async def test_reconnecting_revokes_the_previous_token_and_reads_the_organisation_afresh(
    bot: SlackBot, fz: FakeZoho
) -> None:
    fz.approve_as(user="hr@example.com", admin=True)
    assert (await connect(bot)).status_code == 200
    await bot.walk()
    (first,) = fz.live_refresh_tokens(user="hr@example.com")
    wall = datetime.combine(TODAY + timedelta(days=1), datetime.strptime("09:30", "%H:%M").time())
    fz.settings.time_zone, fz.settings.date_format = "Europe/Paris", "dd.MM.yyyy"

    assert (await connect(bot)).status_code == 200

    assert [r.form.get("token") for r in fz.revoke_requests()] == [first]
    assert first not in fz.live_refresh_tokens(user="hr@example.com")
    await bot.walk()
    text = all_text((await bot.command("tools & systems week")).body)
    assert f"<!date^{int(wall.replace(tzinfo=ZoneInfo('Europe/Paris')).timestamp())}^" in text


@pytest.mark.parametrize("org", [KOLKATA], indirect=True, ids=["kolkata"])
async def test_the_operators_preview_reads_through_the_connection_made_from_slack(
    bot: SlackBot, fz: FakeZoho, capsys: pytest.CaptureFixture[str]
) -> None:
    fz.approve_as(admin=True)
    assert (await connect(bot)).status_code == 200
    settings = bot.bot.core.settings

    async def preview(core: Core) -> int:
        await core.catalog.walk()
        return await zoho_commands.preview(core, "tools & systems", next_days(core.clock.now(), 7))

    fz.clear()
    assert await _with_core(settings, preview) == 0, "not 'Zoho People is not connected'"
    out = capsys.readouterr().out
    assert out.startswith("Tools & Systems  (Onboarding › Cohort A › Tools & Systems)")
    assert any("/modules/" in r.path for r in fz.calls()), "read through the connection made from Slack"
