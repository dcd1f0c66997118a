"""Many workspaces, one deployment, over real HTTP against the fakes: two workspaces install the
app from `/slack/install`, each connects its own Zoho People organisation (other zones, other
date formats) from App Home, and each one's commands, App Home and digests use its own token
and its own data; nothing of one reaches the other, and one leaving leaves the other untouched."""

from __future__ import annotations

import asyncio
import html
import io
import json
import logging
import re
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiohttp import web
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text

from bot.config import load_settings
from bot.features.calendar.handlers import NOT_FOUND
from bot.features.calendar.render import CalendarAction
from bot.features.forms.ids import FormAction
from bot.fleet import Fleet, open_fleet
from bot.logs import Redacting, tenant_context
from bot.scheduler import LEASE_NAME, LEASE_TTL
from bot.slack.distribution import RecentAuthorizations
from bot.slack.server import Probes, start_http, web_app
from bot.tenants.tenant import Tenant
from bot.zoho.client import RetryPolicy
from tests.clock import FakeClock
from tests.conftest import TODAY, module_refs
from tests.fakes.signing import (
    JSON_CONTENT_TYPE,
    app_uninstalled_payload,
    block_actions_payload,
    event_body,
    filled_state,
    interactivity_body,
    signed_headers,
    slash_command_body,
    tokens_revoked_payload,
    view_submission_payload,
)
from tests.fakes.slack import FakeSlack
from tests.fakes.zoho import FakeZoho, follow_consent
from tests.fakes.zoho_data import Org, OrgSettings, sample_org
from tests.slack.harness import SECRET, all_text
from tests.store.postgres import PostgresServer
from tests.test_tick_cost import statements

JSON = dict[str, Any]
FORM = "application/x-www-form-urlencoded"
KEY = "a-secret-key-of-more-than-thirty-two-characters"
KOLKATA = OrgSettings(time_zone="Asia/Kolkata", date_format="MM-dd-yyyy", company="111")
ST_JOHNS = OrgSettings(time_zone="America/St_Johns", date_format="yyyy/MM/dd", company="222")


@dataclass(frozen=True)
class Workspace:
    team: str
    admin: str
    channel: str


ALPHA = Workspace("TALPHA", "UALPHA", "CALPHA")
BETA = Workspace("TBETA", "UBETA", "CBETA")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def org() -> Org:
    return sample_org(TODAY, settings=KOLKATA)


@pytest.fixture
def slack(slack: FakeSlack) -> FakeSlack:
    for workspace in (ALPHA, BETA):
        slack.add_team(workspace.team, f"Team {workspace.team}")
        slack.add_user(
            workspace.admin, workspace.admin.lower(), tz="UTC", is_admin=True, team_id=workspace.team
        )
        slack.add_channel(workspace.channel, "training", team_id=workspace.team)
    return slack


