"""Concurrent commands on real PostgreSQL: the races the write model promises to win."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa

from tests.integration.test_command_bus_contract import CONTEXT, create_product, place, register
from write_model import commands
from write_model.bus import CommandBus
from write_model.domain.errors import DomainError, InvalidTransition
from write_model.results import Changed


def race(calls: list[Callable[[], object]]) -> list[object]:
    """Run `calls` at once, each in its own thread released by one barrier; their results or domain errors."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except DomainError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def count_events(engine: sa.Engine, event_type: str, aggregate_ids: list[uuid.UUID]) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM outbox WHERE event_type = :type AND aggregate_id = ANY(:ids)"),
                {"type": event_type, "ids": aggregate_ids},
            ).scalar_one()
        )


def stock_of(engine: sa.Engine, product: uuid.UUID) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(sa.text("SELECT stock FROM products WHERE id = :id"), {"id": product}).scalar_one()
        )


def test_twenty_buyers_of_five_units_five_win(engine: sa.Engine, bus: CommandBus) -> None:
    product = create_product(bus, stock=5).aggregate_id
    customers = [register(bus).aggregate_id for _ in range(20)]

    results = race([lambda c=customer: place(bus, c, (product, 1)) for customer in customers])

    outcomes = Counter(type(result).__name__ for result in results)
    assert outcomes == {"Changed": 5, "InsufficientStock": 15}
    assert stock_of(engine, product) == 0
    orders = [result.aggregate_id for result in results if not isinstance(result, DomainError)]  # type: ignore[attr-defined]
    assert count_events(engine, "OrderPlaced", orders) == 5
    assert count_events(engine, "ProductStockReserved", [product]) == 5


def test_ten_retries_with_one_key_place_one_order(engine: sa.Engine, bus: CommandBus) -> None:
    product = create_product(bus, stock=100).aggregate_id
    customer = register(bus).aggregate_id
    key = f"retry-{uuid.uuid4()}"

    results = race([lambda: place(bus, customer, (product, 3), key=key) for _ in range(10)])

    # One ran; the nine others got its result back, marked as a replay.
    changed = [result for result in results if isinstance(result, Changed)]
    assert len(changed) == 10, results
    assert sorted(result.replayed for result in changed) == [False] + [True] * 9
    assert len({dataclasses.replace(result, replayed=False) for result in changed}) == 1
    order = changed[0].aggregate_id
    assert count_events(engine, "OrderPlaced", [order]) == 1
    assert stock_of(engine, product) == 97
    with engine.connect() as connection:
        orders = connection.execute(sa.text("SELECT count(*) FROM orders WHERE customer_id = :c"), {"c": customer})
        assert orders.scalar_one() == 1


def test_orders_locking_the_same_products_in_opposite_orders_all_succeed(engine: sa.Engine, bus: CommandBus) -> None:
    first, second = create_product(bus, stock=50).aggregate_id, create_product(bus, stock=50).aggregate_id
    customer = register(bus).aggregate_id

    results = race(
        [lambda: place(bus, customer, (first, 1), (second, 1)), lambda: place(bus, customer, (second, 1), (first, 1))]
        * 8
    )

    assert Counter(type(result).__name__ for result in results) == {"Changed": 16}
    assert (stock_of(engine, first), stock_of(engine, second)) == (34, 34)


def test_paying_and_cancelling_one_order_at_once_serialize(engine: sa.Engine, bus: CommandBus) -> None:
    product = create_product(bus, stock=5).aggregate_id
    customer = register(bus).aggregate_id
    for _ in range(5):
        order = place(bus, customer, (product, 1)).aggregate_id
        paid, cancelled = race(
            [
                lambda o=order: bus.handle(commands.PayOrder(order_id=o), CONTEXT),
                lambda o=order: bus.handle(commands.CancelOrder(order_id=o), CONTEXT),
            ]
        )
        # Whichever ran second saw the first one's result: pay then cancel (a refund), or cancel and no pay.
        assert not isinstance(cancelled, DomainError)
        with engine.connect() as connection:
            refund = connection.execute(
                sa.text(
                    "SELECT payload->>'refund' FROM outbox WHERE aggregate_id = :id AND event_type = 'OrderCancelled'"
                ),
                {"id": order},
            ).scalar_one()
        if isinstance(paid, InvalidTransition):
            assert (paid.status, refund) == ("CANCELLED", None)
        else:
            assert refund == "2.50"
    assert stock_of(engine, product) == 5


def test_ten_concurrent_retries_of_one_payment_record_it_once_and_get_one_answer(
    engine: sa.Engine, bus: CommandBus
) -> None:
    product = create_product(bus, stock=5, price="2.50").aggregate_id
    order = place(bus, register(bus).aggregate_id, (product, 2)).aggregate_id
    payment = commands.PaymentRequest(amount="5.00", method="CARD", reference=f"psp-{uuid.uuid4().hex}")
    answers = race([lambda: bus.handle(commands.PayOrder(order_id=order, payment=payment), CONTEXT)] * 10)
    assert all(isinstance(answer, Changed) for answer in answers), answers
    assert len(set(answers)) == 1, answers
    assert count_events(engine, "OrderPaid", [order]) == 1


def test_ten_concurrent_retries_of_one_refund_record_it_once_and_return_its_units_once(
    engine: sa.Engine, bus: CommandBus
) -> None:
    product = create_product(bus, stock=5, price="2.50").aggregate_id
    order = place(bus, register(bus).aggregate_id, (product, 2)).aggregate_id
    bus.handle(commands.PayOrder(order_id=order), CONTEXT)
    refund = commands.RefundOrder(
        order_id=order,
        amount="2.50",
        reference=f"refund-{uuid.uuid4().hex}",
        returned_lines=(commands.ReturnRequest(product_id=product, quantity=1),),
    )
    answers = race([lambda: bus.handle(refund, CONTEXT)] * 10)
    assert all(isinstance(answer, Changed) for answer in answers), answers
    assert len(set(answers)) == 1, answers
    assert count_events(engine, "OrderRefunded", [order]) == 1
    assert stock_of(engine, product) == 4
