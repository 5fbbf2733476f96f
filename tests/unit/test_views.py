"""Views are built from the documents the projections really write, with their values parsed."""

from __future__ import annotations

from decimal import Decimal

from read_model.views import CustomerView, EventView, OrderView, ProductView
from tests.unit.test_projections import project, shop


def test_every_document_the_projections_write_reads_back_as_its_view() -> None:
    store, ids = shop()
    indexes = project(store.outbox).indexes
    products = [ProductView.of(doc) for doc in indexes["products"].values()]
    assert sorted((p.sku, p.price, p.status) for p in products) == [
        ("MUG", Decimal("2.50"), "ACTIVE"),
        ("TEA", Decimal("0.99"), "ACTIVE"),
    ]
    ada = CustomerView.of(indexes["customers"][str(ids["ada"])])
    assert (ada.id, ada.order_count, ada.lifetime_value) == (ids["ada"], 2, Decimal("8.96"))
    first = OrderView.of(indexes["orders"][str(ids["first"])])
    assert (first.customer_id, first.customer_email, first.total) == (ids["ada"], "ada@example.com", Decimal("5.99"))
    assert [(line.sku, line.unit_price, line.line_total) for line in first.lines] == [
        ("MUG", Decimal("2.50"), Decimal("5.00")),
        ("TEA", Decimal("0.99"), Decimal("0.99")),
    ]
    assert first.placed_at.tzinfo is not None
    events = [EventView.of(doc) for doc in indexes["events"].values()]
    assert len(events) == len(store.outbox)
    assert {event.aggregate_id for event in events if event.type == "OrderPlaced"} >= {ids["first"]}
