"""Property-based tests: random command sequences through the real bus and handlers, over fake storage."""

from __future__ import annotations

import copy
import itertools
import uuid
from collections import defaultdict

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.fakes import FakeStore, fake_command_bus
from write_model import commands
from write_model.domain.errors import DomainError
from write_model.domain.orders import OrderStatus
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="property", request_id="p")
ORDER_EVENT_STATUS = {
    "OrderPlaced": OrderStatus.PLACED,
    "OrderPaid": OrderStatus.PAID,
    "OrderShipped": OrderStatus.SHIPPED,
    "OrderDelivered": OrderStatus.DELIVERED,
    "OrderCancelled": OrderStatus.CANCELLED,
}
# The lifecycle as the issue states it, independently of the domain's own table.
LIFECYCLE = {
    (OrderStatus.PLACED, OrderStatus.PAID),
    (OrderStatus.PAID, OrderStatus.SHIPPED),
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    (OrderStatus.PLACED, OrderStatus.CANCELLED),
    (OrderStatus.PAID, OrderStatus.CANCELLED),
}
ACTIONS = {
    commands.PayOrder: "pay",
    commands.ShipOrder: "ship",
    commands.DeliverOrder: "deliver",
    commands.CancelOrder: "cancel",
    commands.ExpireOrder: "expire",
}


def an_id(data: st.DataObject, known: list[uuid.UUID]) -> uuid.UUID:
    """Mostly an existing id, sometimes one that exists nowhere."""
    if known and data.draw(st.integers(0, 9)) > 0:
        return data.draw(st.sampled_from(known))
    return uuid.uuid4()


def a_command(data: st.DataObject, store: FakeStore) -> commands.Command:
    products, customers, orders = list(store.products), list(store.customers), list(store.orders)
    version = st.sampled_from([None, None, None, None, 1, 2, 3, 4])
    kind = data.draw(
        st.sampled_from(["create", "register", "restock", "price", "discontinue", "details"] + ["order"] * 6)
    )
    if kind == "create":
        return commands.CreateProduct(
            sku=data.draw(st.sampled_from(["A", "B", "C", "D", "bad sku"])),
            name="N",
            brand="B",
            category="C",
            price=data.draw(st.sampled_from(["1.00", "0", "2.5", "-1", "x"])),
            initial_stock=data.draw(st.integers(-1, 5)),
        )
    if kind == "register":
        return commands.RegisterCustomer(name="C", email=data.draw(st.sampled_from(["a@x.io", "b@x.io", "bad"])))
    if kind == "restock":
        return commands.RestockProduct(
            product_id=an_id(data, products),
            quantity=data.draw(st.integers(-1, 4)),
            expected_version=data.draw(version),
        )
    if kind == "price":
        return commands.ChangeProductPrice(
            product_id=an_id(data, products), price=data.draw(st.sampled_from(["1.00", "3.99", "-2"]))
        )
    if kind == "discontinue":
        return commands.DiscontinueProduct(product_id=an_id(data, products), expected_version=data.draw(version))
    if kind == "details":
        return commands.UpdateProductDetails(
            product_id=an_id(data, products), name=data.draw(st.sampled_from([None, "M", ""]))
        )
    if orders and data.draw(st.integers(0, 3)) == 0:
        returned = data.draw(st.lists(st.integers(0, 3), max_size=2))
        return commands.RefundOrder(
            order_id=an_id(data, orders[-2:]),
            amount=data.draw(st.sampled_from(["0.50", "1.50", "4.50", "100.00", "0", "-1"])),
            reference=data.draw(st.sampled_from(["r1", "r2", "r3"])),
            returned_lines=tuple(
                commands.ReturnRequest(product_id=an_id(data, products), quantity=q) for q in returned
            ),
        )
    if orders and data.draw(st.integers(0, 2)) > 0:
        action = data.draw(st.sampled_from(list(ACTIONS)))
        order_id, expected = an_id(data, orders[-2:]), data.draw(version)
        if action is commands.PayOrder and data.draw(st.booleans()):
            payment = commands.PaymentRequest(
                amount=data.draw(st.sampled_from(["1.50", "3.00", "4.50", "1"])),
                method="CARD",
                reference=data.draw(st.sampled_from(["p1", "p2"])),
            )
            return commands.PayOrder(order_id=order_id, expected_version=expected, payment=payment)
        return action(order_id=order_id, expected_version=expected)
    lines = data.draw(
        st.lists(
            st.tuples(st.just(None), st.integers(0, 4)), min_size=data.draw(st.sampled_from([0, 1, 1, 1])), max_size=3
        ).map(
            lambda pairs: tuple(
                commands.OrderLineRequest(product_id=an_id(data, products), quantity=quantity) for _, quantity in pairs
            )
        )
    )
    return commands.PlaceOrder(customer_id=an_id(data, customers), lines=lines)


