"""Quick checks that the fake Zoho keeps Zoho's rules, so client tests can trust it."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from tests.fakes.zoho import THRESHOLD_MESSAGE, FakeZoho, consent_return_url, follow_consent
from tests.fakes.zoho_data import (
    DATE_FORMATS,
    Batch,
    Course,
    Module,
    Org,
    OrgSettings,
    format_java_date,
    make_session,
    module_with_sessions,
    sample_org,
    zoho_id,
)

TODAY = date(2025, 3, 10)
GRANT = {
    "grant_type": "refresh_token",
    "client_id": "client-id",
    "client_secret": "client-secret",
    "refresh_token": "1000.refresh.token",
}
PAGED = module_with_sessions(60, TODAY)
MODULE_PATH = PAGED.module_sessions_path(zoho_id(390001))


@pytest.fixture(autouse=True)
def quiet_httpx() -> Iterator[None]:
    """Keep httpx's request log out of these tests.

    Why: here the test itself is the client, and it sends the fake's secrets in
    query strings on purpose (Zoho's own examples do); httpx logs every URL at
    INFO, which the suite-wide `no_secret_in_the_log` check rightly flags for
    the bot but which says nothing about the fake.
    """
    logger = logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


class Clock:
    """A settable clock for the fake (the fake reads it from its own thread)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fz(clock: Clock) -> Iterator[FakeZoho]:
    with FakeZoho(module_with_sessions(60, TODAY)) as fake:
        fake.clock = clock
        yield fake


@pytest.fixture
def http(fz: FakeZoho) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fz.url, timeout=5) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token}"}


def test_refresh_grant_issues_distinct_tokens(fz: FakeZoho, http: httpx.Client) -> None:
    first = http.post("/oauth/v2/token", params=GRANT).json()
    second = http.post("/oauth/v2/token", data=GRANT).json()
    assert first["access_token"] != second["access_token"]
    assert first["expires_in"] == 3600
    assert first["token_type"] == "Bearer"
    assert fz.token_requests()[1].form["refresh_token"] == "1000.refresh.token"


@pytest.mark.parametrize(
    ("change", "error"),
    [({"client_secret": "nope"}, "invalid_client"), ({"refresh_token": "1000.other"}, "invalid_code")],
)
def test_token_errors_come_with_http_200(http: httpx.Client, change: dict[str, str], error: str) -> None:
    answer = http.post("/oauth/v2/token", params={**GRANT, **change})
    assert answer.status_code == 200
    assert answer.json() == {"error": error}


def test_revoked_refresh_token_is_invalid_code(fz: FakeZoho, http: httpx.Client) -> None:
    token = http.post("/oauth/v2/token", params=GRANT).json()["access_token"]
    fz.revoke_refresh_token()
    assert http.post("/oauth/v2/token", params=GRANT).json() == {"error": "invalid_code"}
    assert http.get("/api/v1/courses", headers=auth(token)).status_code == 401


def test_authorization_code_grant_returns_refresh_token(fz: FakeZoho, http: httpx.Client) -> None:
    grant = {**GRANT, "grant_type": "authorization_code", "code": fz.grant_code}
    del grant["refresh_token"]
    body = http.post("/oauth/v2/token", data=grant).json()
    assert body["refresh_token"] == "1000.refresh.token"
    assert body["access_token"] in fz.live_tokens()
    wrong = http.post("/oauth/v2/token", data={**grant, "code": "1000.stale"}).json()
    assert wrong == {"error": "invalid_code"}


def test_eleventh_token_request_in_ten_minutes_is_denied(
    fz: FakeZoho, http: httpx.Client, clock: Clock
) -> None:
    for _ in range(10):
        assert "access_token" in http.post("/oauth/v2/token", params=GRANT).json()
    denied = http.post("/oauth/v2/token", params=GRANT)
    assert denied.status_code == 200
    assert denied.json()["error"] == "Access Denied"
    clock.now += 601
    assert "access_token" in http.post("/oauth/v2/token", params=GRANT).json()


def test_eleventh_live_token_kills_the_oldest(fz: FakeZoho, clock: Clock) -> None:
    tokens = [fz.issue_token() for _ in range(11)]
    assert fz.live_tokens() == tokens[1:]


def test_sixty_sessions_come_in_three_pages(fz: FakeZoho, http: httpx.Client) -> None:
    headers = auth(fz.issue_token())
    pages = [
        http.get(MODULE_PATH, params={"startIndex": start}, headers=headers).json() for start in (0, 25, 50)
    ]
    assert [len(p["sessions"]) for p in pages] == [25, 25, 10]
    assert [p["hasMoreRecords"] for p in pages] == [True, True, False]
    assert pages[0]["code"] == 200
    ids = [s["sessionId"] for p in pages for s in p["sessions"]]
    assert len(set(ids)) == 60
    assert [c.query["startIndex"] for c in fz.calls()] == ["0", "25", "50"]


