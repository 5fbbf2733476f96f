"""The `orders` projection: one search document per order, with its lines and its customer denormalized."""

from __future__ import annotations

from read_model.indexes import ORDERS
from read_model.money import cents
from read_model.outbox import OutboxRecord
from read_model.projections import AggregateProjection, Document, UnhandledEvent
from write_model.events import (
    OrderCancelled,
    OrderDelivered,
    OrderPaid,
    OrderPlaced,
    OrderShipped,
    decode_event,
)


class OrderProjection(AggregateProjection):
    name = "orders"
    index = ORDERS
    aggregate_type = OrderPlaced.AGGREGATE

    def _apply(self, document: Document | None, record: OutboxRecord) -> Document:
        event = decode_event(record.event_type, record.payload)
        at = record.occurred_at.isoformat()
        if isinstance(event, OrderPlaced):
            return {
                "id": str(event.order_id),
                "customer": {"id": str(event.customer_id), "name": event.customer_name, "email": event.customer_email},
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
