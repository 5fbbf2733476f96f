"""Reading what the relay published, from the real broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic


@dataclass(frozen=True)
class Received:
    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: dict[str, str]


def consume(
    servers: str, topics: list[str], *, until: Callable[[list[Received]], bool], seconds: float = 60.0
) -> list[Received]:
    """Every record of `topics` from their beginning, in each partition's order, read by a group of its own
    until `until(records)` holds; fails after `seconds`."""
    consumer = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    received: list[Received] = []
    try:
        consumer.subscribe(topics)
        deadline = time.monotonic() + seconds
        while not until(received):
            assert time.monotonic() < deadline, f"{len(received)} records after {seconds} s"
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                assert error.code() == KafkaError._PARTITION_EOF, error
                continue
            received.append(
                Received(
                    topic=str(message.topic()),
                    partition=int(message.partition() or 0),
                    offset=int(message.offset() or 0),
                    key=bytes(message.key() or b""),
                    value=bytes(message.value() or b""),
                    headers={name: bytes(value or b"").decode() for name, value in message.headers() or []},
                )
            )
    finally:
        consumer.close()
    return received


def create_topic(servers: str, topic: str, *, partitions: int = 3, config: dict[str, str] | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": servers})  # held until the answer: its end cancels the request
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1, config=config or {})]
    )
    for future in futures.values():
        future.result(timeout=30)


def topics_exist(servers: str, topics: list[str]) -> bool:
    """Whether the broker knows every one of `topics` (a consumer subscribed before it does is told
    `UNKNOWN_TOPIC_OR_PART`)."""
    known = AdminClient({"bootstrap.servers": servers}).list_topics(timeout=10).topics
    return all(topic in known for topic in topics)
