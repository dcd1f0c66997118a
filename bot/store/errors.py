"""The store's exception tree.

StoreError            the database could not be reached or refused a statement
├── AlreadySubscribed an edit would duplicate another subscription
└── LimitReached      a new subscription would pass its owner's limit
"""

from __future__ import annotations


class StoreError(Exception):
    """The database could not be reached or refused a statement."""


class AlreadySubscribed(StoreError):
    """An edit would make a subscription the same as another one (channel and module, or
    person, module and session)."""


class LimitReached(StoreError):
    """Saving would give a channel more digests, or a person more reminders, than the limit:
    nothing of the save was kept."""