@dataclass
class Deployment:
    fleet: Fleet
    url: str
    http: httpx.AsyncClient
    slack: FakeSlack

    async def post(self, body: str, content_type: str) -> httpx.Response:
        headers = signed_headers(body, SECRET, content_type=content_type)
        return await self.http.post(f"{self.url}/slack/events", content=body.encode(), headers=headers)

    async def command(self, workspace: Workspace, words: str, name: str, **swap: str) -> str:
        """`/sessions words` in the workspace; the text of the answer sent to its response_url."""
        fields = {
            "team_id": workspace.team,
            "user_id": workspace.admin,
            "channel_id": workspace.channel,
            **swap,
        }
        body = slash_command_body(text=words, response_url=self.slack.response_url(name), **fields)
        answer = await self.post(body, FORM)
        assert answer.status_code == 200
        if answer.text:
            return answer.text
        (response,) = await self.slack.wait_for_responses_async(name=name)
        return all_text(response.body) or str(response.body.get("text", ""))

    async def click(self, workspace: Workspace, button: JSON, name: str) -> str:
        """The workspace's admin clicks `button` in its channel; what the bot said back."""
        payload = block_actions_payload(
            button["action_id"],
            button.get("value"),
            user_id=workspace.admin,
            channel_id=workspace.channel,
            response_url=self.slack.response_url(name),
            team_id=workspace.team,
            trigger_id=self.slack.issue_trigger(workspace.team),
        )
        assert (await self.post(interactivity_body(payload), FORM)).status_code == 200
        (response,) = await self.slack.wait_for_responses_async(name=name)
        return all_text(response.body) or str(response.body.get("text", ""))

    async def home(self, workspace: Workspace, **install: Any) -> JSON:
        before = len(self.slack.calls_to("views.publish"))
        event = {"type": "app_home_opened", "user": workspace.admin, "channel": "D1", "tab": "home"}
        bot_user = self.slack.team(workspace.team).bot_user_id
        body = event_body(event, team_id=workspace.team, bot_user_id=bot_user, **install)
        assert (await self.post(body, JSON_CONTENT_TYPE)).status_code == 200
        call = (await self.slack.wait_for_calls_async("views.publish", before + 1))[-1]
        return dict(call.args["view"])

    async def install(self, workspace: Workspace, approve: bool = True) -> httpx.Response:
        """An admin of the workspace clicks Add to Slack and approves, in one browser."""
        if approve:
            self.slack.approve_next(workspace.team, user_id=workspace.admin)
        async with httpx.AsyncClient() as browser:
            page = await browser.get(f"{self.url}/slack/install")
            assert page.status_code == 200, page.text
            (link,) = re.findall(r'href="([^"]*/oauth/v2/authorize[^"]*)"', page.text)
            consent = await browser.get(html.unescape(link))
            assert consent.status_code == 302, consent.text
            # Bolt's state cookie is `Secure`, as a browser on the bot's https address would keep it;
            # httpx keeps no Secure cookie for a plain-http test address, so it is carried by hand.
            cookie = page.headers["set-cookie"].split(";", 1)[0]
            return await browser.get(consent.headers["location"], headers={"Cookie": cookie})

    async def connect(self, workspace: Workspace) -> httpx.Response:
        view = await self.home(workspace)
        buttons = [
            e for b in view["blocks"] if b.get("type") == "actions" for e in b["elements"] if e.get("url")
        ]
        url = next(str(b["url"]) for b in buttons if "/zoho/connect" in b["url"])
        async with httpx.AsyncClient() as browser:
            return await follow_consent(browser, url)


MakeDeployment = Callable[..., Awaitable[Deployment]]


@pytest.fixture
async def make_deployment(
    fz: FakeZoho, slack: FakeSlack, clock: FakeClock, retry: RetryPolicy, data_dir: Path
) -> AsyncIterator[MakeDeployment]:
    """Start instances of one deployment (the first one's address is its public one); all
    stopped after the test."""
    started: list[tuple[web.AppRunner, Fleet, httpx.AsyncClient]] = []
    public = _free_port()

    async def make(database_url: str = "", data: Path = data_dir) -> Deployment:
        port = public if not started else _free_port()
        environ = {
            **fz.bot_environment(),
            "ZOHO_REFRESH_TOKEN": "",
            "BOT_DATA_DIR": str(data),
            "SLACK_CLIENT_ID": slack.client_id,
            "SLACK_CLIENT_SECRET": slack.client_secret,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "BOT_PUBLIC_URL": f"http://127.0.0.1:{public}",
            "BOT_SECRET_KEY": KEY,
            **({"DATABASE_URL": database_url} if database_url else {}),
        }
        settings = load_settings(environ=environ, env_file=None)
        fleet = await open_fleet(settings, clock, retry)
        app = web_app(fleet.front, SECRET, Probes(fleet.root.answers, fleet.refresh_gauges), fleet.pages())
        runner = await start_http(app, port=port, host="127.0.0.1")
        http = httpx.AsyncClient(timeout=30)
        started.append((runner, fleet, http))
        return Deployment(fleet, f"http://127.0.0.1:{port}", http, slack)

    yield make
    for runner, fleet, http in reversed(started):
        await http.aclose()
        await runner.cleanup()
        await fleet.aclose()


@pytest.fixture
async def deployment(make_deployment: MakeDeployment) -> Deployment:
    return await make_deployment()


def _instant(org: Org, day_offset: int, clock_time: str) -> int:
    wall = datetime.combine(TODAY + timedelta(days=day_offset), datetime.strptime(clock_time, "%H:%M").time())
    return int(wall.replace(tzinfo=ZoneInfo(org.settings.time_zone)).timestamp())


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What an operator reads: the bot's JSON log lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(Redacting(json_lines=True))
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


