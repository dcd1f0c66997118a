"""Who a tenant is: one Slack workspace, or one enterprise for an org-wide install."""

from bot.tenants.tenant import Tenant

__all__ = ["Tenant"]