def test_bad_start_index_and_unknown_ids(fz: FakeZoho, http: httpx.Client) -> None:
    headers = auth(fz.issue_token())
    assert http.get(MODULE_PATH, params={"startIndex": "two"}, headers=headers).status_code == 400
    missing = http.get("/api/v1/courses/42/batches", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == 404


def test_thirty_first_call_locks_for_five_minutes(fz: FakeZoho, http: httpx.Client, clock: Clock) -> None:
    headers = auth(fz.issue_token())
    for _ in range(30):
        assert http.get("/api/v1/courses", headers=headers).status_code == 200
    locked = http.get("/api/v1/courses", headers=headers)
    assert locked.status_code == 400
    assert locked.json()["code"] == 7209
    assert "retry-after" not in locked.headers
    assert fz.locked_until == clock.now + 300
    clock.now += 299
    assert http.get("/api/v1/courses", headers=headers).json()["code"] == 7209
    assert fz.locked_until == clock.now + 1, "calls during the lock must not extend it"
    clock.now += 1
    assert http.get("/api/v1/courses", headers=headers).json()["code"] == "200"
    assert len(fz.calls()) == 33


def test_threshold_window_slides(fz: FakeZoho, http: httpx.Client, clock: Clock) -> None:
    headers = auth(fz.issue_token())
    for _ in range(30):
        http.get("/api/v1/courses", headers=headers)
    clock.now += 60
    assert http.get("/api/v1/courses", headers=headers).status_code == 200


def test_employee_lookup_is_outside_the_threshold(fz: FakeZoho, http: httpx.Client) -> None:
    headers = auth(fz.issue_token())
    for _ in range(31):
        answer = http.get(
            "/api/forms/employee/getDataByID", params={"recordId": zoho_id(600001)}, headers=headers
        )
        assert answer.status_code == 200
    assert answer.json()["response"]["result"][0]["EmailID"] == "henry.martin@example.com"
    assert not fz.is_locked()


def test_expired_and_missing_tokens(fz: FakeZoho, http: httpx.Client, clock: Clock) -> None:
    token = fz.issue_token()
    assert http.get("/api/v1/courses", headers=auth(token)).status_code == 200
    clock.now += 3600
    expired = http.get("/api/v1/courses", headers=auth(token))
    assert expired.status_code == 401
    assert expired.json()["response"]["errors"]["code"] == 7213
    missing = http.get("/api/v1/courses")
    assert missing.status_code == 400
    assert missing.json()["response"]["errors"]["code"] == 7202


def test_expire_all_tokens(fz: FakeZoho, http: httpx.Client) -> None:
    token = fz.issue_token()
    fz.expire_all_tokens()
    assert http.get("/api/v1/courses", headers=auth(token)).status_code == 401


def test_injected_faults_then_recovery(fz: FakeZoho, http: httpx.Client) -> None:
    headers = auth(fz.issue_token())
    fz.fail_next(1, status=503)
    fz.answer_429_next(1)
    statuses = [http.get("/api/v1/courses", headers=headers).status_code for _ in range(3)]
    assert statuses == [503, 429, 200]
    assert [r.status for r in fz.calls()] == statuses


def test_delay_is_served_without_blocking_the_server(fz: FakeZoho, http: httpx.Client) -> None:
    fz.delay = 0.5
    with pytest.raises(httpx.ReadTimeout):
        http.get("/api/v1/courses", headers=auth(fz.issue_token()), timeout=0.05)
    assert http.post("/oauth/v2/token", params=GRANT, timeout=0.4).status_code == 200


def test_never_ending_lists(fz: FakeZoho, http: httpx.Client) -> None:
    fz.never_ending = True
    page = http.get(MODULE_PATH, params={"startIndex": 1000}, headers=auth(fz.issue_token())).json()
    assert page["hasMoreRecords"] is True
    assert len(page["sessions"]) == 25


def test_mutation_helpers(fz: FakeZoho, http: httpx.Client) -> None:
    course, batch, module = PAGED.locate(zoho_id(390001))
    extra = make_session("x-1", "ignored", "Extra", datetime(2025, 3, 10, 13, 0), minutes=30)
    fz.add_session(course.course_id, batch.batch_id, module.module_id, extra)
    fz.update_session(zoho_id(900001), sessionName="Renamed")
    fz.remove_session(zoho_id(900002))
    headers = auth(fz.issue_token())
    path = PAGED.batch_sessions_path(batch.batch_id)
    last = http.get(path, params={"startIndex": 50}, headers=headers).json()["sessions"]
    first = http.get(path, headers=headers).json()["sessions"]
    assert last[-1]["moduleId"] == module.module_id
    assert first[0]["sessionName"] == "Renamed"
    assert first[1]["sessionId"] == zoho_id(900003)
    with pytest.raises(KeyError):
        fz.remove_session("missing")


def test_make_session_formats_like_zoho() -> None:
    session = make_session("1", "2", "Morning", datetime(2022, 1, 11, 9, 0), minutes=240)
    assert session["sessionStartDate"] == "11-01-2022"
    assert (session["sessionStartTime"], session["sessionEndTime"]) == ("9:00 AM", "1:00 PM")
    late = make_session("3", "2", "Late", datetime(2022, 1, 11, 23, 30), minutes=60)
    assert late["sessionEndTime"] == "12:30 AM"


def test_sample_org_is_varied() -> None:
    org = sample_org(TODAY)
    assert [c.name for c in org.courses] == [
        "Onboarding",
        "Leadership Essentials",
        "Data Protection & GDPR",
    ]
    assert len(org.module_named("Introduction")) == 2
    assert org.module_named("Sécurité au travail")
    sessions = org.all_sessions()
    assert {s["sessionType"] for s in sessions} == {"Classroom", "E-learning"}
    days = {(datetime.strptime(s["sessionStartDate"], "%d-%m-%Y").date() - TODAY).days for s in sessions}
    assert min(days) < 0 < max(days) <= 30
    emails = {t.erecno: t.email for t in org.trainers}
    assert all(s["trainerErecno"] in emails for s in sessions)


def test_cli_prints_settings_and_stops_on_ctrl_c() -> None:
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "tests.fakes.zoho", "--port", "0", "--today", "2025-03-10"]
    with subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(7)]
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    settings = dict(line.strip().split("=", 1) for line in lines if "=" in line)
    assert settings["ZOHO_REFRESH_TOKEN"] == "1000.refresh.token"
    assert settings["ZOHO_PEOPLE_URL"] == settings["ZOHO_ACCOUNTS_URL"]
    assert settings["ZOHO_PEOPLE_URL"].startswith("http://127.0.0.1:")
    assert proc.returncode == 0