async def test_two_workspaces_install_connect_their_own_zoho_and_see_only_their_own(
    deployment: Deployment, fz: FakeZoho, org: Org, slack: FakeSlack, log_lines: io.StringIO
) -> None:
    beta_org = sample_org(TODAY, settings=ST_JOHNS)
    beta_zoho = fz.add_organisation(beta_org)

    for workspace in (ALPHA, BETA):
        page = await deployment.install(workspace)
        assert page.status_code == 200, page.text
    installed = await deployment.fleet.slack_stores.installations.installed_tenants()
    assert [entry.tenant_id for entry in installed] == [ALPHA.team, BETA.team]

    command = await deployment.command(ALPHA, "tools & systems week", "before")
    assert "isn't connected" in command, command

    fz.approve_as("hr@alpha.example")
    assert (await deployment.connect(ALPHA)).status_code == 200
    beta_zoho.approve_as("hr@beta.example")
    assert (await deployment.connect(BETA)).status_code == 200

    await _discover(deployment, ALPHA, BETA)
    alpha = await deployment.command(ALPHA, "tools & systems week", "alpha")
    beta = await deployment.command(BETA, "tools & systems week", "beta")
    # "Laptop & accounts setup" is tomorrow at 09:30 on each organisation's own wall clock.
    assert f"<!date^{_instant(org, 1, '09:30')}^" in alpha, alpha[:600]
    assert f"<!date^{_instant(beta_org, 1, '09:30')}^" in beta
    assert f"<!date^{_instant(beta_org, 1, '09:30')}^" not in alpha

    for n in range(3):
        await deployment.command(ALPHA, "tools & systems week", f"again-{n}")
    asked = Counter(call.token for call in slack.calls_to("auth.test"))
    assert max(asked.values()) <= 2, (
        f"auth.test once a token (and once by the install), not per request: {asked}"
    )

    alpha_tokens = {c.args.get("token") for c in slack.calls if c.args.get("channel") == ALPHA.channel}
    beta_tokens = {c.args.get("token") for c in slack.calls if c.args.get("channel") == BETA.channel}
    assert alpha_tokens.isdisjoint(beta_tokens)
    assert beta_zoho.calls("/api/v1/courses"), "Beta's data came from Beta's organisation"

    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    commands = [line for line in lines if line.get("event") == "slack command"]
    assert {(line["user"], line["tenant"]) for line in commands} == {
        (ALPHA.admin, ALPHA.team),
        (BETA.admin, BETA.team),
    }
    reads = [line for line in lines if line.get("event") == "zoho read"]
    assert reads
    assert {line.get("tenant") for line in reads} == {ALPHA.team, BETA.team}


async def _discover(deployment: Deployment, *workspaces: Workspace) -> None:
    """Each workspace's catalog walked, as its discovery task does."""
    for workspace in workspaces:
        running = deployment.fleet.running(workspace.team)
        assert running is not None
        with tenant_context(workspace.team):
            await running.core.catalog.walk()


async def _installed_and_connected(
    deployment: Deployment, fz: FakeZoho, *, approved: bool = False
) -> FakeZoho:
    """Both workspaces installed (each admin approving, unless the test `approved` already) and
    connected to their own organisations; their catalogs walked."""
    beta_zoho = fz.add_organisation(sample_org(TODAY, settings=ST_JOHNS))
    for workspace in (ALPHA, BETA):
        assert (await deployment.install(workspace, approve=not approved)).status_code == 200
    fz.approve_as("hr@alpha.example")
    assert (await deployment.connect(ALPHA)).status_code == 200
    beta_zoho.approve_as("hr@beta.example")
    assert (await deployment.connect(BETA)).status_code == 200
    await _discover(deployment, ALPHA, BETA)
    return beta_zoho


async def test_a_team_without_an_installation_is_asked_to_reinstall_and_nothing_runs(
    deployment: Deployment, fz: FakeZoho, slack: FakeSlack
) -> None:
    await _installed_and_connected(deployment, fz)
    slack.add_team("TNEW")
    before = len(fz.requests)
    answer = await deployment.command(ALPHA, "tools & systems week", "stranger", team_id="TNEW")
    assert "reinstall" in answer
    assert len(fz.requests) == before, "no Zoho call for a team that never installed"
    assert deployment.fleet.running("TNEW") is None


