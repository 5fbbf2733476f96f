"""Where a committed change stands in the outbox, and the metadata recorded with its events."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class OutboxPosition:
    """The commit-order position of an event: its transaction id, then its sequence position.

    The projector applies events in this order, so "the read model has applied everything up to here" is
    a comparison of two positions.
    """

    transaction_id: int
    position: int


@dataclass(frozen=True, kw_only=True)
class CommandContext:
    """Who asked for a command and why, recorded as the metadata of every event it causes."""

    actor: str
    request_id: str
    causation_id: str | None = None
    idempotency_key: str | None = None
