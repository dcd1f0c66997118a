"""Which Zoho organisation the bot reads, and as whom: one `ZohoConnection` per connection.

The token source and the client read the connection at each use, so connecting,
reconnecting (another data centre) or disconnecting takes effect at once without
rebuilding them. The operator's ZOHO_REFRESH_TOKEN, when set, is a connection
fixed at start-up; otherwise the connection is whatever was made from Slack.
"""

from __future__ import annotations

from bot.zoho.auth import ZohoCredentials
from bot.zoho.consent import DataCentre, Grant
from bot.zoho.errors import ZohoError


class ZohoNotConnectedError(ZohoError):
    """No organisation is connected: someone who may set the bot up must connect it from App Home."""

    def __init__(self) -> None:
        super().__init__("Zoho People is not connected yet.")


class ZohoConnection:
    def __init__(self, client_id: str, client_secret: str, home: DataCentre, grant: Grant | None) -> None:
        """`home`: the configured data centre (ZOHO_DC or the URLs), used until a grant names one."""
        self._client_id = client_id
        self._client_secret = client_secret
        self._home = home
        self._grant = grant

    @property
    def grant(self) -> Grant | None:
        return self._grant

    @property
    def connected(self) -> bool:
        return self._grant is not None

    @property
    def data_centre(self) -> DataCentre:
        return self._grant.data_centre if self._grant is not None else self._home

    @property
    def home(self) -> DataCentre:
        return self._home

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def client_secret(self) -> str:
        return self._client_secret

    def credentials(self) -> ZohoCredentials:
        if self._grant is None:
            raise ZohoNotConnectedError
        return ZohoCredentials(self._client_id, self._client_secret, self._grant.refresh_token)

    def use(self, grant: Grant | None) -> None:
        """Read as this grant from now on (None: disconnected)."""
        self._grant = grant
