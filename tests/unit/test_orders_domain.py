from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from write_model.domain.customers import Customer
from write_model.domain.errors import (
    InsufficientStock,
    InvalidTransition,
    NotFound,
    ProductUnavailable,
    ValidationFailed,
)
from write_model.domain.orders import LineRequest, Order, OrderStatus, check_reason, merge_lines
from write_model.domain.products import Product
from write_model.events import OrderCancelled, OrderPlaced, ProductStockReleased, ProductStockReserved

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def product(price: str = "2.50", stock: int = 10) -> Product:
    created = Product.create(
        id=uuid.uuid4(),
        sku=f"S-{uuid.uuid4().hex[:8]}",
        name="Mug",
        description="",
        brand="B",
        category="C",
        tags=(),
        price=price,
        initial_stock=stock,
        now=NOW,
    )
    created.pending_events.clear()
    return created


def customer() -> Customer:
    registered = Customer.register(id=uuid.uuid4(), name="Ada", email="ada@example.com", now=NOW)
    registered.pending_events.clear()
    return registered


def place(*lines: tuple[Product, int]) -> Order:
    products = {p.id: p for p, _ in lines}
    requests = merge_lines([LineRequest(p.id, quantity) for p, quantity in lines])
    return Order.place(id=uuid.uuid4(), customer=customer(), lines=requests, products=products, now=NOW)


def test_placing_snapshots_the_lines_and_reserves_their_stock() -> None:
    mug, cup = product("2.50", 10), product("0.10", 3)
    order = place((mug, 2), (cup, 3))
    assert order.total == Decimal("5.30")
    assert [(line.sku, line.unit_price, line.quantity, line.line_total) for line in order.lines] == [
        (mug.sku, Decimal("2.50"), 2, Decimal("5.00")),
        (cup.sku, Decimal("0.10"), 3, Decimal("0.30")),
    ]
    assert (mug.stock, cup.stock) == (8, 0)
    assert isinstance(mug.pending_events[0], ProductStockReserved)
    (placed,) = order.pending_events
    assert isinstance(placed, OrderPlaced)
    assert (placed.customer_name, placed.total) == ("Ada", Decimal("5.30"))


def test_the_same_product_twice_is_one_line() -> None:
    mug = product()
    order = place((mug, 2), (mug, 3))
    (line,) = order.lines
    assert line.quantity == 5
    assert mug.stock == 5


@pytest.mark.parametrize(
    ("lines", "fields"),
    [
        ([], {"lines"}),
        ([(0,)], {"lines[0].quantity"}),
        ([(1,), (1001,)], {"lines[1].quantity"}),
        ([(600,), (500,)], {"lines[0].quantity"}),
    ],
)
def test_bad_lines_are_field_errors(lines: list[tuple[int]], fields: set[str]) -> None:
    product_id = uuid.uuid4()
    with pytest.raises(ValidationFailed) as caught:
        merge_lines([LineRequest(product_id, quantity) for (quantity,) in lines])
    assert {f.field for f in caught.value.fields} == fields


def test_at_most_100_lines() -> None:
    merge_lines([LineRequest(uuid.uuid4(), 1) for _ in range(100)])
    with pytest.raises(ValidationFailed):
        merge_lines([LineRequest(uuid.uuid4(), 1) for _ in range(101)])


def test_an_order_fails_as_a_whole_and_changes_no_product() -> None:
    plenty, scarce = product(stock=10), product(stock=1)
    with pytest.raises(InsufficientStock) as caught:
        place((plenty, 5), (scarce, 2))
    assert (caught.value.product_id, caught.value.requested, caught.value.available) == (scarce.id, 2, 1)
    assert (plenty.stock, plenty.pending_events) == (10, [])

    gone = product()
    gone.discontinue(now=NOW)
    with pytest.raises(ProductUnavailable):
        place((plenty, 1), (gone, 1))
    assert plenty.stock == 10

    missing = uuid.uuid4()
    with pytest.raises(NotFound):
        Order.place(id=uuid.uuid4(), customer=customer(), lines=[LineRequest(missing, 1)], products={}, now=NOW)


def test_the_lifecycle_runs_forward_only() -> None:
    order = place((product(), 1))
    order.pay(now=NOW)
    order.ship(now=NOW)
    order.deliver(now=NOW)
    assert (order.status, order.version) == (OrderStatus.DELIVERED, 4)
    for action in ("pay", "ship", "deliver"):
        with pytest.raises(InvalidTransition) as caught:
            getattr(order, action)(now=NOW)
        assert (caught.value.status, caught.value.action) == ("DELIVERED", action)
    with pytest.raises(InvalidTransition):
        order.cancel(products={}, now=NOW)
    assert order.version == 4


def test_cancelling_releases_stock_and_a_paid_order_records_its_refund() -> None:
    mug = product(stock=4)
    unpaid = place((mug, 3))
    unpaid.cancel(products={mug.id: mug}, reason="changed my mind", now=NOW)
    assert mug.stock == 4
    assert isinstance(mug.pending_events[-1], ProductStockReleased)
    cancelled = unpaid.pending_events[-1]
    assert isinstance(cancelled, OrderCancelled)
    assert (cancelled.previous_status, cancelled.refund, cancelled.reason) == ("PLACED", None, "changed my mind")

    paid = place((mug, 1))
    paid.pay(now=NOW)
    paid.cancel(products={mug.id: mug}, now=NOW)
    refunded = paid.pending_events[-1]
    assert isinstance(refunded, OrderCancelled)
    assert refunded.refund == paid.total == Decimal("2.50")
    with pytest.raises(InvalidTransition):
        paid.cancel(products={mug.id: mug}, now=NOW)
    assert mug.stock == 4


def test_a_reason_is_trimmed_and_bounded() -> None:
    assert check_reason("  late  ") == "late"
    assert check_reason("   ") is None
    assert check_reason(None) is None
    with pytest.raises(ValidationFailed):
        check_reason("x" * 501)
