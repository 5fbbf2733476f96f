"""One contract for both units of work: every command behaves the same over PostgreSQL and over the fakes."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from api import bootstrap
from tests.fakes import FakeStore, fake_command_bus
from write_model import commands
from write_model.bus import CommandBus
from write_model.domain.errors import (
    DuplicateEmail,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    PaymentMismatch,
    ProductUnavailable,
    RefundExceedsPayment,
    ValidationFailed,
    VersionConflict,
)
from write_model.outbox import CommandContext
from write_model.results import Changed

CONTEXT = CommandContext(actor="contract", request_id="c-1")


@pytest.fixture(params=["fake", "postgres"])
def bus(request: pytest.FixtureRequest) -> Iterator[CommandBus]:
    if request.param == "fake":
        yield fake_command_bus(FakeStore())
    else:
        yield bootstrap.build_command_bus(request.getfixturevalue("engine"))


def create_product(bus: CommandBus, *, stock: int = 5, price: str = "2.50") -> Changed:
    return bus.handle(
        commands.CreateProduct(
            sku=f"S-{uuid.uuid4().hex[:12]}",
            name="Mug",
            brand="Acme",
            category="Kitchen",
            price=price,
            initial_stock=stock,
        ),
        CONTEXT,
    )


def register(bus: CommandBus) -> Changed:
    return bus.handle(commands.RegisterCustomer(name="Ada", email=f"ada-{uuid.uuid4().hex}@example.com"), CONTEXT)


def place(bus: CommandBus, customer: uuid.UUID, *lines: tuple[uuid.UUID, int], key: str | None = None) -> Changed:
    command = commands.PlaceOrder(
        customer_id=customer,
        lines=tuple(commands.OrderLineRequest(product_id=product, quantity=quantity) for product, quantity in lines),
    )
    context = CommandContext(actor="contract", request_id="c-2", idempotency_key=key)
    return bus.handle(command, context)


def test_product_changes_move_the_version_one_by_one(bus: CommandBus) -> None:
    product = create_product(bus).aggregate_id
    changes: list[Callable[[int], commands.Command]] = [
        lambda v: commands.UpdateProductDetails(product_id=product, expected_version=v, name="Big Mug", tags=("x",)),
        lambda v: commands.ChangeProductPrice(product_id=product, expected_version=v, price="3.00"),
        lambda v: commands.RestockProduct(product_id=product, expected_version=v, quantity=10),
        lambda v: commands.DiscontinueProduct(product_id=product, expected_version=v),
    ]
    for version, change in enumerate(changes, start=1):
        changed = bus.handle(change(version), CONTEXT)
        assert (changed.aggregate_id, changed.version) == (product, version + 1)


def test_a_stale_expected_version_and_an_unknown_id_are_refused(bus: CommandBus) -> None:
    product = create_product(bus).aggregate_id
    bus.handle(commands.RestockProduct(product_id=product, quantity=1), CONTEXT)
    with pytest.raises(VersionConflict) as conflict:
        bus.handle(commands.ChangeProductPrice(product_id=product, price="9.00", expected_version=1), CONTEXT)
    assert (conflict.value.expected_version, conflict.value.actual_version) == (1, 2)
    missing = uuid.uuid4()
    with pytest.raises(NotFound) as not_found:
        bus.handle(commands.RestockProduct(product_id=missing, quantity=1), CONTEXT)
    assert (not_found.value.aggregate_type, not_found.value.id) == ("Product", missing)


def test_a_change_that_changes_nothing_answers_with_the_current_version_and_position(bus: CommandBus) -> None:
    created = create_product(bus, price="2.50")
    same = bus.handle(commands.ChangeProductPrice(product_id=created.aggregate_id, price="2.5"), CONTEXT)
    assert same == created


def test_emails_are_unique_whatever_their_case(bus: CommandBus) -> None:
    email = f"Grace-{uuid.uuid4().hex}@Example.com"
    bus.handle(commands.RegisterCustomer(name="Grace", email=email), CONTEXT)
    with pytest.raises(DuplicateEmail) as caught:
        bus.handle(commands.RegisterCustomer(name="Other", email=email.upper()), CONTEXT)
    assert caught.value.email == email.lower()


def test_a_customer_changes_name_and_email_under_the_rules_of_registration(bus: CommandBus) -> None:
    customer = register(bus).aggregate_id
    email = f"Ada.L-{uuid.uuid4().hex}@Example.com"
    renamed = bus.handle(commands.UpdateCustomer(customer_id=customer, expected_version=1, name=" Ada L "), CONTEXT)
    moved = bus.handle(commands.UpdateCustomer(customer_id=customer, expected_version=2, email=email), CONTEXT)
    assert (renamed.version, moved.version) == (2, 3)
    same = bus.handle(commands.UpdateCustomer(customer_id=customer, name="Ada L", email=email.upper()), CONTEXT)
    assert same == moved  # nothing changed: nothing recorded
    with pytest.raises(ValidationFailed) as invalid:
        bus.handle(commands.UpdateCustomer(customer_id=customer, name="", email="nope"), CONTEXT)
    assert [f.field for f in invalid.value.fields] == ["name", "email"]
    with pytest.raises(ValidationFailed) as empty:
        bus.handle(commands.UpdateCustomer(customer_id=customer), CONTEXT)
    assert [f.field for f in empty.value.fields] == ["input"]
    with pytest.raises(VersionConflict) as conflict:
        bus.handle(commands.UpdateCustomer(customer_id=customer, expected_version=2, name="Late"), CONTEXT)
    assert (conflict.value.expected_version, conflict.value.actual_version) == (2, 3)
    missing = uuid.uuid4()
    with pytest.raises(NotFound) as not_found:
        bus.handle(commands.UpdateCustomer(customer_id=missing, name="Nobody"), CONTEXT)
    assert (not_found.value.aggregate_type, not_found.value.id) == ("Customer", missing)


def test_an_email_taken_by_another_customer_is_a_duplicate_whatever_its_case(bus: CommandBus) -> None:
    taken = f"Grace-{uuid.uuid4().hex}@Example.com"
    bus.handle(commands.RegisterCustomer(name="Grace", email=taken), CONTEXT)
    customer = register(bus).aggregate_id
    with pytest.raises(DuplicateEmail) as caught:
        bus.handle(commands.UpdateCustomer(customer_id=customer, name="Grace", email=taken.upper()), CONTEXT)
    assert caught.value.email == taken.lower()
    # Nothing of the refused command was written: the name did not change either.
    again = bus.handle(commands.UpdateCustomer(customer_id=customer, expected_version=1, name="Ada"), CONTEXT)
    assert again.version == 1


def test_an_order_reserves_stock_and_moves_along_its_lifecycle(bus: CommandBus) -> None:
    customer = register(bus).aggregate_id
    mug, cup = create_product(bus, stock=5).aggregate_id, create_product(bus, stock=1).aggregate_id
    placed = place(bus, customer, (mug, 2), (cup, 1), (mug, 1))
    assert (placed.version, placed.status) == (1, "PLACED")
    order = placed.aggregate_id

    with pytest.raises(InsufficientStock) as short:
        place(bus, customer, (mug, 1), (cup, 1))
    assert (short.value.product_id, short.value.requested, short.value.available) == (cup, 1, 0)
    assert place(bus, customer, (mug, 2)).status == "PLACED"
    with pytest.raises(InsufficientStock):
        place(bus, customer, (mug, 1))  # 5 - 3 - 2 = 0 left: the failed order above took nothing

    with pytest.raises(InvalidTransition):
        bus.handle(commands.ShipOrder(order_id=order), CONTEXT)
    assert bus.handle(commands.PayOrder(order_id=order, expected_version=1), CONTEXT).status == "PAID"
    with pytest.raises(VersionConflict):
        bus.handle(commands.ShipOrder(order_id=order, expected_version=1), CONTEXT)
    cancelled = bus.handle(commands.CancelOrder(order_id=order, reason="lost in transit"), CONTEXT)
    assert (cancelled.version, cancelled.status) == (4, "CANCELLED")  # its refund (paid), then the cancellation
    # The cancelled order gave its 3 mugs and its cup back.
    assert place(bus, customer, (mug, 3), (cup, 1)).status == "PLACED"


def test_an_order_needs_an_existing_customer_and_available_products(bus: CommandBus) -> None:
    customer = register(bus).aggregate_id
    product = create_product(bus).aggregate_id
    with pytest.raises(NotFound) as no_customer:
        place(bus, uuid.uuid4(), (product, 1))
    assert no_customer.value.aggregate_type == "Customer"
    missing = uuid.uuid4()
    with pytest.raises(NotFound) as no_product:
        place(bus, customer, (product, 1), (missing, 1))
    assert (no_product.value.aggregate_type, no_product.value.id) == ("Product", missing)
    bus.handle(commands.DiscontinueProduct(product_id=product), CONTEXT)
    with pytest.raises(ProductUnavailable):
        place(bus, customer, (product, 1))
    with pytest.raises(ValidationFailed) as bad:
        place(bus, customer, (product, 0))
    assert [f.field for f in bad.value.fields] == ["lines[0].quantity"]


def test_an_idempotency_key_replays_the_first_order(bus: CommandBus) -> None:
    customer = register(bus).aggregate_id
    product = create_product(bus, stock=1).aggregate_id
    key = f"order-{uuid.uuid4()}"
    first = place(bus, customer, (product, 1), key=key)
    again = place(bus, customer, (product, 1), key=key)  # stock is 0 now: a second run would fail
    assert (first.replayed, again.replayed) == (False, True)
    assert dataclasses.replace(again, replayed=False) == first
    with pytest.raises(ValidationFailed) as reused:
        place(bus, customer, (product, 2), key=key)
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_the_full_lifecycle_ends_delivered(bus: CommandBus) -> None:
    customer = register(bus).aggregate_id
    product = create_product(bus).aggregate_id
    order = place(bus, customer, (product, 1)).aggregate_id
    statuses = [
        bus.handle(action(order_id=order), CONTEXT).status
        for action in (commands.PayOrder, commands.ShipOrder, commands.DeliverOrder)
    ]
    assert statuses == ["PAID", "SHIPPED", "DELIVERED"]
    with pytest.raises(InvalidTransition) as caught:
        bus.handle(commands.CancelOrder(order_id=order), CONTEXT)
    assert (caught.value.status, caught.value.action) == ("DELIVERED", "cancel")


def test_postgres_keeps_the_order_lines_and_money_exact(engine: sa.Engine) -> None:
    bus = bootstrap.build_command_bus(engine)
    customer = register(bus).aggregate_id
    product = create_product(bus, price="0.10", stock=1000).aggregate_id
    order = place(bus, customer, (product, 3)).aggregate_id
    with engine.connect() as connection:
        total, lines = connection.execute(
            sa.text("SELECT total, lines FROM orders WHERE id = :id"), {"id": order}
        ).one()
        event = connection.execute(
            sa.text("SELECT payload FROM outbox WHERE aggregate_id = :id AND event_type = 'OrderPlaced'"), {"id": order}
        ).scalar_one()
    assert total == Decimal("0.30")
    assert lines[0]["line_total"] == "0.30"
    assert event["total"] == "0.30"
    assert event["lines"][0]["unit_price"] == "0.10"


def stock_left(bus: CommandBus, product: uuid.UUID, customer: uuid.UUID) -> int:
    """The product's stock, as the write model tells it to a buyer asking for more than any stock."""
    with pytest.raises(InsufficientStock) as caught:
        place(bus, customer, (product, 1000))
    return caught.value.available


