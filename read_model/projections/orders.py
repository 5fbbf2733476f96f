"""The `orders` projection: one search document per order, with its lines and its customer denormalized.

The customer's name and email are the customer's as they are now, not as they were when the order was
placed: a profile change reaches every order of the customer (`CUSTOMER`, fanned out by the applier), and
the document's external version counts both the order's changes and the customer's (`version_of`).
"""

from __future__ import annotations

from uuid import UUID

from read_model.indexes import ORDERS
from read_model.money import cents
from read_model.outbox import OutboxRecord
from read_model.projections import AggregateProjection, Document, Embedding, UnhandledEvent
from write_model.events import (
    CustomerUpdated,
    OrderCancelled,
    OrderDelivered,
    OrderPaid,
    OrderPlaced,
    OrderShipped,
    decode_event,
)

# The customer's profile, which every order of the customer carries.
CUSTOMER = Embedding(
    field="customer", aggregate_type=CustomerUpdated.AGGREGATE, event_types=frozenset({"CustomerUpdated"})
)
# The customer's version fills the low bits of the external version, the order's the high ones.
CUSTOMER_VERSION_BITS = 32


class OrderProjection(AggregateProjection):
    name = "orders"
    index = ORDERS
    aggregate_type = OrderPlaced.AGGREGATE
    embedding = CUSTOMER

    def handles(self, record: OutboxRecord) -> bool:
        return super().handles(record) or CUSTOMER.fans_out(record)

    def apply(self, document: Document | None, record: OutboxRecord) -> Document | None:
        if not CUSTOMER.fans_out(record):
            return super().apply(document, record)
        event = decode_event(record.event_type, record.payload)
        assert isinstance(event, CustomerUpdated)
        if document is None or document["customer"]["id"] != str(event.customer_id):
            raise ValueError(f"{record.event_type} of {event.customer_id} is not for this order's customer")
        if CUSTOMER.carried_version(document) >= record.aggregate_version:
            return None
        return {**document, "customer": _customer(event.customer_id, event.name, event.email, record.aggregate_version)}

    def version_of(self, document: Document) -> int:
        """Grows with every change of the order and of its customer's profile, whichever comes first."""
        return (int(document["version"]) << CUSTOMER_VERSION_BITS) | CUSTOMER.carried_version(document)

    def _apply(self, document: Document | None, record: OutboxRecord) -> Document:
        event = decode_event(record.event_type, record.payload)
        at = record.occurred_at.isoformat()
        if isinstance(event, OrderPlaced):
            return {
                "id": str(event.order_id),
                "customer": _customer(
                    event.customer_id, event.customer_name, event.customer_email, event.customer_version
                ),
                "lines": [
                    {
                        "product_id": str(line.product_id),
                        "sku": line.sku,
                        "name": line.name,
                        "unit_price": str(line.unit_price),
                        "unit_price_cents": cents(line.unit_price),
                        "quantity": line.quantity,
                        "line_total": str(line.line_total),
                        "line_total_cents": cents(line.line_total),
                    }
                    for line in event.lines
                ],
                "product_ids": [str(line.product_id) for line in event.lines],
                "skus": [line.sku for line in event.lines],
                "product_names": [line.name for line in event.lines],
                "total": str(event.total),
                "total_cents": cents(event.total),
                "status": "PLACED",
                "refund": None,
                "placed_at": event.placed_at.isoformat(),
                "updated_at": at,
                "paid_at": None,
                "shipped_at": None,
                "delivered_at": None,
                "cancelled_at": None,
            }
        assert document is not None  # AggregateProjection.apply: only the first event has none
        match event:
            case OrderPaid():
                changes: Document = {"status": "PAID", "paid_at": at}
            case OrderShipped():
                changes = {"status": "SHIPPED", "shipped_at": at}
            case OrderDelivered():
                changes = {"status": "DELIVERED", "delivered_at": at}
            case OrderCancelled():
                refund = None if event.refund is None else str(event.refund)
                changes = {"status": "CANCELLED", "cancelled_at": at, "refund": refund}
            case _:
                raise UnhandledEvent(self.name, record.event_type)
        return {**document, **changes, "updated_at": at}


def _customer(customer_id: UUID, name: str, email: str, version: int) -> Document:
    return {"id": str(customer_id), "name": name, "email": email, "version": version}
