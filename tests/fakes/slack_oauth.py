"""Slack's OAuth v2 install, as the fake Slack plays it: the consent page and `oauth.v2.access`.

Why: a distributed app is installed by sending a browser to Slack's
`/oauth/v2/authorize?client_id&scope&state&redirect_uri`, where a person picks the workspace
and approves; Slack then redirects to the app's redirect URL with `code` and `state`, and the
app trades the code for the workspace's bot token with `oauth.v2.access`. Tests decide what the
person does (`approve_next` for a chosen team, or `deny_next`) and assert on what was issued.

Slack's rules kept here: a code works once, for 10 minutes (on the fake's token clock), with
the client's id and secret (HTTP Basic, as slack_sdk sends them, or form fields) and the
redirect_uri the consent page was given; every install issues a new bot token (an earlier one
keeps working); with token rotation the token lasts 12 hours and a refresh token
(`grant_type=refresh_token`) gets a new one.

Called with the fake's lock held.
"""

from __future__ import annotations

import itertools
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tests.fakes.slack_teams import ROTATION_SECONDS, Grant, Teams

JSON = dict[str, Any]

AUTHORIZE_PATH = "/oauth/v2/authorize"
CODE_SECONDS = 600
"""How long an authorization code can be exchanged (Slack: 10 minutes)."""
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "slack-client-secret"


@dataclass(frozen=True)
class InstallPlan:
    """What the person on the consent page does at the next visit: install into `team_id`
    (org-wide for its enterprise when `is_enterprise_install`), as `user_id`, or refuse."""

    team_id: str
    team_name: str | None = None
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    is_enterprise_install: bool = False
    rotation: bool = False
    expires_in: int = ROTATION_SECONDS
    """With `rotation`, how long the first token lasts (a test may make it nearly over)."""
    user_id: str = "UINSTALLER"
    approve: bool = True


@dataclass(frozen=True)
class Install:
    """One completed install: what `oauth.v2.access` issued for a code."""

    team_id: str
    enterprise_id: str | None
    is_enterprise_install: bool
    access_token: str
    refresh_token: str | None
    scope: str
    user_id: str
    at: float


@dataclass(frozen=True)
class ConsentVisit:
    """One visit to the consent page: the query the browser brought and what it was answered:
    `outcome` "code", "access_denied", or the error shown without redirecting
    ("invalid_client_id", "bad_redirect_uri", "invalid_scope", "no_plan")."""

    params: dict[str, str]
    outcome: str
    redirect: str = ""


@dataclass
class _Code:
    code: str
    plan: InstallPlan
    redirect_uri: str | None
    scope: str
    issued_at: float
    used: bool = False


