"""One tenant's view of the store: the only way to its subscriptions, sends, watches, Zoho
connection and calendar feeds.

Every query a view makes is filtered by its tenant and every row it writes carries it
(`Scoped`), so code holding a view cannot read or change another tenant's rows, and code
holding the root `Store` has no such query to make: it only has the few operations across
tenants (`across.py`), the lease and the schema.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.secrets import Secrets
from bot.store.connections import Connections
from bot.store.feeds import Feeds
from bot.store.sends import Sends
from bot.store.subscriptions import Subscriptions
from bot.store.watch import Watches
from bot.tenants.tenant import Tenant


class TenantStore(Subscriptions, Sends, Connections, Feeds):
    def __init__(self, engine: AsyncEngine, secrets: Secrets | None, tenant: Tenant) -> None:
        self._engine = engine
        self._secrets = secrets
        self._tenant = tenant.id
        self.tenant = tenant
        self.watches = Watches(engine, tenant.id)
        """Change notices' part of the tenant's store."""
