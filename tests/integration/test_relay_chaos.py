"""`kill -9` of the relay mid-batch, and a broker restart, under a steady writer: every outbox event reaches
its topic, and the loyalty service's points equal those computed straight from the outbox.

The test command runs a smaller version (3 kills, TWOFOLD_CHAOS_RELAY_KILLS); `make chaos` runs 10.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from api.settings import Settings
from examples.loyalty.service import LoyaltyService
from read_model.relay import all_topics
from tests._launcher import launcher
from tests.conftest import cli_env, own_database
from tests.integration._chaos import record, restart_service
from tests.integration._kafka import consume
from tests.integration.test_loyalty import expected_points
from write_model import commands
from write_model.bus import CommandBus
from write_model.domain.errors import DomainError, TransientConflict
from write_model.outbox import CommandContext

KILLS = int(os.environ.get("TWOFOLD_CHAOS_RELAY_KILLS", "3"))
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "relay-chaos"

# A database of its own: every event of its outbox must reach Kafka, and the points are counted over it.
database_url = own_database()


def outbox_ids(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT aggregate_id, aggregate_version FROM outbox"))
        return {f"{aggregate_id}:{version}" for aggregate_id, version in rows}


def relay_reached_the_end(engine: sa.Engine, name: str) -> bool:
    with engine.connect() as connection:
        head = connection.execute(
            sa.text("SELECT transaction_id::text::bigint, position FROM outbox ORDER BY 1 DESC, 2 DESC LIMIT 1")
        ).one()
        stood = connection.execute(
            sa.text("SELECT transaction_id, position FROM projection_checkpoints WHERE name = :name"), {"name": name}
        ).one_or_none()
    return stood is not None and tuple(stood) >= tuple(head)


class Writer:
    """Places, pays, refunds and cancels orders, about 40 commands a second, until stopped."""

    def __init__(self, bus: CommandBus) -> None:
        self._bus = bus
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write)
        self.commands = 0

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _write(self) -> None:
        rng, context = random.Random(3), CommandContext(actor="chaos", request_id="relay")
        product = self._bus.handle(
            commands.CreateProduct(sku=f"R-{uuid.uuid4().hex[:8]}", name="R", brand="B", category="C", price="7.45",
                                   initial_stock=1_000_000),
            context,
        ).aggregate_id  # fmt: skip
        customers = [
            self._bus.handle(
                commands.RegisterCustomer(name=f"R{n}", email=f"r{n}-{uuid.uuid4().hex[:8]}@example.com"), context
            ).aggregate_id
            for n in range(8)
        ]
        while not self._stop.wait(0.025):
            line = (commands.OrderLineRequest(product_id=product, quantity=rng.randint(1, 3)),)
            try:
                order = self._bus.handle(commands.PlaceOrder(customer_id=rng.choice(customers), lines=line), context)
                self._bus.handle(commands.PayOrder(order_id=order.aggregate_id), context)
                if rng.random() < 0.3:
                    refund = commands.RefundOrder(order_id=order.aggregate_id, amount="1.15", reference="r")
                    self._bus.handle(refund, context)
                if rng.random() < 0.2:
                    self._bus.handle(commands.CancelOrder(order_id=order.aggregate_id), context)
                self.commands += 1
            except (DomainError, TransientConflict):
                continue


class Loyalty:
    """The loyalty service consuming in a thread of its own, as it would in its own process."""

    def __init__(self, service: LoyaltyService) -> None:
        self.service = service
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        self.service.start()
        while not self._stop.is_set():
            self.service.poll(0.2)

    def __enter__(self) -> Loyalty:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wait(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.2)


def close_within(service: LoyaltyService, seconds: float) -> None:
    """Closes the loyalty service's consumer, failing the test if that takes longer than `seconds`: librdkafka's
    close can wait for a broker that is gone for good (confluent-kafka-python#1667), and a broker that did
    not come back must fail this test, not hang the suite."""
    closing = threading.Thread(target=service.close, daemon=True)
    closing.start()
    closing.join(seconds)
    assert not closing.is_alive(), f"the loyalty service's consumer did not close within {seconds} s: is Kafka up?"


def test_the_relay_killed_mid_batch_and_the_broker_restarted_lose_no_event(
    settings: Settings,
    engine: sa.Engine,
    bus: CommandBus,
    loyalty_database: str,
    kafka_bootstrap_servers: str,
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = cli_env(settings, TWOFOLD_RELAY_BATCH_SIZE="20", TWOFOLD_PROJECTOR_POLL_INTERVAL="0.1")
    name = f"{settings.index_prefix}relay"
    service = LoyaltyService(
        loyalty_database, kafka_bootstrap_servers, f"{settings.kafka_topic_prefix}order", group_id=f"g-{uuid.uuid4()}"
    )
    relay = launcher().start(["relay"], env, OUTPUT / "relay-0.log")
    rng = random.Random(11)
    try:
        with Loyalty(service):
            with Writer(bus) as writer:
                for kill in range(1, KILLS + 1):
                    time.sleep(rng.uniform(0.5, 1.5))
                    relay.send_signal(signal.SIGKILL)
                    relay.wait(timeout=30)
                    if kill == KILLS // 2 + 1:
                        restart_service("kafka", OUTPUT / "kafka-restart.log")
                    relay = launcher().start(["relay"], env, OUTPUT / f"relay-{kill}.log")
                time.sleep(1)
            wait(lambda: relay_reached_the_end(engine, name), 120, "the relay reaching the end of the outbox")
            written = outbox_ids(engine)
            received = consume(
                kafka_bootstrap_servers,
                all_topics(settings.kafka_topic_prefix),
                until=lambda got: {r.headers["ce_id"] for r in got} >= written,
                seconds=120,
            )
            expected = expected_points(engine)
            caught_up = True
            try:
                wait(lambda: service.points() == expected, 120, "the loyalty points reaching the outbox's")
            except AssertionError:
                caught_up = False
    finally:
        relay.kill()
        relay.wait(timeout=30)
        points = service.points()
        close_within(service, seconds=60)
    deliveries = Counter(r.headers["ce_id"] for r in received)
    lost = len(written - set(deliveries))
    record(
        f"relay killed mid-batch {KILLS} times, broker restarted once, under a steady writer",
        faults="kill -9 of the relay, Kafka restart",
        injected=KILLS + 1,
        events_written=len(written),
        events_lost=lost,
        duplicates=sum(count - 1 for count in deliveries.values()),
    )
    assert lost == 0
    assert writer.commands > 0
    assert caught_up, "the loyalty points never reached the outbox's"
    assert points == expected
