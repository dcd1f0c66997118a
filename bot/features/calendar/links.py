"""The signed address of one session's calendar file (pure).

A listing's "Add to Outlook / Apple calendar" button points at
`{BOT_PUBLIC_URL}/calendar/session/<body>.<mac>.ics`: the body names the module and
the session (and, with many workspaces, the tenant whose data it is), the MAC
(HMAC-SHA256 with a key derived from BOT_SECRET_KEY, cut to 16 bytes) proves the bot
wrote it. Without the key no one can make an address for another session, or another
tenant's, so the organisation's sessions cannot be enumerated through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sessions.modules import ModuleId
from bot.signing import b64, mac, mac_keys, unb64, verifies

SESSION_PATH = "/calendar/session/"
MAC_BYTES = 16
MAX_LINK_CHARS = 1000
_PURPOSE = b"sessions-bot calendar session file v1"
_TENANT = "t:"


@dataclass(frozen=True)
class SessionLink:
    module: ModuleId
    session_id: str
    tenant: str = ""
    """The tenant whose session it is; "" in the single-workspace mode."""


class SessionFileLinks:
    def __init__(self, public_url: str, secret_key: str, tenant: str = "") -> None:
        """`tenant`: named in the links made (many workspaces), so a link is served from its data."""
        self._base = public_url.rstrip("/")
        self._keys = mac_keys(secret_key, _PURPOSE)
        self._tenant = tenant

    def url(self, module: ModuleId, session_id: str) -> str:
        named = f"{_TENANT}{self._tenant}|" if self._tenant else ""
        body = b64(f"{named}{module.key}|{session_id}".encode())
        return f"{self._base}{SESSION_PATH}{body}.{b64(mac(self._keys[0], body)[:MAC_BYTES])}.ics"

    def read(self, name: str) -> SessionLink | None:
        """The session a link's last part (`<body>.<mac>.ics`) names; None unless the bot signed it."""
        if len(name) > MAX_LINK_CHARS or not name.endswith(".ics") or name.count(".") != 2:
            return None
        body, signature, _ = name.split(".")
        try:
            given = unb64(signature)
            if not verifies(self._keys, body, given, MAC_BYTES) or len(given) != MAC_BYTES:
                return None
            text, tenant = unb64(body).decode(), ""
            if text.startswith(_TENANT):
                tenant, text = text.removeprefix(_TENANT).split("|", 1)
            module_key, session_id = text.split("|", 1)
        except (ValueError, UnicodeDecodeError):
            return None
        module = ModuleId.parse(module_key)
        return SessionLink(module, session_id, tenant) if module is not None and session_id else None
