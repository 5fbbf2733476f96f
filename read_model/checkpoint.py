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
