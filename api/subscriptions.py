"""The subscriptions (docs/subscriptions.md): each change once the read model shows it.

A resolver checks its arguments and the caller's right to them before it returns its stream, so a refusal
is the protocol's `error` message for that subscription and nothing else happens. The streams are fed by
the process's one watcher (read_model/live.py): none of them polls anything itself.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from uuid import UUID

import strawberry

from api import permissions
from api.consistency import InvalidConsistencyToken, decode_token
from api.context import Context
from api.errors import bad_input
from api.live import LiveServices
from api.queries._read import parse_id, read_model_call
from api.queries.events import event_filters, event_record, event_scope
from api.types.events import EventRecord
from api.types.orders import Order
from api.types.products import Product
from read_model.checkpoint import Checkpoint
from read_model.live import follow_changes, follow_events
from read_model.views import EventView, OrderView, ProductView

MAX_PRODUCTS = 100
# An EventRecord.position: the transaction id and position of the event, as `events` shows them.
_POSITION = re.compile(r"([0-9]{1,20}):([0-9]{1,20})")


def _live(info: strawberry.Info[Context, None]) -> LiveServices:
    live = info.context.live
    if live is None:
        raise RuntimeError("subscriptions run only over the WebSocket endpoint")
    return live


async def order_updated(info: strawberry.Info[Context, None], id: strawberry.ID) -> AsyncIterator[Order]:
    """Each change of the order (and of its customer's name or email, which it carries) once the read model
    shows it: the order as `order(id)` then returns it. A customer may follow only their own orders."""
    order_id = parse_id(id, "Order")
    actor = permissions.signed_in(info)
    live = _live(info)
    await read_model_call(info.context, live.feed.start())
    current = await read_model_call(info.context, info.context.read.orders.get(str(order_id)))
    if current is None and not actor.is_admin:
        # An order the read model does not show yet is nobody's as far as this caller can prove.
        raise permissions.forbidden(
            "A customer may follow only their own orders, once the read model shows them (query the order with"
            " consistentWith first)."
        )
    if current is not None:
        permissions.admin_or_customer(info, current.customer_id)
    return _order_changes(live, order_id, current)


async def _order_changes(live: LiveServices, order_id: UUID, last: OrderView | None) -> AsyncIterator[Order]:
    def watched() -> set[UUID]:
        return {order_id} if last is None else {order_id, last.customer_id}

    async for _ in follow_changes(live.feed, "orders", watched):
        document = await live.orders.load(str(order_id))
        if document is not None and document != last:
            last = document
            yield Order.of(document)


async def product_updated(info: strawberry.Info[Context, None], ids: list[strawberry.ID]) -> AsyncIterator[Product]:
    """Each change of these products once the read model shows it, for anyone who may read the catalog."""
    if not 1 <= len(ids) <= MAX_PRODUCTS:
        raise bad_input(f"ids takes 1 to {MAX_PRODUCTS} product ids")
    chosen = list(dict.fromkeys(str(parse_id(each, "Product")) for each in ids))
    live = _live(info)
    await read_model_call(info.context, live.feed.start())
    current = await read_model_call(info.context, live.products.load_many(chosen))
    return _product_changes(live, dict(zip(chosen, current, strict=True)))


async def _product_changes(live: LiveServices, last: dict[str, ProductView | None]) -> AsyncIterator[Product]:
    watched = frozenset(UUID(product_id) for product_id in last)
    async for changed in follow_changes(live.feed, "products", lambda: watched):
        for product_id, document in zip(changed, await live.products.load_many(list(changed)), strict=True):
            if document is not None and document != last[product_id]:
                last[product_id] = document
                yield Product.of(document)


async def events(
    info: strawberry.Info[Context, None],
    after: str | None = None,
    aggregate_id: strawberry.ID | None = None,
    types: list[str] | None = None,
) -> AsyncIterator[EventRecord]:
    """Every event after `after` in commit order, each once the audit trail shows it; the permissions of the
    `events` query. `after`: an `EventRecord.position`, a cursor of `events` with the same filters, or a
    `consistencyToken`; none: from now on."""
    aggregate, chosen = await event_filters(info, aggregate_id, types, None)
    live = _live(info)
    await read_model_call(info.context, live.feed.start())
    start = live.feed.position() if after is None else _resume_point(info, after, event_scope(aggregate, chosen))
    stream = follow_events(live.feed, info.context.read.events, start, aggregate_id=aggregate, types=chosen)
    return _records(stream)


async def _records(stream: AsyncIterator[EventView]) -> AsyncIterator[EventRecord]:
    async for event in stream:
        yield event_record(event)


def _resume_point(info: strawberry.Info[Context, None], after: str, scope: str) -> Checkpoint:
    """The checkpoint `after` names: a position (`<transaction id>:<position>`), a consistency token, or a
    cursor of the audit trail for the same filters; BAD_USER_INPUT when it is none of them."""
    if matched := _POSITION.fullmatch(after):
        return Checkpoint(int(matched[1]), int(matched[2]))
    try:
        return decode_token(after)
    except InvalidConsistencyToken:
        pass
    sort, _ = info.context.cursors.decode(scope, after)  # BAD_CURSOR unless this server issued it for `scope`
    try:
        transaction_id, position = (int(value) for value in sort)
    except (TypeError, ValueError):
        raise bad_input("after is not an event position, an event cursor or a consistency token") from None
    return Checkpoint(transaction_id, position)