async def test_usable_from_async_tests() -> None:
    with FakeZoho(sample_org(TODAY)) as fake:
        async with httpx.AsyncClient(base_url=fake.url) as client:
            answer = await client.get(
                "/api/v1/courses", params={"search": "gdpr", "type": 2}, headers=auth(fake.issue_token())
            )
    assert [c["courseName"] for c in answer.json()["courses"]] == ["Data Protection & GDPR"]


# --- connecting from a browser -------------------------------------------------

REDIRECT = "https://bot.example.com/zoho/oauth_redirect"
CONSENT = {
    "scope": "ZOHOPEOPLE.training.READ,ZOHOPEOPLE.forms.READ,ZOHOPEOPLE.organization.READ",
    "client_id": "client-id",
    "response_type": "code",
    "access_type": "offline",
    "prompt": "consent",
    "redirect_uri": REDIRECT,
    "state": "st-1",
}
EXCHANGE = {
    "grant_type": "authorization_code",
    "client_id": "client-id",
    "client_secret": "client-secret",
    "redirect_uri": REDIRECT,
}


def consent(http: httpx.Client, **changes: str) -> httpx.Response:
    """The browser's visit to the consent page, redirects not followed."""
    return http.get("/oauth/v2/auth", params={**CONSENT, **changes})


def returned(answer: httpx.Response) -> dict[str, str]:
    """The query Zoho's 302 sends the browser back with."""
    assert answer.status_code == 302, answer.text
    location = httpx.URL(answer.headers["location"])
    assert str(location.copy_with(query=None)) == REDIRECT
    return dict(location.params)


def exchange(http: httpx.Client, code: str, **changes: str) -> dict[str, object]:
    answer = http.post("/oauth/v2/token", data={**EXCHANGE, "code": code, **changes})
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


def test_consent_redirects_back_with_a_code_and_records_what_was_asked(
    fz: FakeZoho, http: httpx.Client
) -> None:
    back = returned(consent(http))
    assert list(back) == ["state", "code", "location", "accounts-server"]
    assert (back["state"], back["location"], back["accounts-server"]) == ("st-1", "us", fz.url)
    assert fz.consent_url_params() == CONSENT
    [seen] = fz.consents
    assert seen.scopes == [
        "ZOHOPEOPLE.training.READ",
        "ZOHOPEOPLE.forms.READ",
        "ZOHOPEOPLE.organization.READ",
    ]
    assert (seen.access_type, seen.prompt, seen.state, seen.outcome) == ("offline", "consent", "st-1", "code")
    assert seen.code == back["code"]


def test_consent_keeps_the_redirect_uris_own_query_and_names_another_data_centre(
    fz: FakeZoho, http: httpx.Client
) -> None:
    fz.approve_as(location="eu", accounts_server="https://accounts.zoho.eu")
    answer = consent(http, redirect_uri=REDIRECT + "?team=T1")
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?team=T1&state=st-1&code=")
    assert location.endswith("&location=eu&accounts-server=https%3A%2F%2Faccounts.zoho.eu")


