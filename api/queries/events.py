"""`events` (the audit trail) and `projections` (the projector's status)."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.errors import not_implemented
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
    raise not_implemented("projections", 4)