async def test_a_team_id_swapped_in_a_signed_payload_answers_as_that_team_with_nothing_of_the_other(
    deployment: Deployment, fz: FakeZoho, org: Org
) -> None:
    """A payload signed with the app's secret but naming Beta's team while the person and the
    channel are Alpha's runs as Beta: Beta's token, Beta's data; Alpha's data is not read."""
    beta_zoho = await _installed_and_connected(deployment, fz)
    fz.clear()
    answer = await deployment.command(ALPHA, "tools & systems week", "swapped", team_id=BETA.team)
    assert f"<!date^{_instant(org, 1, '09:30')}^" not in answer
    assert fz.calls() == [], "Alpha's organisation was not asked"
    assert beta_zoho.calls(), "the answer came from Beta's organisation"


async def test_a_workspace_that_uninstalls_is_forgotten_and_the_other_goes_on(
    deployment: Deployment, fz: FakeZoho, slack: FakeSlack, org: Org
) -> None:
    beta_zoho = await _installed_and_connected(deployment, fz)
    await deployment.command(ALPHA, "digest tools & systems at 9am", "digest")
    await deployment.command(BETA, "digest tools & systems at 9am", "beta-digest")
    assert ALPHA.team in await deployment.fleet.root.tenant_ids(), "the digest is Alpha's row"

    slack.uninstall(ALPHA.team)
    body = json.dumps(app_uninstalled_payload(ALPHA.team, bot_user_id=slack.team(ALPHA.team).bot_user_id))
    assert (await deployment.post(body, JSON_CONTENT_TYPE)).status_code == 200

    async def gone() -> bool:
        installed = await deployment.fleet.slack_stores.installations.installed_tenants()
        tenants_with_rows = await deployment.fleet.root.tenant_ids()
        return [entry.tenant_id for entry in installed] == [BETA.team] and ALPHA.team not in tenants_with_rows

    await _until(gone)
    assert fz.revoke_requests(), "Alpha's Zoho token was revoked at Zoho"
    assert deployment.fleet.running(ALPHA.team) is None
    answer = await deployment.command(ALPHA, "tools & systems week", "after")
    assert "reinstall" in answer
    beta = await deployment.command(BETA, "tools & systems week", "beta-after")
    assert f"<!date^{_instant(org, 1, '09:30')}^" not in beta
    assert "Laptop" in beta
    assert beta_zoho.calls()
    fleet = deployment.fleet
    marks = await fleet.root.lead(LEASE_NAME, fleet.holder, fleet.shared.clock.now(), LEASE_TTL)
    rounds = await fleet.rounds(marks)
    assert [r.store.tenant.id for r in rounds] == [BETA.team], "nothing more is sent to Alpha"


async def _until(predicate: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.02)


def _button(blocks: Any, action: str) -> JSON:
    found = [
        element
        for block in blocks
        if block.get("type") in ("actions", "section")
        for element in (block.get("elements") or [block.get("accessory") or {}])
        if str(element.get("action_id", "")).startswith(action)
    ]
    assert found, f"no {action} button"
    return found[0]


async def _alpha_digest(deployment: Deployment) -> tuple[Any, JSON]:
    """Alpha's digest, and its `digest list` message (with its Edit and Stop buttons)."""
    await deployment.command(ALPHA, "digest tools & systems at 9am", "made")
    (digest,) = await deployment.fleet.root.tenant(Tenant(ALPHA.team)).digests()
    payload = slash_command_body(
        text="digest list",
        response_url=deployment.slack.response_url("listed"),
        team_id=ALPHA.team,
        user_id=ALPHA.admin,
        channel_id=ALPHA.channel,
    )
    answer = await deployment.post(payload, FORM)
    if answer.text:
        return digest, json.loads(answer.text)
    (listed,) = await deployment.slack.wait_for_responses_async(name="listed")
    return digest, dict(listed.body)


async def test_a_button_copied_from_another_workspace_s_message_gets_a_sentence_and_changes_nothing(
    deployment: Deployment, fz: FakeZoho
) -> None:
    await _installed_and_connected(deployment, fz)
    digest, listed = await _alpha_digest(deployment)
    stop = _button(listed["blocks"], FormAction.STOP_DIGEST)

    said = await deployment.click(BETA, stop, "copied")

    # The same sentence as for a digest stopped meanwhile: nothing says the id exists elsewhere.
    assert said == ":warning: That digest was already stopped, so nothing changed."
    assert await deployment.fleet.root.tenant(Tenant(ALPHA.team)).digests() == [digest]
    assert await deployment.fleet.root.tenant(Tenant(BETA.team)).digests() == []