def test_refusal_redirects_with_access_denied(fz: FakeZoho, http: httpx.Client) -> None:
    fz.refuse()
    answer = consent(http)
    assert answer.headers["location"] == REDIRECT + "?error=access_denied&state=st-1"
    assert fz.consents[-1].outcome == "access_denied"
    fz.approve_as()
    assert "code" in returned(consent(http))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"redirect_uri": ""}, "invalid_redirect_uri"),
        ({"scope": ""}, "invalid_scope"),
    ],
)
def test_a_malformed_consent_request_gets_an_error_page_and_no_redirect(
    fz: FakeZoho, http: httpx.Client, changes: dict[str, str], error: str
) -> None:
    answer = consent(http, **changes)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert error in answer.text
    assert fz.consents[-1].outcome == error


def test_an_unregistered_redirect_uri_is_refused_once_the_client_has_some(
    fz: FakeZoho, http: httpx.Client
) -> None:
    fz.redirect_uris = {REDIRECT}
    assert consent(http, redirect_uri="https://evil.example/cb").status_code == 400
    assert consent(http).status_code == 302


def test_code_exchange_gives_a_new_refresh_token_that_the_refresh_grant_accepts(
    fz: FakeZoho, http: httpx.Client
) -> None:
    body = exchange(http, returned(consent(http))["code"])
    assert set(body) == {"access_token", "refresh_token", "expires_in", "api_domain", "token_type"}
    assert body["expires_in"] == 3600
    refresh = str(body["refresh_token"])
    assert refresh != fz.refresh_token
    assert fz.live_refresh_tokens() == [fz.refresh_token, refresh]
    assert fz.live_refresh_tokens("admin@example.com") == [refresh]
    renewed = http.post("/oauth/v2/token", params={**GRANT, "refresh_token": refresh}).json()
    assert http.get("/api/v1/courses", headers=auth(renewed["access_token"])).status_code == 200
    second = exchange(http, returned(consent(http))["code"])
    assert second["refresh_token"] not in (refresh, fz.refresh_token), "one refresh token per consent"


def test_a_code_works_once(fz: FakeZoho, http: httpx.Client) -> None:
    code = returned(consent(http))["code"]
    assert "refresh_token" in exchange(http, code)
    assert exchange(http, code) == {"error": "invalid_code"}
    assert exchange(http, "1000.never.issued") == {"error": "invalid_code"}


def test_a_code_dies_120_seconds_after_the_consent(fz: FakeZoho, http: httpx.Client, clock: Clock) -> None:
    early, late = returned(consent(http))["code"], returned(consent(http))["code"]
    clock.now += 119.9
    assert "access_token" in exchange(http, early)
    clock.now += 0.1
    assert exchange(http, late) == {"error": "invalid_code"}


def test_the_redirect_uri_must_be_the_consents(fz: FakeZoho, http: httpx.Client) -> None:
    code = returned(consent(http))["code"]
    assert exchange(http, code, redirect_uri=REDIRECT + "/other") == {"error": "invalid_redirect_uri"}
    assert exchange(http, code, client_secret="nope") == {"error": "invalid_client"}
    assert "refresh_token" in exchange(http, code), "a refused exchange leaves the code unused"


def test_offline_refresh_token_only_at_first_consent_unless_prompt_consent(
    fz: FakeZoho, http: httpx.Client
) -> None:
    online = exchange(http, returned(consent(http, access_type="online"))["code"])
    assert "refresh_token" not in online
    assert http.get("/api/v1/courses", headers=auth(str(online["access_token"]))).status_code == 200
    assert "refresh_token" in exchange(http, returned(consent(http, prompt=""))["code"]), "first consent"
    assert "refresh_token" not in exchange(http, returned(consent(http, prompt=""))["code"])
    assert "refresh_token" in exchange(http, returned(consent(http))["code"])


def test_the_twenty_first_refresh_token_deletes_the_oldest_and_its_access_tokens(
    fz: FakeZoho, http: httpx.Client, clock: Clock
) -> None:
    fz.approve_as("grace@example.com")
    other = exchange(http, returned(consent(http))["code"])
    fz.approve_as("ada@example.com")
    bodies = []
    for _ in range(21):
        clock.now += 61  # Zoho allows 10 new refresh tokens per person per 10 minutes
        bodies.append(exchange(http, returned(consent(http))["code"]))
    tokens = [str(b["refresh_token"]) for b in bodies]
    assert fz.live_refresh_tokens("ada@example.com") == tokens[1:]
    assert fz.live_refresh_tokens("grace@example.com") == [other["refresh_token"]]
    assert fz.refresh_token in fz.live_refresh_tokens(), "the operator's token is not the person's"
    dead = http.post("/oauth/v2/token", params={**GRANT, "refresh_token": tokens[0]}).json()
    assert dead == {"error": "invalid_code"}
    assert bodies[0]["access_token"] not in fz.live_tokens()
    assert bodies[1]["access_token"] in fz.live_tokens()


