"""The `customers` projection: one document per customer, with order statistics kept from order events.

A customer's document is fed by two kinds of aggregates, the customer and its orders, so no one aggregate
version can guard it. It records instead which version of each of its orders it has applied (`orders`),
and of the customer (`version`: its registration, then each profile change), and a replayed, duplicated or
retried event is recognised as such whatever order it arrives in. Its external version is `revision`,
which counts its changes. The statistics (count, lifetime value, average, first and last order) count the
orders that are not cancelled.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from read_model.indexes import CUSTOMERS
from read_model.money import cents, from_cents
from read_model.outbox import OutboxRecord
from read_model.projections import Document, EarlierEventsFirst
from write_model.events import CustomerRegistered, CustomerUpdated, OrderCancelled, OrderPlaced, decode_event

# The order events that move a customer's statistics; paying, shipping and delivering do not.
STATS_EVENTS = frozenset({"OrderPlaced", "OrderCancelled"})


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
            seen = orders.get(key)
            if seen is not None and seen["version"] >= record.aggregate_version:
                return None
            if isinstance(event, OrderPlaced):
                entry = {
                    "version": record.aggregate_version,
                    "total_cents": cents(event.total),
                    "placed_at": event.placed_at.isoformat(),
                    "counted": True,
                }
            elif isinstance(event, OrderCancelled) and seen is not None:
                entry = {**seen, "version": record.aggregate_version, "counted": False}
            else:  # a cancellation of an order this customer does not show yet: the order's placing comes first
                raise EarlierEventsFirst(record, record.aggregate_id, 1, 1)
            document = {**document, "orders": {**orders, key: entry}}
        return {
            **document,
            **statistics(document["orders"]),
            "updated_at": record.occurred_at.isoformat(),
            "revision": document["revision"] + 1,
        }

    def version_of(self, document: Document) -> int:
        return int(document["revision"])


def statistics(orders: dict[str, Any]) -> Document:
    """What the customer's orders add up to, leaving the cancelled ones out. The average is rounded to the
    cent, half up; the times compare as text, being ISO 8601 in UTC alike."""
    counted = [order for order in orders.values() if order["counted"]]
    total = sum(order["total_cents"] for order in counted)
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
