"""How far a projection has applied the outbox, in commit order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Checkpoint:
    """A point in the outbox's commit order: (transaction id, position), compared as a pair.

    Everything at or before a projection's checkpoint has been applied and made searchable.
    """

    transaction_id: int
    position: int


ORIGIN = Checkpoint(0, 0)


@dataclass(frozen=True, kw_only=True)
class ProjectionState:
    """What a projector publishes about one projection after each batch (and while idle, every few seconds).

    `lag_events` counts the committed events after `checkpoint` (up to `LAG_COUNT_LIMIT`), `lag_seconds` is
    the age of the oldest of them (0 when caught up), and `dead_letters` counts the open ones.
    """

    name: str
    checkpoint: Checkpoint
    lag_events: int
    lag_seconds: float
    dead_letters: int


# Counting a backlog is a range scan: beyond this many events the exact figure is not worth its cost.
LAG_COUNT_LIMIT = 1_000_000
