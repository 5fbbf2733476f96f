"""The `customers` projection: one document per customer, with order statistics kept from order events.

A customer's document is fed by two kinds of aggregates, the customer and its orders, so no one aggregate
version can guard it. It records instead what it applied of each of its orders (`orders`: the payment and
each refund by the version that recorded it, and whether it was cancelled) and which version of the
customer (`version`: its registration, then each profile change), and a replayed, duplicated or retried
event is recognised as such whatever order it arrives in. Its external version is `revision`,
which counts its changes. The statistics (count, lifetime value, average, first and last order) count the
orders that are not cancelled; the money is what was paid for them minus what was refunded.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from read_model.indexes import CUSTOMERS
from read_model.money import cents, from_cents
from read_model.outbox import OutboxRecord
from read_model.projections import Document, EarlierEventsFirst, UnhandledEvent
from write_model.events import (
    CustomerRegistered,
    CustomerUpdated,
    Event,
    OrderCancelled,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    decode_event,
)

# The order events that move a customer's statistics; shipping and delivering do not.
STATS_EVENTS = frozenset({"OrderPlaced", "OrderPaid", "OrderRefunded", "OrderCancelled"})


class CustomerProjection:
    name = "customers"
    index = CUSTOMERS
    rebase_on_conflict = True
    embedding = None

    def handles(self, record: OutboxRecord) -> bool:
        return record.aggregate_type == CustomerRegistered.AGGREGATE or record.event_type in STATS_EVENTS

    def document_id(self, record: OutboxRecord) -> str:
        if record.aggregate_type == CustomerRegistered.AGGREGATE:
            return str(record.aggregate_id)
        return str(record.payload["customer_id"])

    def apply(self, document: Document | None, record: OutboxRecord) -> Document | None:
        event = decode_event(record.event_type, record.payload)
        if isinstance(event, CustomerRegistered):
            if document is not None:
                return None
            document = {
                "id": str(event.customer_id),
                "name": event.name,
                "email": event.email,
                "version": record.aggregate_version,
                "created_at": event.registered_at.isoformat(),
                "orders": {},
                "revision": 0,
            }
        elif document is None:
            # The customer's registration is in a transaction whose id came later than this order's.
            raise EarlierEventsFirst(record, UUID(record.payload["customer_id"]), 1, 1)
        elif isinstance(event, CustomerUpdated):
            applied = int(document["version"])
            if applied >= record.aggregate_version:
                return None
            if applied < record.aggregate_version - 1:
                raise EarlierEventsFirst(record, record.aggregate_id, applied + 1, record.aggregate_version - 1)
            document = {**document, "name": event.name, "email": event.email, "version": record.aggregate_version}
        else:
            orders: dict[str, Any] = document["orders"]
            key = str(record.aggregate_id)
            entry = _order_entry(orders.get(key), event, record)
            if entry is None:
                return None
            document = {**document, "orders": {**orders, key: entry}}
        return {
            **document,
            **statistics(document["orders"]),
            "updated_at": record.occurred_at.isoformat(),
            "revision": document["revision"] + 1,
        }

    def version_of(self, document: Document) -> int:
        return int(document["revision"])


def _order_entry(seen: Document | None, event: Event, record: OutboxRecord) -> Document | None:
    """What the customer's document keeps of one order after `event`, or `None` when it holds it already.

    Each event is recognised by its version (one payment, each refund by its own, one cancellation), so
    they add up whatever order they arrive in, and the versions between them that do not move the
    statistics (shipping, delivery) are never needed."""
    version = str(record.aggregate_version)
    if isinstance(event, OrderPlaced):
        if seen is not None:
            return None
        return {"placed_at": event.placed_at.isoformat(), "paid": {}, "refunded": {}, "counted": True}
    if seen is None:  # a later event of an order this customer does not show yet: its placing first
        raise EarlierEventsFirst(record, record.aggregate_id, 1, 1)
    if isinstance(event, OrderPaid):
        return None if version in seen["paid"] else {**seen, "paid": {**seen["paid"], version: cents(event.amount)}}
    if isinstance(event, OrderRefunded):
        if version in seen["refunded"]:
            return None
        return {**seen, "refunded": {**seen["refunded"], version: cents(event.amount)}}
    if isinstance(event, OrderCancelled):
        return {**seen, "counted": False} if seen["counted"] else None
    raise UnhandledEvent("customers", record.event_type)


def statistics(orders: dict[str, Any]) -> Document:
    """What the customer's orders add up to, leaving the cancelled ones out: paid minus refunded. The average
    is rounded to the cent, half up; the times compare as text, being ISO 8601 in UTC alike."""
    counted = [order for order in orders.values() if order["counted"]]
    total = sum(sum(order["paid"].values()) - sum(order["refunded"].values()) for order in counted)
    average = (2 * total + len(counted)) // (2 * len(counted)) if counted else 0
    placed = sorted(order["placed_at"] for order in counted)
    return {
        "order_count": len(counted),
        "lifetime_value": str(from_cents(total)),
        "lifetime_value_cents": total,
        "average_order_value": str(from_cents(average)),
        "average_order_value_cents": average,
        "first_order_at": placed[0] if placed else None,
        "last_order_at": placed[-1] if placed else None,
    }