def test_a_person_gets_ten_refresh_tokens_in_ten_minutes(
    fz: FakeZoho, http: httpx.Client, clock: Clock
) -> None:
    for _ in range(10):
        assert "refresh_token" in exchange(http, returned(consent(http))["code"])
    code = returned(consent(http))["code"]
    assert exchange(http, code)["error"] == "Access Denied"
    clock.now += 100
    assert exchange(http, code)["error"] == "Access Denied", "the refused code is still unused"
    clock.now += 500
    assert "refresh_token" in exchange(http, returned(consent(http))["code"])


def test_revoke_kills_the_refresh_token_and_its_access_tokens(fz: FakeZoho, http: httpx.Client) -> None:
    body = exchange(http, returned(consent(http))["code"])
    refresh, access = str(body["refresh_token"]), str(body["access_token"])
    answer = http.post("/oauth/v2/token/revoke", params={"token": refresh})
    assert (answer.status_code, answer.json()) == (200, {"status": "success"})
    assert refresh not in fz.live_refresh_tokens()
    assert http.get("/api/v1/courses", headers=auth(access)).status_code == 401
    assert http.post("/oauth/v2/token", params={**GRANT, "refresh_token": refresh}).json() == {
        "error": "invalid_code"
    }
    assert http.post("/oauth/v2/token/revoke", params={"token": refresh}).status_code == 400
    assert http.post("/oauth/v2/token/revoke", params={"token": "1000.unknown"}).status_code == 400
    assert http.post("/oauth/v2/token/revoke", params={"token": access}).status_code == 400
    assert [r.form["token"] for r in fz.revoke_requests()] == [refresh, refresh, "1000.unknown", access]
    assert fz.token_requests()[-1].form["refresh_token"] == refresh, "revokes are not token requests"


def test_revoking_the_operators_token_over_http(fz: FakeZoho, http: httpx.Client) -> None:
    access = fz.issue_token()
    assert http.post("/oauth/v2/token/revoke", data={"token": fz.refresh_token}).status_code == 200
    assert fz.live_refresh_tokens() == []
    assert http.get("/api/v1/courses", headers=auth(access)).status_code == 401


def test_a_consents_token_reaches_only_its_scopes(fz: FakeZoho, http: httpx.Client) -> None:
    body = exchange(http, returned(consent(http, scope="ZOHOPEOPLE.training.ALL"))["code"])
    headers = auth(str(body["access_token"]))
    assert http.get("/api/v1/courses", headers=headers).status_code == 200
    denied = http.get("/api/v3/organization", headers=headers)
    assert denied.status_code == 401
    assert denied.json()["response"]["errors"]["code"] == 7218
    forms = http.get("/api/forms/employee/getDataByID", params={"recordId": "1"}, headers=headers)
    assert forms.status_code == 401


def test_a_second_data_centre_holds_the_code_and_its_tokens(clock: Clock) -> None:
    with FakeZoho() as us, FakeZoho() as eu, httpx.Client(timeout=5) as http:
        us.clock = eu.clock = clock
        us.approve_as(location="eu", accounts_server=eu)
        answer = http.get(f"{us.url}/oauth/v2/auth", params=CONSENT)
        back = returned(answer)
        assert (back["location"], back["accounts-server"]) == ("eu", eu.url)
        at_us = http.post(f"{us.url}/oauth/v2/token", data={**EXCHANGE, "code": back["code"]}).json()
        assert at_us == {"error": "invalid_code"}
        body = http.post(f"{eu.url}/oauth/v2/token", data={**EXCHANGE, "code": back["code"]}).json()
        headers = auth(body["access_token"])
        assert http.get(f"{eu.url}/api/v3/organization", headers=headers).status_code == 200
        assert http.get(f"{us.url}/api/v3/organization", headers=headers).status_code == 401
        assert len(us.consents) == 1
        assert eu.consents == []


# --- organisation settings -----------------------------------------------------


def test_organization_answers_admins_with_the_orgs_settings(fz: FakeZoho, http: httpx.Client) -> None:
    fz.settings = OrgSettings(time_zone="Asia/Kolkata", date_format="dd.MM.yyyy", company="555")
    body = http.get("/api/v3/organization", headers=auth(fz.issue_token())).json()
    assert list(body) == [
        "TimeFormat",
        "Company",
        "ContactMailId",
        "TimeZone",
        "Address",
        "DateFormat",
        "Website",
        "ContactNumber",
        "ContactPerson",
    ]
    assert (body["TimeZone"], body["DateFormat"], body["TimeFormat"], body["Company"]) == (
        "Asia/Kolkata",
        "dd.MM.yyyy",
        "hh:mm a",
        "555",
    )


