"""The payment-expiry saga on real PostgreSQL and Elasticsearch: it cancels what stayed unpaid, leaves what was
paid, wins or loses each race against a payment cleanly, and survives kill -9 without cancelling twice."""

from __future__ import annotations

import dataclasses
import json
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from elasticsearch import Elasticsearch

from api import bootstrap
from api.settings import Settings
from tests._launcher import launcher
from tests.conftest import cli_env, own_database
from tests.integration.test_concurrent_commands import race
from write_model import commands
from write_model.bus import CommandBus
from write_model.domain.errors import InvalidTransition
from write_model.domain.orders import EXPIRY_REASON
from write_model.expiry import ACTOR
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="saga")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "saga"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# A database of each test's own: the saga reads the whole outbox from its start, and expires what it finds.
database_url = own_database()


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def saga(settings: Settings, clock: Clock) -> Iterator[bootstrap.SagaProcess]:
    process = bootstrap.build_saga(dataclasses.replace(settings, payment_timeout_seconds=1.0), clock=clock)
    yield process
    process.close()


@pytest.fixture
def timed_bus(engine: sa.Engine, clock: Clock) -> CommandBus:
    """The command bus on the test's clock: orders are placed when the test says."""
    return bootstrap.build_command_bus(engine, clock=clock)


def shop(bus: CommandBus, stock: int) -> tuple[uuid.UUID, uuid.UUID]:
    product = bus.handle(
        commands.CreateProduct(
            sku=f"S-{uuid.uuid4().hex[:10]}",
            name="Mug",
            brand="Acme",
            category="Kitchen",
            price="4.00",
            initial_stock=stock,
        ),
        CONTEXT,
    ).aggregate_id
    customer = bus.handle(
        commands.RegisterCustomer(name="Ada", email=f"ada-{uuid.uuid4().hex}@example.com"), CONTEXT
    ).aggregate_id
    return product, customer


def place(bus: CommandBus, product: uuid.UUID, customer: uuid.UUID, quantity: int = 2) -> uuid.UUID:
    line = commands.OrderLineRequest(product_id=product, quantity=quantity)
    return bus.handle(commands.PlaceOrder(customer_id=customer, lines=(line,)), CONTEXT).aggregate_id


def scalar(engine: sa.Engine, sql: str, **params: object) -> object:
    with engine.connect() as connection:
        return connection.execute(sa.text(sql), params).scalar_one()


def order_row(engine: sa.Engine, order_id: uuid.UUID) -> tuple[str, str | None]:
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT status, cancellation_reason FROM orders WHERE id = :id"), {"id": order_id}
        ).one()
    return row.status, row.cancellation_reason


def events_of(engine: sa.Engine, order_ids: list[uuid.UUID]) -> Counter[tuple[uuid.UUID, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT aggregate_id, event_type FROM outbox WHERE aggregate_id = ANY(:ids)"), {"ids": order_ids}
        )
        return Counter((row.aggregate_id, row.event_type) for row in rows)


def test_with_a_one_second_timeout_an_unpaid_order_is_cancelled_its_stock_released_and_a_paid_one_left(
    engine: sa.Engine,
    timed_bus: CommandBus,
    clock: Clock,
    saga: bootstrap.SagaProcess,
    projector: bootstrap.ProjectorProcess,
    es: Elasticsearch,
    index_prefix: str,
) -> None:
    product, customer = shop(timed_bus, stock=10)
    unpaid, paid = place(timed_bus, product, customer), place(timed_bus, product, customer)
    timed_bus.handle(commands.PayOrder(order_id=paid), CONTEXT)
    saga.saga.run_until_idle()
    clock.advance(0.9)
    saga.saga.run_until_idle()
    assert order_row(engine, unpaid) == ("PLACED", None)  # not yet: 0.9 s of 1

    clock.advance(0.2)
    saga.saga.run_until_idle()

    assert order_row(engine, unpaid) == ("CANCELLED", EXPIRY_REASON)
    assert order_row(engine, paid) == ("PAID", None)
    assert scalar(engine, "SELECT stock FROM products WHERE id = :id", id=product) == 10 - 2
    events = events_of(engine, [unpaid, paid])
    assert events[(unpaid, "OrderCancelled")] == 1
    assert events[(unpaid, "OrderRefunded")] == 0  # nothing was paid, nothing is refunded
    assert (events[(paid, "OrderCancelled")], events[(paid, "OrderRefunded")]) == (0, 0)
    actor = scalar(
        engine,
        "SELECT metadata->>'actor' FROM outbox WHERE aggregate_id = :id AND event_type = 'OrderCancelled'",
        id=unpaid,
    )
    assert actor == ACTOR

    # The read side shows it: the order cancelled with its reason, and the saga's report beside the projections.
    projector.projector.run_until_caught_up()
    document = es.get(index=f"{index_prefix}orders", id=str(unpaid))["_source"]
    assert (document["status"], document["cancellation_reason"]) == ("CANCELLED", EXPIRY_REASON)
    report = es.get(index=f"{index_prefix}projection_status", id=f"{index_prefix}payment-expiry")["_source"]
    assert (report["kind"], report["pending"], report["overdue"], report["dead_letters"]) == ("saga", 0, 0, 0)


def test_twenty_races_of_a_payment_against_the_deadline_each_have_exactly_one_winner(
    engine: sa.Engine, timed_bus: CommandBus, clock: Clock, saga: bootstrap.SagaProcess
) -> None:
    product, customer = shop(timed_bus, stock=100)
    rng = random.Random(20)
    winners: Counter[str] = Counter()
    orders = []
    for _ in range(20):
        order_id = place(timed_bus, product, customer, quantity=1)
        orders.append(order_id)
        saga.saga.run_until_idle()  # the deadline is open
        clock.advance(1.5)  # and past due
        pause = rng.uniform(0, 0.01)  # the payment sets off a little later, or not, to vary who gets there first

        def pay(order_id: uuid.UUID = order_id, pause: float = pause) -> object:
            time.sleep(pause)
            return timed_bus.handle(commands.PayOrder(order_id=order_id), CONTEXT)

        fired, payment = race([saga.saga.run_once, pay])

        status, reason = order_row(engine, order_id)
        events = events_of(engine, [order_id])
        if status == "PAID":
            winners["payment"] += 1
            assert not isinstance(payment, Exception), payment
            assert fired.expired == 0  # type: ignore[attr-defined]
            assert (events[(order_id, "OrderPaid")], events[(order_id, "OrderCancelled")]) == (1, 0)
        else:
            winners["deadline"] += 1
            assert (status, reason) == ("CANCELLED", EXPIRY_REASON)
            assert isinstance(payment, InvalidTransition), payment
            assert fired.expired == 1  # type: ignore[attr-defined]
            assert (events[(order_id, "OrderPaid")], events[(order_id, "OrderCancelled")]) == (0, 1)
        assert events[(order_id, "OrderRefunded")] == 0

    saga.saga.run_until_idle()
    assert saga.saga.measure().pending == 0
    assert sum(winners.values()) == 20
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "races.json").write_text(json.dumps(dict(winners)) + "\n")
    print(f"20 races: {dict(winners)}")


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.02)