def test_a_payment_reference_records_one_payment_and_a_retry_gets_its_first_answer(bus: CommandBus) -> None:
    customer = register(bus).aggregate_id
    product = create_product(bus, stock=5, price="2.50").aggregate_id
    order = place(bus, customer, (product, 2)).aggregate_id
    card = commands.PaymentRequest(amount="5.00", method="CARD", reference="psp-1")
    with pytest.raises(PaymentMismatch) as mismatch:
        bus.handle(commands.PayOrder(order_id=order, payment=dataclasses.replace(card, amount="4.00")), CONTEXT)
    assert (mismatch.value.expected, mismatch.value.received) == (Decimal("5.00"), Decimal("4.00"))
    paid = bus.handle(commands.PayOrder(order_id=order, payment=card, expected_version=1), CONTEXT)
    assert (paid.version, paid.status) == (2, "PAID")
    bus.handle(commands.ShipOrder(order_id=order), CONTEXT)
    again = bus.handle(commands.PayOrder(order_id=order, payment=card, expected_version=1), CONTEXT)
    assert again == paid, "the first answer, though the order moved on and the expected version is stale"
    with pytest.raises(InvalidTransition):
        bus.handle(commands.PayOrder(order_id=order, payment=dataclasses.replace(card, reference="psp-2")), CONTEXT)


