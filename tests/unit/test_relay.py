"""The relay over the fakes of its ports: CloudEvents on the wire, commit order per aggregate, the checkpoint
moved only after the broker acknowledged, a record the broker refuses parked, a broker outage waited out."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from read_model.errors import BusUnavailable
from read_model.relay import Relay, RelayOptions, all_topics, cloud_event
from tests.fakes import (
    FakeCheckpointStore,
    FakeConsumerReports,
    FakeDeadLetters,
    FakeEventBus,
    FakeOutboxReader,
    FakeStore,
    fake_command_bus,
)
from write_model import commands
from write_model.event_schemas import all_schemas, file_name
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="relay")
NOW = datetime(2026, 4, 1, tzinfo=UTC)


def shop() -> FakeStore:
    """A product, a customer, an order placed, paid and shipped, and a second order cancelled."""
    store = FakeStore()
    bus = fake_command_bus(store)
    product = bus.handle(
        commands.CreateProduct(sku="MUG", name="Mug", brand="Acme", category="Kitchen", price="3", initial_stock=9),
        CONTEXT,
    ).aggregate_id
    customer = bus.handle(commands.RegisterCustomer(name="Ada", email="ada@example.com"), CONTEXT).aggregate_id
    line = (commands.OrderLineRequest(product_id=product, quantity=2),)
    order = bus.handle(commands.PlaceOrder(customer_id=customer, lines=line), CONTEXT).aggregate_id
    bus.handle(commands.PayOrder(order_id=order), CONTEXT)
    bus.handle(commands.ShipOrder(order_id=order), CONTEXT)
    other = bus.handle(commands.PlaceOrder(customer_id=customer, lines=line), CONTEXT).aggregate_id
    bus.handle(commands.CancelOrder(order_id=other, reason="no longer needed"), CONTEXT)
    return store


def relay_over(store: FakeStore, bus: FakeEventBus) -> tuple[Relay, FakeCheckpointStore, FakeDeadLetters]:
    reader = FakeOutboxReader()
    reader.records = store.outbox
    checkpoints, letters = FakeCheckpointStore(), FakeDeadLetters()
    relay = Relay(
        name="t_relay",
        reader=reader,
        checkpoints=checkpoints,
        bus=bus,
        dead_letters=letters,
        reports=FakeConsumerReports(),
        clock=lambda: NOW,
        options=RelayOptions(topic_prefix="shop.", source="/twofold/test", batch_size=4),
    )
    return relay, checkpoints, letters


def test_an_outbox_record_becomes_a_cloud_event_in_binary_mode() -> None:
    record = next(r for r in shop().outbox if r.event_type == "OrderPaid")

    message = cloud_event(record, topic_prefix="twofold.", source="/twofold")

    assert (message.topic, message.key) == ("twofold.order", str(record.aggregate_id).encode())
    assert json.loads(message.value) == record.payload
    headers = {name: value.decode() for name, value in message.headers}
    assert headers == {
        "ce_specversion": "1.0",
        "ce_id": f"{record.aggregate_id}:{record.aggregate_version}",
        "ce_source": "/twofold",
        "ce_type": "twofold.order.OrderPaid",
        "ce_subject": str(record.aggregate_id),
        "ce_time": record.occurred_at.isoformat(),
        "ce_dataschema": "urn:twofold:event-schema:OrderPaid:v2",
        "content-type": "application/json",
        "ce_outboxposition": f"{record.transaction_id}:{record.position}",
        "ce_aggregatetype": "order",
        "ce_aggregateversion": "2",
    }
    assert all_schemas()[file_name("OrderPaid", 2)]["$id"] == headers["ce_dataschema"]
    assert datetime.fromisoformat(headers["ce_time"]).utcoffset() is not None  # RFC 3339: with its offset


def test_a_cloud_event_value_is_compact_unescaped_utf8_json_in_the_payload_key_order() -> None:
    record = next(r for r in shop().outbox if r.event_type == "OrderPaid")
    payload = {"z": 'Zoë\n"ß" \u2028', "a": [1, None, True], "schema_version": 2}

    message = cloud_event(dataclasses.replace(record, payload=payload), topic_prefix="t.", source="/t")

    assert message.value == '{"z":"Zoë\\n\\"ß\\" \u2028","a":[1,null,true],"schema_version":2}'.encode()


def test_every_event_is_published_once_in_commit_order_per_aggregate_and_the_checkpoint_follows() -> None:
    store, bus = shop(), FakeEventBus()
    relay, checkpoints, _ = relay_over(store, bus)
    relay.prepare()

    assert relay.run_until_caught_up() == len(store.outbox)

    assert set(bus.topics) == set(all_topics("shop.")) == {"shop.customer", "shop.order", "shop.product"}
    published = [m for topic in bus.topics for m in bus.messages(topic)]
    assert sorted(m.header("ce_id") for m in published) == sorted(
        f"{r.aggregate_id}:{r.aggregate_version}" for r in store.outbox
    )
    for aggregate_id in {r.aggregate_id for r in store.outbox}:
        versions = [m.record.aggregate_version for m in published if m.record.aggregate_id == aggregate_id]
        assert versions == sorted(versions)
    assert checkpoints.load("t_relay") == store.outbox[-1].checkpoint


def test_a_broker_outage_leaves_the_checkpoint_and_the_batch_is_sent_again() -> None:
    store, bus = shop(), FakeEventBus()
    relay, checkpoints, _ = relay_over(store, bus)
    bus.down = True

    with pytest.raises(BusUnavailable):
        relay.run_once()
    assert checkpoints.load("t_relay").position == 0

    bus.down = False
    relay.run_until_caught_up()
    assert sum(len(bus.messages(topic)) for topic in bus.topics) == len(store.outbox)


def test_a_record_the_broker_refuses_is_parked_and_the_others_flow() -> None:
    store = shop()
    placed = [r for r in store.outbox if r.event_type == "OrderPlaced"]
    smallest_placed = min(cloud_event(r, topic_prefix="shop.", source="/twofold/test").size for r in placed)
    bus = FakeEventBus(max_message_bytes={"shop.order": smallest_placed - 1})  # placing is the largest event
    relay, checkpoints, letters = relay_over(store, bus)

    relay.run_until_caught_up()

    parked = letters.letters(projection="t_relay")
    assert {letter.event_type for letter in parked} == {"OrderPlaced"}
    assert len(parked) == 2
    assert checkpoints.load("t_relay") == store.outbox[-1].checkpoint
    assert [
        m.record.event_type for m in bus.messages("shop.order") if m.record.aggregate_id == placed[0].aggregate_id
    ] == [
        "OrderPaid",
        "OrderShipped",
    ]
    assert relay.report().dead_letters == 2


def test_a_replay_sends_the_same_cloud_events_again() -> None:
    store, bus = shop(), FakeEventBus()
    relay, _, _ = relay_over(store, bus)
    relay.run_until_caught_up()
    first = sorted((m.header("ce_id"), m.value, m.headers) for m in bus.messages("shop.order"))

    # A new process after every batch had crashed before its checkpoint: it starts from the origin.
    restarted, _, _ = relay_over(store, bus)
    restarted.run_until_caught_up()

    again = sorted((m.header("ce_id"), m.value, m.headers) for m in bus.messages("shop.order"))
    assert again == sorted(first * 2)


def test_a_version_commit_order_put_behind_a_later_one_is_sent_before_it_and_again_in_its_turn() -> None:
    store = shop()
    product = [r for r in store.outbox if r.aggregate_type == "Product"]
    # Version 3 took its transaction id before version 2 (at its first write), so commit order, which sorts by
    # transaction id, puts it first, here at the end of a batch of 4, and version 2 in the next batch.
    v1, v2, v3 = product[0], product[1], product[2]
    swapped = [
        dataclasses.replace(v1, transaction_id=1, position=1),
        dataclasses.replace(v3, transaction_id=2, position=3),
        dataclasses.replace(v2, transaction_id=3, position=2),
    ]
    orders = [r for r in store.outbox if r.aggregate_type == "Order"][:2]
    other = [dataclasses.replace(r, transaction_id=2, position=10 + i) for i, r in enumerate(orders)]
    reader = FakeOutboxReader(swapped[:2] + other + swapped[2:])
    bus = FakeEventBus()
    relay = Relay(
        name="t_relay",
        reader=reader,
        checkpoints=FakeCheckpointStore(),
        bus=bus,
        dead_letters=FakeDeadLetters(),
        reports=FakeConsumerReports(),
        clock=lambda: NOW,
        options=RelayOptions(topic_prefix="shop.", batch_size=4),
    )

    relay.run_until_caught_up()

    versions = [
        m.record.aggregate_version for m in bus.messages("shop.product") if m.record.aggregate_id == v1.aggregate_id
    ]
    assert versions == [1, 2, 3, 2]  # version 2 before 3, and again in its turn (consumers dedupe on ce_id)


def test_a_batch_in_flight_when_the_broker_fails_is_sent_again_from_the_stored_checkpoint() -> None:
    store, bus = shop(), FakeEventBus()
    relay, checkpoints, _ = relay_over(store, bus)
    relay.run_once()  # a full batch of 4: sent, confirmed only by the next round
    assert checkpoints.load("t_relay").position == 0
    bus.down = True

    with pytest.raises(BusUnavailable):
        relay.run_once()
    assert checkpoints.load("t_relay").position == 0

    bus.down = False
    relay.run_until_caught_up()
    published = Counter(m.header("ce_id") for topic in bus.topics for m in bus.messages(topic))
    assert set(published) == {f"{r.aggregate_id}:{r.aggregate_version}" for r in store.outbox}
    assert checkpoints.load("t_relay") == store.outbox[-1].checkpoint
