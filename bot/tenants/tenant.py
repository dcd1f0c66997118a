"""A tenant: whose data a row, a key or a request belongs to.

A workspace that installs the bot is one tenant, named by its team id; an org-wide
install on Enterprise Grid is one tenant for the whole enterprise, named by the
enterprise id, whichever of its workspaces a request comes from. The
single-workspace mode (a bot token in the environment) is one tenant too: its
workspace, named once Slack's `auth.test` has said which it is (`UNNAMED` until then).
"""

from __future__ import annotations

from dataclasses import dataclass

UNNAMED = ""
"""The id of the single workspace before `auth.test` named it: its rows are given to the team
named at a later start (`Store.adopt`)."""


@dataclass(frozen=True)
class Tenant:
    team_id: str
    enterprise_id: str = ""
    org_wide: bool = False
    """Installed for the whole enterprise (Enterprise Grid), not one of its workspaces."""

    @property
    def id(self) -> str:
        """What every row, key and cache entry of the tenant carries."""
        return self.enterprise_id if self.org_wide and self.enterprise_id else self.team_id

    @classmethod
    def workspace(cls, team_id: str) -> Tenant:
        return cls(team_id)

    @classmethod
    def unnamed(cls) -> Tenant:
        """The single workspace whose team id is not known yet."""
        return cls(UNNAMED)

    def __str__(self) -> str:
        return self.id or "(unnamed workspace)"
