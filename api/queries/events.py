"""`events` (the audit trail), `projections` (the projector's status) and `outboxConsumers` (the saga's)."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from api import permissions
from api.context import Context
from api.errors import bad_input
from api.ids import InvalidId, from_global_id, to_global_id
from api.pagination import page_size
from api.queries._read import can_page_on, check_readable, edge_cursors, read_model_call, wait_for_token
from api.types.events import EventConnection, EventEdge, EventRecord, OutboxConsumerStatus, ProjectionStatus
from api.types.node import PageInfo
from read_model.views import EventView

MAX_TYPES = 20
MAX_TYPE_LENGTH = 100


async def events(
    info: strawberry.Info[Context, None],
    aggregate_id: strawberry.ID | None = None,
    types: list[str] | None = None,
    first: int | None = None,
    after: str | None = None,
    consistent_with: str | None = None,
) -> EventConnection:
    aggregate, chosen = await event_filters(info, aggregate_id, types, consistent_with)
    settings = info.context.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    read = info.context.read
    cursors, scope = info.context.cursors, event_scope(aggregate, chosen)
    await wait_for_token(read, "events", consistent_with)
    page = await read_model_call(
        info.context,
        read.events.search(
            aggregate_id=aggregate,
            types=chosen,
            size=size,
            search_after=None if after is None else cursors.decode(scope, after)[0],
        ),
    )
    cursor = edge_cursors(cursors, scope, pageable=can_page_on(info))
    edges = [EventEdge(cursor=cursor(sort), node=event_record(doc)) for doc, sort in page.hits]
    return EventConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_more,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total,
    )


async def event_filters(
    info: strawberry.Info[Context, None],
    aggregate_id: strawberry.ID | None,
    types: list[str] | None,
    consistent_with: str | None,
) -> tuple[str | None, tuple[str, ...]]:
    """The aggregate (its raw id) and the event types the caller asks for and may read: an admin any, a
    customer those of their own customer record or one of their orders, named by `aggregateId`."""
    actor = permissions.signed_in(info)
    aggregate = None
    if aggregate_id is not None:
        try:
            aggregate_type, raw_id = from_global_id(aggregate_id)
        except InvalidId as exc:
            raise bad_input(str(exc)) from None
        aggregate = str(raw_id)
        if not actor.is_admin:
            await _check_own_aggregate(info, aggregate_type, aggregate, consistent_with)
    elif not actor.is_admin:
        raise permissions.forbidden(
            "A customer reads the events of their own customer record or orders: pass aggregateId."
        )
    chosen = tuple(dict.fromkeys(types or []))
    if len(chosen) > MAX_TYPES or any(not 1 <= len(name) <= MAX_TYPE_LENGTH for name in chosen):
        raise bad_input(f"types takes at most {MAX_TYPES} event type names of 1 to {MAX_TYPE_LENGTH} characters")
    for name in chosen:
        check_readable("types", name)
    return aggregate, chosen


def event_scope(aggregate: str | None, types: tuple[str, ...]) -> str:
    """What the audit trail's cursors are signed for: the search and its filters."""
    return f"events:{aggregate}:{types!r}"


async def _check_own_aggregate(
    info: strawberry.Info[Context, None], aggregate_type: str, aggregate_id: str, consistent_with: str | None
) -> None:
    """Lets a customer through to the events of their own customer record and their own orders only."""
    if aggregate_type == "Customer":
        permissions.admin_or_customer(info, aggregate_id)
        return
    if aggregate_type == "Order":
        # The owner is on the order's document: with a token, wait until that projection has the order too.
        await wait_for_token(info.context.read, "orders", consistent_with)
        document = await read_model_call(info.context, info.context.read.orders.get(aggregate_id))
        # An order the read model does not show yet is nobody's as far as this caller can prove.
        if document is not None:
            permissions.admin_or_customer(info, document.customer_id)
            return
    raise permissions.forbidden("A customer reads the events of their own customer record or orders only.")


def event_record(view: EventView) -> EventRecord:
    return EventRecord(
        position=f"{view.transaction_id}:{view.position}",
        aggregate_type=view.aggregate_type,
        aggregate_id=strawberry.ID(to_global_id(view.aggregate_type, view.aggregate_id)),
        version=view.version,
        type=view.type,
        occurred_at=view.occurred_at,
        payload=JSON(view.payload),
    )


async def projections(info: strawberry.Info[Context, None]) -> list[ProjectionStatus]:
    permissions.admin(info)
    states = await read_model_call(info.context, info.context.read.projections.all())
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


async def outbox_consumers(info: strawberry.Info[Context, None]) -> list[OutboxConsumerStatus]:
    permissions.admin(info)
    states = await read_model_call(info.context, info.context.read.projections.consumers())
    return [
        OutboxConsumerStatus(
            name=state.name,
            kind=state.kind,
            position=f"{state.checkpoint.transaction_id}:{state.checkpoint.position}",
            lag_events=state.lag_events,
            lag_seconds=state.lag_seconds,
            dead_letters=state.dead_letters,
            pending=state.pending,
            overdue=state.overdue,
            updated_at=state.updated_at,
        )
        for state in states
    ]