def test_organization_refuses_non_admins(fz: FakeZoho, http: httpx.Client) -> None:
    fz.approve_as("bob@example.com", admin=False)
    headers = auth(str(exchange(http, returned(consent(http))["code"])["access_token"]))
    refused = http.get("/api/v3/organization", headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {
        "code": "NO_PERMISSION",
        "message": "You don't have permission to perform this operation as you are not an Admin.",
    }
    assert http.get("/api/v1/courses", headers=headers).status_code == 200, "a non-admin still reads the LMS"
    fz.approve_as("bob@example.com", admin=True)
    assert http.get("/api/v3/organization", headers=headers).status_code == 200, "promotion is immediate"
    fz.admin = False
    assert http.get("/api/v3/organization", headers=auth(fz.issue_token())).status_code == 403


def test_organization_has_its_own_threshold_of_twenty(fz: FakeZoho, http: httpx.Client, clock: Clock) -> None:
    headers = auth(fz.issue_token())
    for _ in range(20):
        assert http.get("/api/v3/organization", headers=headers).status_code == 200
    locked = http.get("/api/v3/organization", headers=headers)
    assert (locked.status_code, locked.json()["code"]) == (400, 7209)
    assert fz.org_locked_until == clock.now + 300
    assert not fz.is_locked(), "the LMS count is separate"
    assert http.get("/api/v1/courses", headers=headers).status_code == 200
    clock.now += 299
    assert http.get("/api/v3/organization", headers=headers).json()["code"] == 7209
    clock.now += 1
    assert http.get("/api/v3/organization", headers=headers).status_code == 200


# --- dates and zones -------------------------------------------------------------

INSTANT = datetime(2025, 3, 10, 3, 30, tzinfo=UTC)
"""09:00 in Kolkata, 04:30 in Paris."""


def zoned_org(settings: OrgSettings) -> Org:
    org = Org(settings=settings)
    module = Module(zoho_id(390001), "Zoned")
    module.sessions.append(org.make_session(zoho_id(900001), module.module_id, "First", INSTANT, 90))
    module.sessions.append(
        org.make_session(zoho_id(900002), module.module_id, "Wall", datetime(2025, 3, 1, 23, 0))
    )
    org.courses.append(Course(zoho_id(190001), "C", batches=[Batch(zoho_id(290001), "B", modules=[module])]))
    return org


@pytest.mark.parametrize(
    ("zone", "pattern", "first", "wall"),
    [
        ("Asia/Kolkata", "MM-dd-yyyy", ("03-10-2025", "9:00 AM", "10:30 AM"), "03-01-2025"),
        ("Europe/Paris", "dd.MM.yyyy", ("10.03.2025", "4:30 AM", "6:00 AM"), "01.03.2025"),
        ("UTC", "dd-MM-yyyy", ("10-03-2025", "3:30 AM", "5:00 AM"), "01-03-2025"),
    ],
)
def test_sessions_are_served_in_the_orgs_zone_and_date_format(
    clock: Clock, zone: str, pattern: str, first: tuple[str, str, str], wall: str
) -> None:
    org = zoned_org(OrgSettings(time_zone=zone, date_format=pattern))
    with FakeZoho(org) as fake, httpx.Client(base_url=fake.url, timeout=5) as http:
        fake.clock = clock
        sessions = http.get(
            org.module_sessions_path(zoho_id(390001)), headers=auth(fake.issue_token())
        ).json()
        batches = http.get(
            f"/api/v1/courses/{zoho_id(190001)}/batches", headers=auth(fake.issue_token())
        ).json()
    one, two = sessions["sessions"]
    assert (one["sessionStartDate"], one["sessionStartTime"], one["sessionEndTime"]) == first
    assert (two["sessionStartDate"], two["sessionStartTime"]) == (wall, "11:00 PM"), "naive is wall clock"
    assert batches["batches"][0]["startDateAsDisplayString"] == "01-Mar-2025"
    assert org.all_sessions()[0]["sessionStartDate"] == "10-03-2025", "stored as Zoho's create API takes it"


def test_date_format_changes_apply_to_stored_sessions_and_odd_dates_pass_through(
    fz: FakeZoho, http: httpx.Client
) -> None:
    fz.update_session(zoho_id(900002), sessionStartDate="TBC")
    fz.settings.date_format = "MMM dd, yyyy"
    page = http.get(MODULE_PATH, headers=auth(fz.issue_token())).json()["sessions"]
    assert [s["sessionStartDate"] for s in page[:3]] == ["Mar 10, 2025", "TBC", "Mar 12, 2025"]


@pytest.mark.parametrize("pattern", DATE_FORMATS)
def test_every_offered_date_format_renders(pattern: str) -> None:
    text = OrgSettings(date_format=pattern).format_date(date(2025, 3, 9))
    assert "2025" in text or "25" in text
    assert "09" in text
    assert "03" in text or "Mar" in text


def test_java_date_patterns() -> None:
    day = date(2025, 3, 9)
    assert format_java_date(day, "dd-MMM-yyyy") == "09-Mar-2025"
    assert format_java_date(day, "d MMMM yy") == "9 March 25"
    assert format_java_date(day, "yyyy'年'M'月'd'日'") == "2025年3月9日"
    with pytest.raises(ValueError, match="EEE"):
        OrgSettings(date_format="EEE dd MM")
    with pytest.raises(ValueError, match="year"):
        OrgSettings(date_format="dd-MM")
    with pytest.raises(KeyError):
        OrgSettings(time_zone="Mars/Olympus")


# --- the browser helper ----------------------------------------------------------


async def test_follow_consent_walks_the_browser_from_the_bots_link_and_back(clock: Clock) -> None:
    """A stand-in for the bot: /connect sends the browser to Zoho, the redirect exchanges the code."""
    fake = FakeZoho()
    fake.clock = clock
    exchanged: list[dict[str, str]] = []

    async def connect(request: web.Request) -> web.Response:
        params = {
            **CONSENT,
            "redirect_uri": str(request.url.with_path("/zoho/oauth_redirect").with_query(None)),
        }
        answer = web.Response(
            status=302, headers={"Location": str(httpx.URL(f"{fake.url}/oauth/v2/auth", params=params))}
        )
        answer.set_cookie("flow", "abc")
        return answer

    async def redirect(request: web.Request) -> web.Response:
        query = dict(request.query)
        async with httpx.AsyncClient() as client:
            token = await client.post(
                f"{query['accounts-server']}/oauth/v2/token",
                data={**EXCHANGE, "code": query["code"], "redirect_uri": str(request.url.with_query(None))},
            )
        exchanged.append(token.json())
        return web.Response(text=f"connected {request.cookies.get('flow')}")

    app = web.Application()
    app.router.add_get("/connect", connect)
    app.router.add_get("/zoho/oauth_redirect", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bot_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        with fake:
            async with httpx.AsyncClient(timeout=5) as browser:
                answer = await follow_consent(browser, f"{bot_url}/connect")
                back = await consent_return_url(browser, f"{bot_url}/connect")
    finally:
        await runner.cleanup()
    assert (answer.status_code, answer.text) == (200, "connected abc")
    assert exchanged[0]["refresh_token"] in fake.live_refresh_tokens("admin@example.com")
    assert fake.consent_url_params()["redirect_uri"] == f"{bot_url}/zoho/oauth_redirect"
    assert httpx.URL(back).params["code"] not in (None, "")
    assert len(fake.consents) == 2


# --- several organisations ---------------------------------------------------------
# One fake serving several organisations: each has its own data, settings, Company, tokens,
# threshold and lock, and a token sees only the organisation that issued it.

ORG_REDIRECT = "https://bot.example.com/zoho/callback"
KOLKATA = OrgSettings(time_zone="Asia/Kolkata", date_format="MM/dd/yyyy", company="40001")


def second_org() -> Org:
    """An organisation in Kolkata whose one session names itself."""
    org = Org(settings=KOLKATA)
    module = Module(zoho_id(390777), "Second's module")
    start = datetime(2025, 3, 10, 3, 30, tzinfo=UTC)
    module.sessions.append(org.make_session(zoho_id(900777), module.module_id, "Second only", start))
    org.courses.append(Course(zoho_id(190777), "Second's course", batches=[Batch(zoho_id(290777), "B")]))
    org.courses[0].batches[0].modules.append(module)
    return org


@pytest.fixture
def second(fz: FakeZoho) -> FakeZoho:
    return fz.add_organisation(second_org())


def operator_token(http: httpx.Client, org: FakeZoho) -> str:
    """An access token from the organisation's operator refresh token, over HTTP."""
    grant = {
        "grant_type": "refresh_token",
        "client_id": org.client_id,
        "client_secret": org.client_secret,
        "refresh_token": org.refresh_token,
    }
    token: str = http.post("/oauth/v2/token", data=grant).json()["access_token"]
    return token


def connect(http: httpx.Client, org: FakeZoho, user: str) -> dict[str, str]:
    """A person of `org` approves the consent page; the code is traded for tokens."""
    org.approve_as(user)
    consent = {
        "client_id": org.client_id,
        "response_type": "code",
        "scope": "ZOHOPEOPLE.training.READ,ZOHOPEOPLE.organization.READ",
        "redirect_uri": ORG_REDIRECT,
        "access_type": "offline",
        "prompt": "consent",
    }
    back = http.get("/oauth/v2/auth", params=consent)
    code = dict(httpx.URL(back.headers["location"]).params)["code"]
    exchange = {
        "grant_type": "authorization_code",
        "client_id": org.client_id,
        "client_secret": org.client_secret,
        "redirect_uri": ORG_REDIRECT,
        "code": code,
    }
    body: dict[str, str] = http.post("/oauth/v2/token", data=exchange).json()
    return body


def course_names(http: httpx.Client, token: str) -> list[str]:
    answer = http.get("/api/v1/courses", headers=auth(token))
    assert answer.status_code == 200, answer.text
    return [c["courseName"] for c in answer.json()["courses"]]


def test_a_token_sees_only_the_organisation_that_issued_it(
    fz: FakeZoho, second: FakeZoho, http: httpx.Client
) -> None:
    first_token, second_token = operator_token(http, fz), operator_token(http, second)

    assert course_names(http, second_token) == ["Second's course"]
    assert "Second's course" not in course_names(http, first_token)
    path = second_org().module_sessions_path(zoho_id(390777))
    (session,) = http.get(path, headers=auth(second_token)).json()["sessions"]
    assert (session["sessionStartDate"], session["sessionStartTime"]) == ("03/10/2025", "9:00 AM")
    assert http.get(path, headers=auth(first_token)).status_code == 404
    assert [r.path for r in second.calls()] == ["/api/v1/courses", path]
    assert [r.path for r in fz.calls()] == ["/api/v1/courses", path]
    assert [r.form["refresh_token"] for r in second.token_requests()] == [second.refresh_token]
    assert second.refresh_token != fz.refresh_token
    assert (second.url, second.organisations) == (fz.url, [fz, second])


def test_each_organisation_has_its_own_threshold_lock_and_faults(
    fz: FakeZoho, second: FakeZoho, http: httpx.Client, clock: Clock
) -> None:
    first_token, second_token = operator_token(http, fz), operator_token(http, second)

    for _ in range(30):
        assert http.get("/api/v1/trainers", headers=auth(second_token)).status_code == 200
    locked = http.get("/api/v1/trainers", headers=auth(second_token))
    fz.answer_429_next(1)
    refused_first = http.get("/api/v1/trainers", headers=auth(first_token))

    assert (locked.status_code, locked.json()["message"]) == (400, THRESHOLD_MESSAGE)
    assert second.is_locked()
    assert not fz.is_locked()
    assert refused_first.status_code == 429
    assert http.get("/api/v1/trainers", headers=auth(first_token)).status_code == 200
    assert http.get("/api/v1/trainers", headers=auth(second_token)).status_code == 400
    assert (second.calls_today(), fz.calls_today()) == (32, 2)
    clock.now += 301
    assert http.get("/api/v1/trainers", headers=auth(second_token)).status_code == 200
    clock.now += 14 * 3600
    assert second.calls_today() == 0


def test_a_consent_as_a_person_of_an_organisation_connects_to_that_one(
    fz: FakeZoho, second: FakeZoho, http: httpx.Client
) -> None:
    workspace_a = connect(http, second, "hr@second.example")
    workspace_b = connect(http, second, "lead@second.example")

    for body in (workspace_a, workspace_b):
        settings = http.get("/api/v3/organization", headers=auth(body["access_token"])).json()
        assert (settings["Company"], settings["TimeZone"], settings["DateFormat"]) == (
            "40001",
            "Asia/Kolkata",
            "MM/dd/yyyy",
        )
    assert second.live_refresh_tokens("hr@second.example") == [workspace_a["refresh_token"]]
    assert fz.live_refresh_tokens("hr@second.example") == []
    assert [c.user for c in fz.consents] == ["hr@second.example", "lead@second.example"]
    for _ in range(15):
        http.get("/api/v1/trainers", headers=auth(workspace_a["access_token"]))
        http.get("/api/v1/trainers", headers=auth(workspace_b["access_token"]))
    assert http.get("/api/v1/trainers", headers=auth(workspace_b["access_token"])).status_code == 400
    assert second.is_locked()
    assert not fz.is_locked()
    revoke = http.post("/oauth/v2/token/revoke", params={"token": workspace_a["refresh_token"]})
    assert revoke.json() == {"status": "success"}
    assert second.live_refresh_tokens("hr@second.example") == []


def test_company_ids_are_one_per_organisation(fz: FakeZoho, second: FakeZoho) -> None:
    with pytest.raises(ValueError, match="approve twice"):
        fz.add_organisation(second_org(), company=second.company)
    same_as_default = fz.add_organisation(sample_org(TODAY))

    assert same_as_default.company not in {fz.company, second.company}
    assert second.company == "40001"
    with pytest.raises(RuntimeError, match="served by its FakeZoho"):
        second.start()
