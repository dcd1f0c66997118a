"""What every part of a tenant's view of the store shares: the engine, and the one tenant every
query it makes is filtered by and every row it writes is stamped with."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table
from sqlalchemy.ext.asyncio import AsyncEngine


class Scoped:
    _engine: AsyncEngine
    _tenant: str
    """`Tenant.id` of the view's tenant."""

    def _mine(self, table: Table) -> ColumnElement[bool]:
        """The condition every query of this view puts on `table`: the tenant's rows only."""
        return table.c.tenant == self._tenant

    def _scope(self, name: str) -> str:
        """A lock's or key's name within the tenant (two tenants' channels never share a lock)."""
        return f"{self._tenant}:{name}"
