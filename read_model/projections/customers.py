"""The `customers` projection: one document per customer, with order statistics kept from order events.

A customer's document is fed by two kinds of aggregates (the customer and its orders), so the aggregate
version cannot guard it. It records instead the last outbox position it applied (`applied_through`):
events arrive in commit order, so one at or before that position is a replay or a duplicate. Its external
version is `revision`, which counts the changes.
"""

from __future__ import annotations

from decimal import Decimal

from read_model.checkpoint import Checkpoint
from read_model.indexes import CUSTOMERS
from read_model.outbox import OutboxRecord
from read_model.projections import Document, MissingDocument
from read_model.projections.orders import cents
from write_model.events import CustomerRegistered, OrderCancelled, OrderPlaced, decode_event

# The order events that move a customer's statistics; the others (paid, shipped, delivered) do not.
_STATS_EVENTS = {"OrderPlaced", "OrderCancelled"}


class CustomerProjection:
    name = "customers"
    index = CUSTOMERS

    def handles(self, record: OutboxRecord) -> bool:
        return record.event_type == "CustomerRegistered" or record.event_type in _STATS_EVENTS

    def document_id(self, record: OutboxRecord) -> str:
        if record.aggregate_type == CustomerRegistered.AGGREGATE:
            return str(record.aggregate_id)
        return str(record.payload["customer_id"])

    def apply(self, document: Document | None, record: OutboxRecord) -> Document | None:
        if document is not None and record.checkpoint <= _applied_through(document):
            return None
        event = decode(record)
        if isinstance(event, CustomerRegistered):
            if document is not None:
                return None  # registered once; a document holding it has seen this event
            document = {
                "id": str(event.customer_id),
                "name": event.name,
                "email": event.email,
                "version": record.aggregate_version,
                "order_count": 0,
                "lifetime_value": "0.00",
                "lifetime_value_cents": 0,
                "created_at": event.registered_at.isoformat(),
                "revision": 0,
            }
        elif document is None:
            raise MissingDocument(record)
        elif isinstance(event, OrderPlaced):
            document = _with_stats(document, orders=1, amount=event.total)
        else:
            document = _with_stats(document, orders=-1, amount=-event.total)
        return {
            **document,
            "updated_at": record.occurred_at.isoformat(),
            "applied_through": {"transaction_id": record.transaction_id, "position": record.position},
            "revision": document["revision"] + 1,
        }

    def version_of(self, document: Document) -> int:
        return int(document["revision"])


def decode(record: OutboxRecord) -> CustomerRegistered | OrderPlaced | OrderCancelled:
    event = decode_event(record.event_type, record.payload)
    assert isinstance(event, CustomerRegistered | OrderPlaced | OrderCancelled)
    return event


def _with_stats(document: Document, *, orders: int, amount: Decimal) -> Document:
    """Orders count, and their totals add up, until they are cancelled: cancelled orders count for nothing."""
    value = Decimal(document["lifetime_value"]) + amount
    return {
        **document,
        "order_count": document["order_count"] + orders,
        "lifetime_value": str(value),
        "lifetime_value_cents": cents(value),
    }


def _applied_through(document: Document) -> Checkpoint:
    applied = document.get("applied_through") or {"transaction_id": 0, "position": 0}
    return Checkpoint(applied["transaction_id"], applied["position"])
