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
