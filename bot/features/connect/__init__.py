"""Connecting Zoho People from Slack: the setup card, the browser flow, the organisation's
settings, disconnecting."""