async def test_a_form_for_another_workspace_s_digest_submitted_elsewhere_changes_nothing(
    deployment: Deployment, fz: FakeZoho, slack: FakeSlack
) -> None:
    await _installed_and_connected(deployment, fz)
    digest, listed = await _alpha_digest(deployment)
    before = len(slack.calls_to("views.open"))
    await deployment.click(
        ALPHA, _button(listed["blocks"], FormAction.OPEN_DIGEST), "open"
    ) if False else None
    edit = _button(listed["blocks"], FormAction.OPEN_DIGEST)
    payload = block_actions_payload(
        edit["action_id"],
        edit.get("value"),
        user_id=ALPHA.admin,
        channel_id=ALPHA.channel,
        response_url=slack.response_url("open"),
        team_id=ALPHA.team,
        trigger_id=slack.issue_trigger(ALPHA.team),
    )
    await deployment.post(interactivity_body(payload), FORM)
    call = (await slack.wait_for_calls_async("views.open", before + 1))[-1]
    modal = slack.modal(call.response["view"]["id"])
    assert modal is not None

    values = filled_state(modal, {FormAction.TIME: "18:00"})
    forged = view_submission_payload(modal, values, BETA.admin, BETA.team)
    answer = await deployment.post(interactivity_body(forged), FORM)

    assert answer.status_code == 200
    assert await deployment.fleet.root.tenant(Tenant(ALPHA.team)).digests() == [digest]
    assert await deployment.fleet.root.tenant(Tenant(BETA.team)).digests() == []
    shown = json.loads(answer.text)
    assert shown["response_action"] == "update"
    assert "That digest was already stopped, so nothing changed." in all_text(shown["view"])


async def test_with_token_rotation_a_bot_token_about_to_expire_is_renewed_before_the_round_sends(
    deployment: Deployment, fz: FakeZoho, slack: FakeSlack
) -> None:
    slack.approve_next(ALPHA.team, user_id=ALPHA.admin, rotation=True, expires_in=600)  # 10 minutes left
    slack.approve_next(BETA.team, user_id=BETA.admin)
    await _installed_and_connected(deployment, fz, approved=True)
    await deployment.command(ALPHA, "digest tools & systems at 9am", "digest")
    installations = deployment.fleet.slack_stores.installations
    bot = await installations.async_find_bot(enterprise_id=None, team_id=ALPHA.team)
    assert bot is not None
    assert bot.bot_refresh_token
    old = bot.bot_token

    await deployment.fleet.scheduler.tick()

    renewed = await installations.async_find_bot(enterprise_id=None, team_id=ALPHA.team)
    assert renewed is not None
    assert renewed.bot_token != old
    (refresh,) = [c for c in slack.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]
    assert refresh.ok
    running = deployment.fleet.running(ALPHA.team)
    assert running is not None
    assert running.slack.token == renewed.bot_token
    await deployment.command(ALPHA, "tools & systems week", "after-rotation")
    assert slack.calls[-1].token != old


async def test_a_lock_in_one_organisation_leaves_the_other_s_answers_on_time(
    deployment: Deployment, fz: FakeZoho
) -> None:
    beta_zoho = await _installed_and_connected(deployment, fz)
    fz.answer_429_next(5)

    alpha = await deployment.command(ALPHA, "tools & systems week", "alpha-locked")
    beta = await deployment.command(BETA, "tools & systems week", "beta-free")

    assert "paused" in alpha, alpha
    assert "Laptop" in beta
    assert beta_zoho.calls("/api/v1/courses")
    alpha_state = deployment.fleet.running(ALPHA.team)
    beta_state = deployment.fleet.running(BETA.team)
    assert alpha_state is not None
    assert beta_state is not None
    now = deployment.fleet.shared.clock.time()
    assert await alpha_state.core.state.locked_until(now) > now
    assert await beta_state.core.state.locked_until(now) == 0.0


