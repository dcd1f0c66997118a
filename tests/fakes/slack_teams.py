"""Workspaces and their bot tokens, as the fake Slack keeps them.

Why: a distributed app serves many workspaces (teams), each through its own bot token, and
Slack keeps them apart: a token sees only its own team's channels and people (another team's
channel is `channel_not_found`, another team's person `user_not_found`), and an org-wide
install on Enterprise Grid sees every team of its enterprise. Tokens die as Slack lets them:
a rotating token when its `expires_in` runs out (`token_expired`, on the fake's clock), every
token of an install when the app is uninstalled or its tokens revoked (`token_revoked`).

Everything here is called with the fake's lock held.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

TEAM_ID = "T0001"
TEAM_NAME = "Test Team"
TEAM_DOMAIN = "testteam"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
ROTATION_SECONDS = 43_200
"""Slack's `expires_in` for a rotating bot token: 12 hours."""


def default_enterprise_name(enterprise_id: str | None) -> str | None:
    """The name an enterprise gets when a test does not give one (payload builders use it too)."""
    return f"Enterprise {enterprise_id}" if enterprise_id else None


@dataclass(frozen=True)
class Team:
    """A workspace: its names, its enterprise (Grid) if any, and the app's bot user in it."""

    id: str
    name: str
    domain: str
    bot_user_id: str
    bot_id: str
    enterprise_id: str | None = None
    enterprise_name: str | None = None

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"


@dataclass
class Grant:
    """What a token stands for: one team's install, or an enterprise's org-wide install."""

    token: str
    team_id: str
    enterprise_id: str | None = None
    is_enterprise_install: bool = False
    expires_at: float | None = None
    """Clock time a rotating token stops working; None for a token that never expires."""
    refresh_token: str | None = None
    revoked: bool = False

    def sees(self, team: Team) -> bool:
        """Whether this token reaches `team`'s channels and people."""
        if self.is_enterprise_install:
            return team.enterprise_id is not None and team.enterprise_id == self.enterprise_id
        return team.id == self.team_id

    def covers(self, team_id: str | None, enterprise_id: str | None) -> bool:
        """Whether this token belongs to the install named by an uninstall or a revocation."""
        if self.is_enterprise_install:
            return enterprise_id is not None and enterprise_id == self.enterprise_id
        return team_id == self.team_id


@dataclass
class Teams:
    """Every team the fake knows and every token it issued (the default team's come from the fake)."""

    teams: dict[str, Team] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    """Refresh token -> the grant it renews (the latest access token it produced)."""
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.teams.setdefault(TEAM_ID, Team(TEAM_ID, TEAM_NAME, TEAM_DOMAIN, BOT_USER_ID, BOT_ID))

    def add(
        self,
        team_id: str,
        name: str | None = None,
        *,
        domain: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
    ) -> Team:
        """Register a team (or return the known one unchanged when only its id is given)."""
        known = self.teams.get(team_id)
        if known is not None and name is None and enterprise_id is None:
            return known
        suffix = team_id.lstrip("T") or team_id
        team = Team(
            id=team_id,
            name=name or (known.name if known else f"Team {team_id}"),
            domain=domain or (known.domain if known else f"team-{team_id.lower()}"),
            bot_user_id=known.bot_user_id if known else f"UBOT{suffix}",
            bot_id=known.bot_id if known else f"BBOT{suffix}",
            enterprise_id=enterprise_id,
            enterprise_name=enterprise_name
            or (default_enterprise_name(enterprise_id) if enterprise_id else None),
        )
        if known is not None and enterprise_id is None:
            team = replace(team, enterprise_id=known.enterprise_id, enterprise_name=known.enterprise_name)
        self.teams[team_id] = team
        return team

    def known(self, team_id: str) -> Team:
        try:
            return self.teams[team_id]
        except KeyError:
            raise KeyError(f"unknown team {team_id!r}: call add_team first") from None

    def issue(
        self,
        team_id: str,
        *,
        is_enterprise_install: bool = False,
        expires_at: float | None = None,
        with_refresh: bool = False,
    ) -> Grant:
        """A new bot token for the team (org-wide: for its enterprise); rotating ones look like Slack's."""
        team = self.known(team_id)
        number = next(self._numbers)
        rotating = expires_at is not None
        token = f"xoxe.xoxb-1-{team_id}-{number}" if rotating else f"xoxb-{team_id}-{number}"
        grant = Grant(token, team_id, team.enterprise_id, is_enterprise_install, expires_at)
        if with_refresh:
            grant.refresh_token = f"xoxe-1-{team_id}-{number}"
            self.refresh_tokens[grant.refresh_token] = grant
        self.grants[token] = grant
        return grant

    def renew(self, refresh_token: str, expires_at: float) -> Grant | None:
        """A new access token for a live refresh token (which stays the same); None if it is none."""
        old = self.refresh_tokens.get(refresh_token)
        if old is None or old.revoked:
            return None
        number = next(self._numbers)
        token = f"xoxe.xoxb-1-{old.team_id}-{number}"
        grant = Grant(
            token, old.team_id, old.enterprise_id, old.is_enterprise_install, expires_at, refresh_token
        )
        self.grants[token] = grant
        self.refresh_tokens[refresh_token] = grant
        return grant

    def revoke(self, team_id: str | None, enterprise_id: str | None = None) -> list[str]:
        """Kill every token of an install (access and refresh); returns the access tokens killed."""
        killed = [g for g in self.grants.values() if not g.revoked and g.covers(team_id, enterprise_id)]
        for grant in killed:
            grant.revoked = True
        return [g.token for g in killed]

    def visible(self, grant: Grant, team_id: str) -> bool:
        """Whether the token reaches something that belongs to `team_id`."""
        team = self.teams.get(team_id)
        return team is not None and grant.sees(team)


__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "ROTATION_SECONDS",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "Grant",
    "Team",
    "Teams",
    "default_enterprise_name",
]
