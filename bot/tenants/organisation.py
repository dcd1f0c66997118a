"""Whose Zoho allowance a tenant's calls count against.

Zoho's minute budget, its 5-minute lock and the daily allowance belong to the
organisation (its `Company` id), not to a connection: two workspaces connected to one
organisation share them. Until the bot has learnt the `Company` (it comes with the
organisation's settings), a tenant's calls are counted as its own.
"""

from __future__ import annotations


class OrganisationScope:
    def __init__(self, tenant_id: str, shared_by_tenants: bool) -> None:
        """`shared_by_tenants`: many tenants share the backend (distribution mode); otherwise the
        one workspace's keys keep the names they always had, so an upgrade keeps its counts."""
        self._tenant = tenant_id
        self._shared = shared_by_tenants
        self.company = ""

    def tenant_prefix(self) -> str:
        """The prefix of what is the tenant's own (its token, its session data)."""
        return f"tenant:{self._tenant}:" if self._shared else ""

    def prefix(self) -> str:
        """The prefix of what the organisation's calls share (calls, lock)."""
        if not self._shared:
            return ""
        return f"org:{self.company}:" if self.company else self.tenant_prefix()

    def learn(self, company: str) -> None:
        self.company = company
