"""One contract for the relay's event bus: the Kafka adapter and the unit tests' fake behave the same."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from read_model.adapters.kafka_bus import KafkaEventBus
from read_model.outbox import OutboxRecord
from read_model.relay import AbstractEventBus, Message, cloud_event
from tests.fakes import FakeEventBus
from tests.integration._kafka import consume, create_topic

LIMIT = 2000  # bytes: the largest record batch the small topic takes


@dataclass
class Bus:
    bus: AbstractEventBus
    prefix: str
    read: Callable[[str, int], list[tuple[bytes, str]]]  # (topic, how many) -> [(key, ce_id)] in partition order


@pytest.fixture(params=["fake", "kafka"])
def bus(request: pytest.FixtureRequest) -> Iterator[Bus]:
    prefix = f"c{uuid.uuid4().hex[:10]}."
    if request.param == "fake":
        fake = FakeEventBus(partitions=3, max_message_bytes={f"{prefix}small": LIMIT})

        def read_fake(topic: str, count: int) -> list[tuple[bytes, str]]:
            return [(m.key, m.header("ce_id")) for m in fake.messages(topic)]

        yield Bus(fake, prefix, read_fake)
        return
    servers: str = request.getfixturevalue("kafka_bootstrap_servers")
    create_topic(servers, f"{prefix}small", config={"max.message.bytes": str(LIMIT)})
    kafka = KafkaEventBus(servers, partitions=3)

    def read_kafka(topic: str, count: int) -> list[tuple[bytes, str]]:
        got = consume(servers, [topic], until=lambda received: len(received) >= count)
        return [(r.key, r.headers["ce_id"]) for r in got]

    yield Bus(kafka, prefix, read_kafka)
    kafka.close()


def record(aggregate: uuid.UUID, version: int, aggregate_type: str, size: int = 10) -> OutboxRecord:
    return OutboxRecord(
        transaction_id=version,
        position=version,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate,
        aggregate_version=version,
        event_type="ProductRestocked",
        payload={"schema_version": 1, "note": "x" * size},
        metadata={},
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def messages(prefix: str, aggregate_type: str, versions: int, keys: int, size: int = 10) -> list[Message]:
    aggregates = [uuid.uuid4() for _ in range(keys)]
    return [
        cloud_event(record(aggregate, version, aggregate_type, size), topic_prefix=prefix, source="/t")
        for version in range(1, versions + 1)
        for aggregate in aggregates
    ]


def test_published_messages_are_acknowledged_and_each_keys_messages_stay_in_order(bus: Bus) -> None:
    topic = f"{bus.prefix}big"
    bus.bus.ensure_topics([topic])
    bus.bus.ensure_topics([topic])  # again: nothing to do
    sent = messages(bus.prefix, "Big", versions=5, keys=4)

    assert bus.bus.publish(sent) == []

    read = bus.read(topic, len(sent))
    assert sorted(ce_id for _, ce_id in read) == sorted(m.header("ce_id") for m in sent)
    for key in {m.key for m in sent}:
        assert [ce_id for k, ce_id in read if k == key] == [m.header("ce_id") for m in sent if m.key == key]


def test_a_message_larger_than_its_topic_takes_is_refused_and_the_others_are_delivered(bus: Bus) -> None:
    topic = f"{bus.prefix}small"
    bus.bus.ensure_topics([topic])
    small = messages(bus.prefix, "Small", versions=3, keys=1)
    large = messages(bus.prefix, "Small", versions=1, keys=1, size=3 * LIMIT)

    refused = bus.bus.publish([small[0], large[0], *small[1:]])

    assert [r.message for r in refused] == [large[0]]
    assert "too large" in refused[0].reason.lower()
    assert [ce_id for _, ce_id in bus.read(topic, 3)] == [m.header("ce_id") for m in small]
