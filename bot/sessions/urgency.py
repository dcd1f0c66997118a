"""How much a caller needs its answer: a person waiting, or work in the background."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Urgency(enum.Enum):
    PERSON_WAITING = "person waiting"
    """Someone is looking at Slack: may use the whole call budget, the reserve included."""
    BACKGROUND = "background"
    """Refreshes and discovery: leave the reserve to people."""


@dataclass(frozen=True)
class Need:
    """What one read may spend: its urgency, and when (clock seconds) it must be done by."""

    urgency: Urgency = Urgency.PERSON_WAITING
    deadline: float | None = None
