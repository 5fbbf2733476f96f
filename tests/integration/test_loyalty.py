"""The loyalty example, another team's service built on Twofold's events: its points equal those computed
straight from the outbox, and a replay of every event changes none of them."""

from __future__ import annotations

import random
import time
import uuid
from collections import defaultdict
from decimal import Decimal

import psycopg
import sqlalchemy as sa

from api import bootstrap
from api.settings import Settings
from examples.loyalty.service import LoyaltyService
from read_model.checkpoint import ORIGIN
from tests.conftest import own_database
from write_model import commands
from write_model.bus import CommandBus
from write_model.domain.errors import DomainError
from write_model.outbox import CommandContext

# A database of each test's own: the points are compared with the whole outbox.
database_url = own_database()
CONTEXT = CommandContext(actor="tester", request_id="loyalty")


def shop_history(bus: CommandBus, seed: int, orders: int = 40) -> None:
    """Orders placed, paid, partly refunded, cancelled after payment and before: every kind of money move."""
    rng = random.Random(seed)
    product = bus.handle(
        commands.CreateProduct(sku=f"L-{uuid.uuid4().hex[:8]}", name="Lamp", brand="B", category="C", price="12.35",
                               initial_stock=10_000),
        CONTEXT,
    ).aggregate_id  # fmt: skip
    customers = [
        bus.handle(
            commands.RegisterCustomer(name=f"C{n}", email=f"c{n}-{uuid.uuid4().hex[:8]}@example.com"), CONTEXT
        ).aggregate_id
        for n in range(5)
    ]
    for _ in range(orders):
        line = (commands.OrderLineRequest(product_id=product, quantity=rng.randint(1, 4)),)
        order = bus.handle(commands.PlaceOrder(customer_id=rng.choice(customers), lines=line), CONTEXT).aggregate_id
        roll = rng.random()
        try:
            if roll < 0.2:
                bus.handle(commands.CancelOrder(order_id=order), CONTEXT)
                continue
            if roll < 0.3:
                continue
            bus.handle(commands.PayOrder(order_id=order), CONTEXT)
            if roll < 0.5:
                bus.handle(commands.RefundOrder(order_id=order, amount="3.10", reference=f"r-{order}"), CONTEXT)
            if roll < 0.6:
                bus.handle(commands.CancelOrder(order_id=order), CONTEXT)
        except DomainError:
            pass


def expected_points(engine: sa.Engine) -> dict[uuid.UUID, int]:
    """Straight from the outbox: paid minus refunded per customer, in whole currency units."""
    net: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT event_type, payload FROM outbox WHERE event_type IN ('OrderPaid', 'OrderRefunded')")
        )
        for event_type, payload in rows:
            sign = 1 if event_type == "OrderPaid" else -1
            net[uuid.UUID(payload["customer_id"])] += sign * Decimal(payload["amount"])
    return {customer: int(amount) for customer, amount in net.items()}


def consume_until_idle(service: LoyaltyService, quiet_seconds: float = 3.0, limit: float = 60.0) -> None:
    started = last = time.monotonic()
    while time.monotonic() - last < quiet_seconds:
        assert time.monotonic() - started < limit, "the loyalty service kept receiving for a minute"
        if service.poll(0.2):
            last = time.monotonic()


def test_the_loyalty_points_equal_the_outbox_and_a_replay_changes_nothing(
    settings: Settings, engine: sa.Engine, bus: CommandBus, loyalty_database: str, kafka_bootstrap_servers: str
) -> None:
    shop_history(bus, seed=7)
    relay = bootstrap.build_relay(settings)
    service = LoyaltyService(
        loyalty_database, kafka_bootstrap_servers, f"{settings.kafka_topic_prefix}order", group_id=f"g-{uuid.uuid4()}"
    )
    try:
        relay.relay.prepare()
        relay.relay.run_until_caught_up()
        service.start()
        consume_until_idle(service)
        points = service.points()
        assert points == expected_points(engine)
        applied = service.counts.applied

        relay.checkpoints.save(relay.relay.name, ORIGIN)  # every event delivered again, by a new relay process
        restarted = bootstrap.build_relay(settings)
        try:
            restarted.relay.run_until_caught_up()
        finally:
            restarted.close()
        consume_until_idle(service)

        assert service.points() == points
        assert service.counts.applied == applied
        assert service.counts.duplicates >= applied
    finally:
        service.close()
        relay.close()
    with psycopg.connect(loyalty_database) as connection:
        tables = {row[0] for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"loyalty_accounts", "loyalty_applied_events"}  # its own model, none of Twofold's tables
