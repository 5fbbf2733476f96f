"""What a command hands back: the aggregate it changed, its new version, and where its events stand."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from write_model.outbox import OutboxPosition


@dataclass(frozen=True)
class Outcome:
    """A handler's result before commit. `status` is the aggregate's status where it has one (orders)."""

    aggregate_id: UUID
    version: int
    status: str | None = None


@dataclass(frozen=True)
class Changed:
    """A committed command. `position` is its last event's place in the outbox (for a command that changed
    nothing, the place of the event that produced the current version), so it makes a consistency token.
    `replayed` is set when this is the result an idempotency key recorded, handed back to a retry."""

    aggregate_id: UUID
    version: int
    position: OutboxPosition
    status: str | None = None
    replayed: bool = False
