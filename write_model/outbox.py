"""The outbox as the write model publishes it: where a committed change stands, the metadata recorded with
its events, and the channel its writers NOTIFY on commit (the read model's tailers LISTEN on it)."""

from __future__ import annotations

from dataclasses import dataclass

OUTBOX_CHANNEL = "twofold_outbox"


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
