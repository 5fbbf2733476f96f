"""The products projection over a product's whole history, as the write model records it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from read_model.outbox import OutboxRecord
from read_model.projections import Document, EarlierEventsFirst, MissingDocument
from read_model.projections.products import ProductProjection
from tests.fakes import FakeStore, fake_command_bus
from write_model import commands
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="t", request_id="c")


def history() -> list[OutboxRecord]:
    """A product created, renamed, repriced, restocked, ordered, cancelled and discontinued."""
    store = FakeStore()
    bus = fake_command_bus(store)
    product = bus.handle(
        commands.CreateProduct(sku="MUG", name="Mug", brand="Acme", category="Kitchen", price="5.00", initial_stock=2),
        CONTEXT,
    ).aggregate_id
    customer = bus.handle(commands.RegisterCustomer(name="Ada", email="ada@example.com"), CONTEXT).aggregate_id
    bus.handle(commands.UpdateProductDetails(product_id=product, name="Big Mug", tags=("tea",)), CONTEXT)
    bus.handle(commands.ChangeProductPrice(product_id=product, price="6.50"), CONTEXT)
    bus.handle(commands.RestockProduct(product_id=product, quantity=3), CONTEXT)
    line = commands.OrderLineRequest(product_id=product, quantity=5)
    order = bus.handle(commands.PlaceOrder(customer_id=customer, lines=(line,)), CONTEXT).aggregate_id
    bus.handle(commands.CancelOrder(order_id=order), CONTEXT)
    bus.handle(commands.PlaceOrder(customer_id=customer, lines=(line,)), CONTEXT)
    bus.handle(commands.DiscontinueProduct(product_id=product), CONTEXT)
    return store.outbox


def fold(records: list[OutboxRecord]) -> Document | None:
    projection = ProductProjection()
    document = None
    for record in records:
        if projection.handles(record):
            document = projection.apply(document, record) or document
    return document


def test_every_product_event_lands_in_the_document() -> None:
    document = fold(history())
    assert document is not None
    assert {key: document[key] for key in ("sku", "name", "tags", "price", "price_cents", "status")} == {
        "sku": "MUG",
        "name": "Big Mug",
        "tags": ["tea"],
        "price": "6.50",
        "price_cents": 650,
        "status": "DISCONTINUED",
    }
    # 2 + 3 restocked - 5 ordered + 5 released - 5 ordered again
    assert (document["stock"], document["in_stock"], document["version"]) == (0, False, 8)
    assert document["suggest"] == {"input": ["Big Mug", "MUG"]}
    assert document["created_at"] == datetime(2026, 1, 1, tzinfo=UTC).isoformat()


def test_only_product_events_are_handled_and_a_change_needs_its_creation() -> None:
    records = history()
    projection = ProductProjection()
    assert {r.event_type for r in records if not projection.handles(r)} == {
        "CustomerRegistered",
        "OrderPlaced",
        "OrderCancelled",
    }
    restocked = next(r for r in records if r.event_type == "ProductRestocked")
    with pytest.raises(MissingDocument) as missing:
        projection.apply(None, restocked)
    assert isinstance(missing.value, EarlierEventsFirst)
    assert (missing.value.aggregate_id, missing.value.first, missing.value.last) == (
        restocked.aggregate_id,
        1,
        restocked.aggregate_version - 1,
    )