def test_refunds_give_back_what_was_paid_at_most_and_their_returned_units_go_back_to_stock(bus: CommandBus) -> None:
    customer = register(bus).aggregate_id
    product = create_product(bus, stock=10, price="2.50").aggregate_id
    order = place(bus, customer, (product, 4)).aggregate_id
    assert stock_left(bus, product, customer) == 6
    early = commands.RefundOrder(order_id=order, amount="1.00", reference="r-0")
    with pytest.raises(InvalidTransition):
        bus.handle(early, CONTEXT)
    bus.handle(commands.PayOrder(order_id=order), CONTEXT)
    refund = commands.RefundOrder(
        order_id=order,
        amount="2.50",
        reference="r-1",
        reason="one arrived broken",
        returned_lines=(commands.ReturnRequest(product_id=product, quantity=1),),
    )
    refunded = bus.handle(refund, CONTEXT)
    assert (refunded.version, refunded.status) == (3, "PAID")
    assert bus.handle(refund, CONTEXT) == refunded
    assert stock_left(bus, product, customer) == 7
    with pytest.raises(RefundExceedsPayment) as exceeds:
        bus.handle(commands.RefundOrder(order_id=order, amount="7.51", reference="r-2"), CONTEXT)
    assert (exceeds.value.refundable, exceeds.value.requested) == (Decimal("7.50"), Decimal("7.51"))
    with pytest.raises(ValidationFailed) as invalid:
        bus.handle(commands.RefundOrder(order_id=order, amount="0", reference=" ", reason="x" * 501), CONTEXT)
    assert [f.field for f in invalid.value.fields] == ["amount", "reference", "reason"]

    cancelled = bus.handle(commands.CancelOrder(order_id=order, reason="lost"), CONTEXT)
    assert (cancelled.version, cancelled.status) == (5, "CANCELLED")  # the refund of what was left, then the cancel
    assert stock_left(bus, product, customer) == 10, "the returned unit is not released twice"
    with pytest.raises(InvalidTransition):
        bus.handle(commands.RefundOrder(order_id=order, amount="1.00", reference="r-3"), CONTEXT)


def test_a_shipping_address_is_checked_with_the_lines(bus: CommandBus) -> None:
    customer = register(bus).aggregate_id
    product = create_product(bus).aggregate_id
    address = commands.AddressRequest(name="Ada", line1="1 Main St", city="Berlin", postal_code="10115", country="DE")
    placed = bus.handle(
        commands.PlaceOrder(
            customer_id=customer,
            lines=(commands.OrderLineRequest(product_id=product, quantity=1),),
            shipping_address=address,
        ),
        CONTEXT,
    )
    assert placed.version == 1
    with pytest.raises(ValidationFailed) as caught:
        bus.handle(
            commands.PlaceOrder(
                customer_id=customer,
                lines=(commands.OrderLineRequest(product_id=product, quantity=0),),
                shipping_address=dataclasses.replace(address, country="ZZ"),
            ),
            CONTEXT,
        )
    assert [f.field for f in caught.value.fields] == ["shippingAddress.country", "lines[0].quantity"]
