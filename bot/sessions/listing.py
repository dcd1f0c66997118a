"""What the service hands out: plain values, so rendering and comparing need no service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.sessions.model import Session
from bot.sessions.modules import ModuleRef


@dataclass(frozen=True)
class Listing:
    """The sessions of one module within a window, and how fresh the data behind them is."""

    module: ModuleRef
    sessions: tuple[Session, ...]
    next_after: Session | None
    fetched_at: datetime
    problem: str | None = None
    """Set when the data is old because Zoho could not be asked: what went wrong."""
    old: bool = False
    """Older than the freshness setting when listed, whether or not a failure is known yet: the
    first answer from expired data comes before the refresh behind it has had a chance to fail."""

    @property
    def stale(self) -> bool:
        """Whether an answer from this listing must say how old its data is (`fetched_at`), and,
        when `problem` is set, why no newer data could be had."""
        return self.old or self.problem is not None


@dataclass(frozen=True)
class ModuleRead:
    """The latest read of one module from Zoho, every session in it (past ones too)."""

    module: ModuleRef
    fetch_id: str
    fetched_at: datetime
    complete: bool
    sessions: tuple[Session, ...]