def test_the_saga_killed_five_times_while_two_hundred_orders_expire_cancels_each_exactly_once(
    settings: Settings, engine: sa.Engine, bus: CommandBus
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = cli_env(settings, TWOFOLD_PAYMENT_TIMEOUT="1s", TWOFOLD_PROJECTOR_POLL_INTERVAL="0.1")
    product, customer = shop(bus, stock=1000)
    orders: list[uuid.UUID] = []

    def cancelled(among: list[uuid.UUID]) -> int:
        return int(
            scalar(engine, "SELECT count(*) FROM orders WHERE status = 'CANCELLED' AND id = ANY(:ids)", ids=among)  # type: ignore[arg-type]
        )

    child = launcher().start(["saga"], env, OUTPUT / "saga-0.log")
    try:
        for kill in range(1, 6):
            wave = [place(bus, product, customer, quantity=1) for _ in range(40)]
            orders.extend(wave)
            # Killed in the middle of the wave's expiry: once the first of its orders is cancelled.
            wait_for(lambda wave=wave: cancelled(wave) > 0, 60, f"the saga's first cancellation of wave {kill}")
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            child = launcher().start(["saga"], env, OUTPUT / f"saga-{kill}.log")
        wait_for(lambda: cancelled(orders) == len(orders), 120, "every order cancelled")
        wait_for(lambda: scalar(engine, "SELECT count(*) FROM payment_deadlines") == 0, 60, "every deadline closed")
        status = launcher().run(["status"], env)
    finally:
        child.kill()
        child.wait(timeout=30)

    events = events_of(engine, orders)
    cancellations = Counter(events[(order_id, "OrderCancelled")] for order_id in orders)
    reasons = scalar(
        engine, "SELECT count(*) FROM orders WHERE cancellation_reason = :reason AND id = ANY(:ids)",
        reason=EXPIRY_REASON, ids=orders,
    )  # fmt: skip
    keys = scalar(engine, "SELECT count(*) FROM idempotency_keys WHERE actor = :actor", actor=ACTOR)
    summary = {
        "orders": len(orders),
        "kills": 5,
        "cancelled_exactly_once": cancellations[1],
        "cancelled_more_than_once": sum(count for times, count in cancellations.items() if times > 1),
        "not_cancelled": cancellations[0],
    }
    (OUTPUT / "kill-9.json").write_text(json.dumps(summary) + "\n")
    print(summary)
    assert cancellations == {1: 200}, summary
    assert reasons == 200
    assert keys == 200  # one command per order, however often it was sent
    assert scalar(engine, "SELECT stock FROM products WHERE id = :id", id=product) == 1000
    assert status.returncode == 0, status.stderr
    saga_line = next(line.split() for line in status.stdout.splitlines() if line.startswith("payment-expiry"))
    assert saga_line[2:6] == ["0", "0.0", "0", "0"], status.stdout  # lag events, lag s, pending, overdue
    assert "saga: running" in status.stdout