def snapshot(store: FakeStore) -> object:
    return copy.deepcopy((store.products, store.customers, store.orders, store.outbox))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_command_sequences_keep_every_invariant(data: st.DataObject) -> None:
    store = FakeStore()
    bus = fake_command_bus(store)
    for sku in ("P", "Q", "R"):
        bus.handle(
            commands.CreateProduct(sku=sku, name="N", brand="B", category="C", price="1.50", initial_stock=3), CONTEXT
        )
    bus.handle(commands.RegisterCustomer(name="C", email="c@x.io"), CONTEXT)
    for _ in range(data.draw(st.integers(1, 60))):
        command = a_command(data, store)
        before = snapshot(store)
        expiring = store.orders.get(command.order_id) if isinstance(command, commands.ExpireOrder) else None
        unpaid_before = expiring is not None and expiring.status is OrderStatus.PLACED
        try:
            bus.handle(command, CONTEXT)
        except DomainError:
            assert snapshot(store) == before, f"{command} failed but changed something"
        else:
            # The payment deadline only ever cancels an order still unpaid: a paid one is never expired.
            assert expiring is None or unpaid_before, f"{command} expired an order that was not awaiting payment"
        assert all(product.stock >= 0 for product in store.products.values())

    versions: dict[uuid.UUID, list[int]] = defaultdict(list)
    statuses: dict[uuid.UUID, list[OrderStatus]] = defaultdict(list)
    for record in store.outbox:
        versions[record.aggregate_id].append(record.aggregate_version)
        if record.event_type in ORDER_EVENT_STATUS:
            statuses[record.aggregate_id].append(ORDER_EVENT_STATUS[record.event_type])
    aggregates = {**store.products, **store.customers, **store.orders}
    assert versions.keys() == aggregates.keys()
    for aggregate_id, recorded in versions.items():
        # One event per change, each with the next version, ending at the aggregate's version.
        assert recorded == list(range(1, aggregates[aggregate_id].version + 1))
    for aggregate_id, history in statuses.items():
        assert history[0] is OrderStatus.PLACED
        assert all(step in LIFECYCLE for step in itertools.pairwise(history))
        assert store.orders[aggregate_id].status is history[-1]
    event(f"longest order history: {max(map(len, statuses.values()), default=0)}")
    assert_money_and_stock_are_conserved(store)


def assert_money_and_stock_are_conserved(store: FakeStore) -> None:
    """Paid minus refunded is never negative, and a cancelled order has it all back; every product's units
    are where they should be: initial + restocks = stock + units held by orders not cancelled (ordered,
    less returned)."""
    for order in store.orders.values():
        assert order.amount_refunded <= order.amount_paid <= order.total
        if order.status is OrderStatus.CANCELLED:
            assert order.amount_refunded == order.amount_paid
    received: dict[uuid.UUID, int] = defaultdict(int)
    for record in store.outbox:
        if record.event_type == "ProductCreated":
            received[record.aggregate_id] += record.payload["stock"]
        elif record.event_type == "ProductRestocked":
            received[record.aggregate_id] += record.payload["quantity"]
    held: dict[uuid.UUID, int] = defaultdict(int)
    for order in store.orders.values():
        if order.status is not OrderStatus.CANCELLED:
            for line in order.lines:
                held[line.product_id] += line.quantity - order.returned(line.product_id)
    for product in store.products.values():
        assert received[product.id] == product.stock + held[product.id], product.sku
    refunds = sum(len(order.refunds) for order in store.orders.values())
    event(f"refunds: {min(refunds, 3)}+" if refunds >= 3 else f"refunds: {refunds}")
