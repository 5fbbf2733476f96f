"""Audit-trail and projection-status types."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.types.node import PageInfo


@strawberry.type
class EventRecord:
    position: str
    aggregate_type: str
    aggregate_id: strawberry.ID
    version: int
    type: str
    occurred_at: datetime
    payload: JSON


@strawberry.type
class EventEdge:
    cursor: str
    node: EventRecord


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class ProjectionStatus:
    name: str
    position: str
    lag_events: int
    lag_seconds: float
    dead_letters: int


@strawberry.type(
    description="An outbox consumer other than the projector (the payment-expiry saga, the Kafka relay), as it last"
    " reported."
)
class OutboxConsumerStatus:
    name: str
    kind: str = strawberry.field(
        description="What it does with the events: `saga` (sends commands) or `relay` (publishes them to Kafka)."
    )
    position: str = strawberry.field(description="The last outbox position it has handled (transactionId:position).")
    lag_events: int = strawberry.field(description="Committed events after its position, when it last reported.")
    lag_seconds: float = strawberry.field(
        description="Age of the oldest of those events; it keeps ageing after the report while events wait."
    )
    dead_letters: int = strawberry.field(
        description="Work parked for an operator: a saga's deadlines whose command kept failing, records the broker"
        " refused."
    )
    pending: int = strawberry.field(description="Work it holds: a saga's open payment deadlines (0 for the relay).")
    overdue: int = strawberry.field(description="Of the pending work, what is already due.")
    updated_at: datetime = strawberry.field(description="When it reported this.")