@dataclass
class OAuth:
    """The app's OAuth client at Slack, its pending codes and what it installed."""

    teams: Teams
    app_id: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    redirect_urls: set[str] | None = None
    """The app's registered redirect URLs; None accepts any given one (the bot's port is not known
    up front). A consent visit without redirect_uri goes to the first registered one."""
    plans: deque[InstallPlan] = field(default_factory=deque)
    installs: list[Install] = field(default_factory=list)
    visits: list[ConsentVisit] = field(default_factory=list)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def authorize(self, params: dict[str, str], now: float) -> tuple[int, str]:
        """The consent page's answer: (302, Location) back to the app, or (400, the error) for a
        request Slack would not send back (unknown client, unregistered redirect, no scope)."""
        redirect = params.get("redirect_uri") or next(iter(sorted(self.redirect_urls or ())), "")
        error = self._consent_error(params, redirect)
        if error:
            self.visits.append(ConsentVisit(params, error))
            return 400, error
        plan = self.plans.popleft()
        state = [("state", params["state"])] if "state" in params else []
        if not plan.approve:
            location = _with_query(redirect, [("error", "access_denied"), *state])
            self.visits.append(ConsentVisit(params, "access_denied", location))
            return 302, location
        self.teams.add(
            plan.team_id,
            plan.team_name,
            enterprise_id=plan.enterprise_id,
            enterprise_name=plan.enterprise_name,
        )
        code = f"{next(self._numbers)}.{plan.team_id}.{uuid.uuid4().hex}"
        scope = params.get("scope", "")
        self._codes[code] = _Code(code, plan, params.get("redirect_uri"), scope, now)
        location = _with_query(redirect, [("code", code), *state])
        self.visits.append(ConsentVisit(params, "code", location))
        return 302, location

    def _consent_error(self, params: dict[str, str], redirect: str) -> str:
        if params.get("client_id") != self.client_id:
            return "invalid_client_id"
        if not redirect or (self.redirect_urls is not None and redirect not in self.redirect_urls):
            return "bad_redirect_uri"
        if not (params.get("scope") or params.get("user_scope")):
            return "invalid_scope"
        if not self.plans:
            return "no_plan"
        return ""

    def access(self, args: JSON, credentials: tuple[str, str] | None, now: float) -> JSON:
        """`oauth.v2.access`: a code for an install, or a refresh token for a new access token."""
        client_id, secret = credentials or (
            str(args.get("client_id", "")),
            str(args.get("client_secret", "")),
        )
        if client_id != self.client_id:
            return _err("invalid_client_id")
        if secret != self.client_secret:
            return _err("bad_client_secret")
        grant_type = args.get("grant_type") or "authorization_code"
        if grant_type == "refresh_token":
            return self._refresh(str(args.get("refresh_token") or ""), now)
        if grant_type != "authorization_code":
            return _err("invalid_grant_type")
        return self._exchange(args, now)

    def _exchange(self, args: JSON, now: float) -> JSON:
        code = self._codes.get(str(args.get("code") or ""))
        if code is None or code.used or now >= code.issued_at + CODE_SECONDS:
            return _err("invalid_code")
        if code.redirect_uri is not None and args.get("redirect_uri") != code.redirect_uri:
            return _err("bad_redirect_uri")
        code.used = True
        plan = code.plan
        grant = self.teams.issue(
            plan.team_id,
            is_enterprise_install=plan.is_enterprise_install,
            expires_at=now + plan.expires_in if plan.rotation else None,
            with_refresh=plan.rotation,
        )
        self.installs.append(
            Install(
                plan.team_id,
                grant.enterprise_id,
                plan.is_enterprise_install,
                grant.token,
                grant.refresh_token,
                code.scope,
                plan.user_id,
                now,
            )
        )
        body = self._token_body(grant, code.scope, plan.expires_in)
        return {**body, "authed_user": {"id": plan.user_id}}

    def _refresh(self, refresh_token: str, now: float) -> JSON:
        grant = self.teams.renew(refresh_token, now + ROTATION_SECONDS)
        if grant is None:
            return _err("invalid_refresh_token")
        scope = next((i.scope for i in self.installs if i.refresh_token == refresh_token), "")
        return self._token_body(grant, scope, ROTATION_SECONDS)

    def _token_body(self, grant: Grant, scope: str, expires_in: int) -> JSON:
        """Slack's answer for a bot token: the team (null for an org-wide install), the
        enterprise (null outside Grid), and with rotation the refresh token and expires_in."""
        team = self.teams.known(grant.team_id)
        enterprise = {"id": team.enterprise_id, "name": team.enterprise_name} if team.enterprise_id else None
        body: JSON = {
            "ok": True,
            "app_id": self.app_id,
            "scope": scope,
            "token_type": "bot",
            "access_token": grant.token,
            "bot_user_id": team.bot_user_id,
            "team": None if grant.is_enterprise_install else {"id": team.id, "name": team.name},
            "enterprise": enterprise,
            "is_enterprise_install": grant.is_enterprise_install,
        }
        if grant.refresh_token is not None:
            body |= {"refresh_token": grant.refresh_token, "expires_in": expires_in}
        return body


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    """`url` with `pairs` appended to whatever query it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + pairs
    return urlunsplit(parts._replace(query=urlencode(query)))


def _err(error: str) -> JSON:
    return {"ok": False, "error": error}