async def test_two_workspaces_connected_to_one_organisation_share_its_lock(
    deployment: Deployment, fz: FakeZoho
) -> None:
    for workspace in (ALPHA, BETA):
        assert (await deployment.install(workspace)).status_code == 200
        fz.approve_as(f"hr@{workspace.team.lower()}.example")
        assert (await deployment.connect(workspace)).status_code == 200
        running = deployment.fleet.running(workspace.team)
        assert running is not None
        await running.core.catalog.walk()
    fz.answer_429_next(5)

    await deployment.command(ALPHA, "tools & systems week", "alpha-locks")
    before = len(fz.calls())
    beta = await deployment.command(BETA, "tools & systems week", "beta-waits")

    assert "paused" in beta, "Beta's calls count against the same organisation, now locked"
    assert len(fz.calls()) == before, "Beta did not call a locked organisation"


async def test_an_org_wide_install_is_one_tenant_for_every_workspace_of_the_enterprise(
    deployment: Deployment, fz: FakeZoho, slack: FakeSlack
) -> None:
    grid = {"enterprise_id": "EGRID", "is_enterprise_install": "true"}
    for team, admin in (("TGRID1", "UGRID1"), ("TGRID2", "UGRID2")):
        slack.add_team(team, enterprise_id="EGRID")
        slack.add_user(admin, admin.lower(), tz="UTC", is_admin=True, team_id=team)
        slack.add_channel(f"C{team}", "training", team_id=team)
    first, second = Workspace("TGRID1", "UGRID1", "CTGRID1"), Workspace("TGRID2", "UGRID2", "CTGRID2")
    slack.approve_next("TGRID1", enterprise_id="EGRID", is_enterprise_install=True, user_id="UGRID1")
    assert (await deployment.install(first, approve=False)).status_code == 200
    installed = await deployment.fleet.slack_stores.installations.installed_tenants()
    assert [(entry.tenant_id, entry.org_wide) for entry in installed] == [("EGRID", True)]

    before = await deployment.command(second, "tools & systems week", "grid-before", **grid)
    assert "isn't connected" in before, "the enterprise's tenant, not yet connected"
    fz.approve_as("hr@grid.example")
    view = await deployment.home(first, enterprise_id="EGRID", is_enterprise_install=True)
    url = next(
        str(e["url"])
        for b in view["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if "/zoho/connect" in str(e.get("url"))
    )
    async with httpx.AsyncClient() as browser:
        assert (await follow_consent(browser, url)).status_code == 200
    running = deployment.fleet.running("EGRID")
    assert running is not None
    await running.core.catalog.walk()

    answer = await deployment.command(second, "tools & systems week", "grid-after", **grid)
    assert "Laptop" in answer
    await deployment.command(first, "digest tools & systems at 9am", "grid-digest", **grid)
    assert await deployment.fleet.root.tenant_ids() == {"EGRID"}


@pytest.fixture
async def two_instances(
    make_deployment: MakeDeployment, postgres_server: PostgresServer, tmp_path: Path
) -> tuple[Deployment, Deployment]:
    """Two instances of one deployment on one PostgreSQL database, each with its own disk."""
    url = postgres_server.fresh_database()
    return await make_deployment(url, tmp_path / "first"), await make_deployment(url, tmp_path / "second")


async def test_two_instances_on_one_postgresql_serve_both_workspaces_and_send_each_digest_once(
    two_instances: tuple[Deployment, Deployment], fz: FakeZoho, slack: FakeSlack, clock: FakeClock
) -> None:
    first, second = two_instances
    beta_zoho = fz.add_organisation(sample_org(TODAY, settings=ST_JOHNS))
    assert (await first.install(ALPHA)).status_code == 200
    assert (await second.install(BETA)).status_code == 200
    fz.approve_as("hr@alpha.example")
    assert (await second.connect(ALPHA)).status_code == 200
    beta_zoho.approve_as("hr@beta.example")
    assert (await first.connect(BETA)).status_code == 200
    for deployment in (first, second):
        for workspace in (ALPHA, BETA):
            await deployment.home(workspace)  # each instance builds both tenants' parts
            running = deployment.fleet.running(workspace.team)
            assert running is not None
            assert running.connect is not None
            await running.connect.refresh()  # what its connection task does every minute
            await running.core.catalog.walk()

    alpha = await second.command(ALPHA, "tools & systems week", "alpha-on-second")
    beta = await first.command(BETA, "tools & systems week", "beta-on-first")
    assert "Laptop" in alpha
    assert "Laptop" in beta
    await first.command(ALPHA, "digest tools & systems at 9am", "alpha-digest")
    await second.command(BETA, "digest tools & systems at 9am", "beta-digest")

    clock.set(clock.now().replace(hour=9, minute=1) + timedelta(days=1))
    for _ in range(2):
        for deployment in (first, second):
            await deployment.fleet.scheduler.tick()

    digests = [
        call
        for call in slack.calls_to("chat.postMessage", ok=True)
        if "upcoming training session" in call.args.get("text", "")
    ]
    assert sorted(call.args["channel"] for call in digests) == [ALPHA.channel, BETA.channel], "each once"
    alpha_post, beta_post = sorted(digests, key=lambda call: call.args["channel"])
    assert alpha_post.token != beta_post.token, "each workspace's digest with its own token"


SESSION_LINK = re.compile(r"http://127\.0\.0\.1:\d+/calendar/session/[A-Za-z0-9_.-]+\.ics")
FEED_ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+/calendar/[A-Za-z0-9_-]{43}\.ics")


async def test_each_workspace_s_calendar_links_and_feeds_serve_its_own_sessions(
    deployment: Deployment, fz: FakeZoho, slack: FakeSlack
) -> None:
    await _installed_and_connected(deployment, fz)
    files = {}
    for workspace in (ALPHA, BETA):
        listing = await deployment.command(workspace, "tools & systems week", f"cal-{workspace.team}")
        link = SESSION_LINK.findall(listing.replace("\\\\/", "/"))[0]
        answer = await deployment.http.get(link)
        assert answer.status_code == 200
        files[workspace.team] = answer.text
    assert "TZID=Asia/Kolkata" in files[ALPHA.team]
    assert "TZID=America/St_Johns" in files[BETA.team]

    view = await deployment.home(ALPHA)
    (subscribe,) = [
        e
        for b in view["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("action_id") == CalendarAction.SUBSCRIBE
    ]
    payload = block_actions_payload(
        subscribe["action_id"],
        subscribe.get("value"),
        user_id=ALPHA.admin,
        channel_id=None,
        view=view,
        team_id=ALPHA.team,
        trigger_id=slack.issue_trigger(ALPHA.team),
    )
    before = len(slack.calls_to("views.publish"))
    await deployment.post(interactivity_body(payload), FORM)
    published = (await slack.wait_for_calls_async("views.publish", before + 1))[-1]
    (address,) = FEED_ADDRESS.findall(all_text(published.args["view"]))
    feed = await deployment.http.get(address)
    assert feed.status_code == 200
    assert "BEGIN:VCALENDAR" in feed.text
    unknown = await deployment.http.get(address.rsplit("/", 1)[0] + "/" + "A" * 43 + ".ics")
    assert (unknown.status_code, unknown.text) == (404, NOT_FOUND)


async def test_a_revoked_bot_token_forgets_the_workspace_and_a_revoked_person_s_token_does_not(
    deployment: Deployment, fz: FakeZoho, slack: FakeSlack
) -> None:
    await _installed_and_connected(deployment, fz)
    bot_user = slack.team(BETA.team).bot_user_id
    people_only = tokens_revoked_payload(BETA.team, oauth=[BETA.admin], bot_user_id=bot_user)
    assert (await deployment.post(json.dumps(people_only), JSON_CONTENT_TYPE)).status_code == 200
    assert deployment.fleet.running(BETA.team) is not None

    slack.uninstall(BETA.team)
    revoked = tokens_revoked_payload(BETA.team, bot=[bot_user], bot_user_id=bot_user)
    assert (await deployment.post(json.dumps(revoked), JSON_CONTENT_TYPE)).status_code == 200

    async def gone() -> bool:
        installed = await deployment.fleet.slack_stores.installations.installed_tenants()
        return [entry.tenant_id for entry in installed] == [ALPHA.team]

    await _until(gone)
    assert BETA.team not in await deployment.fleet.root.tenant_ids()
    assert "Laptop" in await deployment.command(ALPHA, "tools & systems week", "alpha-stays")


async def test_a_quiet_tick_asks_the_store_two_things_however_many_tenants_are_installed(
    deployment: Deployment, clock: FakeClock, org: Org
) -> None:
    """The lease (with its marks) and which tenants are installed; nothing per tenant."""
    fleet = deployment.fleet
    module = module_refs(org)[0]
    for n in range(40):
        team = f"TQUIET{n:03d}"
        await fleet.slack_stores.installations.async_save(
            Installation(app_id="A1", team_id=team, bot_token=f"xoxb-{team}", bot_user_id="UB", user_id="U1")
        )
        if n % 4 == 0:
            await fleet.root.tenant(Tenant(team)).save_digest(
                "C1", module, dt_time(23), frozenset(range(7)), "UTC", "U1", clock.now()
            )
    for n in range(0, 20, 4):  # some built before the scheduler's first tick (as a request builds them)
        await fleet.workspace(Tenant(f"TQUIET{n:03d}"), f"xoxb-TQUIET{n:03d}")
    for _ in range(2):  # the first ticks build the subscribed tenants' parts and read their subscriptions
        await fleet.scheduler.tick()
        clock.advance(30)

    for _ in range(3):
        with statements() as sent:
            report = await fleet.scheduler.tick()
        clock.advance(30)
        assert report.leader
        assert len(sent) == 2, sent
        assert sent[0].startswith("INSERT INTO leases")
        assert "slack_bots" in sent[1]


async def test_a_second_install_into_a_workspace_replaces_the_first_and_its_token_is_used(
    deployment: Deployment, fz: FakeZoho, slack: FakeSlack
) -> None:
    await _installed_and_connected(deployment, fz)
    installations = deployment.fleet.slack_stores.installations
    first = await installations.async_find_bot(enterprise_id=None, team_id=ALPHA.team)
    assert first is not None

    assert (await deployment.install(ALPHA)).status_code == 200

    second = await installations.async_find_bot(enterprise_id=None, team_id=ALPHA.team)
    assert second is not None
    assert second.bot_token != first.bot_token
    async with deployment.fleet.slack_stores.engine.connect() as connection:
        query = text("SELECT count(*) FROM slack_bots WHERE team_id = :team")
        assert (await connection.execute(query, {"team": ALPHA.team})).scalar_one() == 1, "nothing doubled"
    await deployment.command(ALPHA, "tools & systems week", "after-reinstall")
    assert slack.calls[-1].token == second.bot_token


async def test_a_workspace_that_left_through_one_instance_and_came_back_starts_clean_on_every_instance(
    two_instances: tuple[Deployment, Deployment], fz: FakeZoho, slack: FakeSlack
) -> None:
    first, second = two_instances
    assert (await first.install(ALPHA)).status_code == 200
    fz.approve_as("hr@alpha.example")
    assert (await first.connect(ALPHA)).status_code == 200
    for deployment in (first, second):
        await deployment.home(ALPHA)
        running = deployment.fleet.running(ALPHA.team)
        assert running is not None
        assert running.connect is not None
        await running.connect.refresh()
    running = first.fleet.running(ALPHA.team)
    assert running is not None
    await running.core.catalog.walk()
    kept = second.fleet.running(ALPHA.team)
    assert kept is not None
    assert await kept.core.catalog.take_shared(), "as its discovery task does"
    assert "Laptop" in await second.command(ALPHA, "tools & systems week", "before-leaving")

    slack.uninstall(ALPHA.team)
    body = json.dumps(app_uninstalled_payload(ALPHA.team, bot_user_id=slack.team(ALPHA.team).bot_user_id))
    assert (await first.post(body, JSON_CONTENT_TYPE)).status_code == 200

    async def shared_left() -> list[Any]:
        async with first.fleet.slack_stores.engine.connect() as connection:  # the same database
            query = text("SELECT key FROM shared_values WHERE key LIKE 'tenant:TALPHA:%'")
            return list((await connection.execute(query)).all())

    async def gone() -> bool:
        return (
            not await first.fleet.slack_stores.installations.installed_tenants() and not await shared_left()
        )

    await _until(gone)  # its token, catalog and session data too
    await kept.connect.refresh()  # what the other instance's connection task does every minute
    assert kept.core.catalog.walked_at() is None, "what it held of the organisation is gone from its disk"
    assert (await second.install(ALPHA)).status_code == 200

    home = all_text(await second.home(ALPHA))
    assert "Connected to Zoho People" not in home, "the instance that kept its parts built them anew"
    again = await second.command(ALPHA, "tools & systems week", "after-coming-back")
    assert "isn't connected" in again
    assert "Laptop" not in again


def test_the_kept_authorizations_are_bounded_oldest_out_first() -> None:
    kept = RecentAuthorizations(2)
    for token in ("xoxb-1", "xoxb-2", "xoxb-3"):
        kept[token] = token.upper()
    assert list(kept) == ["xoxb-2", "xoxb-3"]
