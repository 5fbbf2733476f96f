"""The relay on the real broker: every event of a mixed workload arrives, in commit order per aggregate, as a
CloudEvent with its headers; a replay sends the same `ce_id`s; a record the broker refuses is parked."""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from api import bootstrap
from api.settings import Settings
from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.relay import all_topics
from tests.conftest import own_database
from tests.integration._kafka import Received, consume, create_topic
from tests.integration._shop import write_a_shop
from write_model import commands
from write_model.bus import CommandBus
from write_model.event_schemas import all_schemas
from write_model.outbox import CommandContext

# A database of each test's own: the relay publishes the whole outbox, and the tests count it.
database_url = own_database()


@pytest.fixture
def relay(settings: Settings, kafka_bootstrap_servers: str) -> Iterator[bootstrap.RelayProcess]:
    process = bootstrap.build_relay(settings)
    process.relay.prepare()
    yield process
    process.close()


def outbox(engine: sa.Engine) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id,"
                    " aggregate_version, event_type, payload"
                    " FROM outbox ORDER BY transaction_id::text::bigint, position"
                )
            )
        )


def ids(records: list[Received]) -> Counter[str]:
    return Counter(record.headers["ce_id"] for record in records)


def test_every_event_of_a_mixed_workload_arrives_in_commit_order_per_aggregate_with_its_headers(
    settings: Settings, engine: sa.Engine, bus: CommandBus, relay: bootstrap.RelayProcess, kafka_bootstrap_servers: str
) -> None:
    write_a_shop(bus, writers=4, steps=15)
    rows = outbox(engine)

    assert relay.relay.run_until_caught_up() == len(rows)

    topics = all_topics(settings.kafka_topic_prefix)
    everything = {f"{row.aggregate_id}:{row.aggregate_version}" for row in rows}
    received = consume(kafka_bootstrap_servers, topics, until=lambda got: set(ids(got)) >= everything)
    # Once or more: a version that commit order put behind a later one is sent before it, and again in its turn.
    assert set(ids(received)) == everything
    by_id = {f"{row.aggregate_id}:{row.aggregate_version}": row for row in rows}
    schemas = {schema["$id"] for schema in all_schemas().values()}
    partitions_of: dict[str, set[int]] = defaultdict(set)
    for record in received:
        row = by_id[record.headers["ce_id"]]
        assert record.topic == f"{settings.kafka_topic_prefix}{row.aggregate_type.lower()}"
        assert record.key == str(row.aggregate_id).encode()
        assert json.loads(record.value) == row.payload
        assert record.headers["ce_specversion"] == "1.0"
        assert record.headers["ce_source"] == settings.event_source
        assert record.headers["ce_type"] == f"twofold.{row.aggregate_type.lower()}.{row.event_type}"
        assert record.headers["ce_subject"] == str(row.aggregate_id)
        assert record.headers["content-type"] == "application/json"
        assert record.headers["ce_dataschema"] in schemas
        assert record.headers["ce_outboxposition"] == f"{row.transaction_id}:{row.position}"
        assert record.headers["ce_aggregateversion"] == str(row.aggregate_version)
        assert "T" in record.headers["ce_time"]
        partitions_of[str(row.aggregate_id)].add(record.partition)
    # One aggregate, one partition, where its versions come in order.
    assert all(len(partitions) == 1 for partitions in partitions_of.values())
    for aggregate_id in partitions_of:
        # Each first arrival of an aggregate's versions comes in version order: the order its changes committed.
        firsts: dict[str, int] = {}
        for r in received:
            if r.key == aggregate_id.encode():
                firsts.setdefault(r.headers["ce_id"], int(r.headers["ce_aggregateversion"]))
        assert list(firsts.values()) == sorted(firsts.values()), aggregate_id
    assert relay.checkpoints.load(relay.relay.name) == Checkpoint(rows[-1].transaction_id, rows[-1].position)


def test_a_replay_sends_every_event_again_with_the_same_ce_id(
    settings: Settings, bus: CommandBus, engine: sa.Engine, relay: bootstrap.RelayProcess, kafka_bootstrap_servers: str
) -> None:
    write_a_shop(bus, writers=2, steps=5)
    count = len(outbox(engine))
    relay.relay.run_until_caught_up()
    relay.checkpoints.save(relay.relay.name, ORIGIN)  # as if it had crashed before every checkpoint
    restarted = bootstrap.build_relay(settings)  # and a new process started
    try:
        restarted.relay.run_until_caught_up()
    finally:
        restarted.close()

    received = consume(
        kafka_bootstrap_servers,
        all_topics(settings.kafka_topic_prefix),
        until=lambda got: len(ids(got)) == count and min(ids(got).values()) >= 2,
    )
    # Every event twice at least: once per run (and a third time where commit order put a version behind).
    assert min(ids(received).values()) >= 2
    first: dict[str, Received] = {}
    for record in received:
        seen = first.setdefault(record.headers["ce_id"], record)
        assert (seen.value, seen.headers, seen.key) == (record.value, record.headers, record.key)


def test_a_record_the_broker_refuses_as_too_large_is_parked_and_later_events_flow(
    settings: Settings, bus: CommandBus, kafka_bootstrap_servers: str
) -> None:
    order_topic = f"{settings.kafka_topic_prefix}order"
    create_topic(kafka_bootstrap_servers, order_topic, config={"max.message.bytes": "1500"})
    process = bootstrap.build_relay(settings)
    try:
        process.relay.prepare()
        context = CommandContext(actor="tester", request_id="big")
        products = [
            bus.handle(
                commands.CreateProduct(
                    sku=f"B-{uuid.uuid4().hex[:8]}", name="A" * 200, brand="B", category="C", price="1", initial_stock=5
                ),
                context,
            ).aggregate_id
            for _ in range(8)
        ]
        customer = bus.handle(
            commands.RegisterCustomer(name="Big", email=f"big-{uuid.uuid4().hex}@example.com"), context
        ).aggregate_id
        lines = tuple(commands.OrderLineRequest(product_id=p, quantity=1) for p in products)
        big = bus.handle(commands.PlaceOrder(customer_id=customer, lines=lines), context).aggregate_id
        bus.handle(commands.PayOrder(order_id=big), context)

        process.relay.run_until_caught_up()

        letters = process.dead_letters.letters(projection=process.relay.name)
        assert [(letter.event_type, letter.aggregate_id) for letter in letters] == [("OrderPlaced", big)]
        assert "too large" in letters[0].error.lower()
        received = consume(kafka_bootstrap_servers, [order_topic], until=lambda got: len(got) >= 1)
        assert [r.headers["ce_type"] for r in received] == ["twofold.order.OrderPaid"]
        assert process.relay.measure().dead_letters == 1
    finally:
        process.close()
