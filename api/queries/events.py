"""`events` (the audit trail) and `projections` (the projector's status)."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.errors import not_implemented
from api.queries._read import read_model_call
from api.types.events import EventConnection, ProjectionStatus


async def events(
    info: strawberry.Info[Context, None],
    aggregate_id: strawberry.ID | None = None,
    types: list[str] | None = None,
    first: int | None = None,
    after: str | None = None,
    consistent_with: str | None = None,
) -> EventConnection:
    raise not_implemented("events", 5)


async def projections(info: strawberry.Info[Context, None]) -> list[ProjectionStatus]:
    states = await read_model_call(info.context.read.projections.all())
    return [
        ProjectionStatus(
            name=state.name,
            position=f"{state.checkpoint.transaction_id}:{state.checkpoint.position}",
            lag_events=state.lag_events,
            lag_seconds=state.lag_seconds,
            dead_letters=state.dead_letters,
        )
        for state in states
    ]
