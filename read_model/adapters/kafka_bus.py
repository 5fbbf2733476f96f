"""The relay's event bus: Apache Kafka through confluent-kafka's synchronous producer (its wheels bundle
librdkafka; the asyncio producer's batch path is known to drop headers).

An idempotent producer with `acks=all`: the broker keeps each partition's records in the order sent and
without duplicates from one producer session, and acknowledges a record once every in-sync replica has it.
`publish` waits for the acknowledgement of the whole batch (`flush`); a batch not acknowledged in time is
`BusUnavailable`, and the producer is replaced before the next attempt, so that a resend starts clean.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka import Message as DeliveredMessage
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.admin._resource import ResourceType
from confluent_kafka.cimpl import NewTopic

from read_model.errors import BusUnavailable
from read_model.relay import AbstractEventBus, Message, Refused, Sending

logger = logging.getLogger(__name__)

# Refusals of the record itself, which no resend can cure: the record is parked as a dead letter.
RECORD_REFUSED = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.RECORD_LIST_TOO_LARGE, KafkaError.INVALID_RECORD})
# What a record batch adds to its records' bytes: its header, and each record's framing (generously).
BATCH_OVERHEAD = 61
RECORD_OVERHEAD = 40
DEFAULT_BATCH_BYTES = 1_000_000


class _KafkaSending(Sending):
    """A sending's progress, as the producer's delivery reports arrive (on the thread that polls it)."""

    def __init__(self, messages: Sequence[Message]) -> None:
        super().__init__(messages)
        self.outstanding = 0
        self.failures: dict[int, KafkaError] = {}
        self.refused: list[Refused] = []

    def delivered(self, error: KafkaError | None, message: DeliveredMessage) -> None:
        """One delivery report (one bound method for the whole sending: a closure per record costs more than
        the record). A failed record is found again by its `ce_id`, unique within a sending."""
        self.outstanding -= 1
        if error is not None:
            headers = cast("list[tuple[str, bytes]]", message.headers() or [])  # a list of pairs, as sent
            ce_id = next(value.decode() for name, value in headers if name == "ce_id")
            index = next(i for i, sent in enumerate(self.messages) if sent.header("ce_id") == ce_id)
            self.failures[index] = error


class KafkaEventBus(AbstractEventBus):
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        partitions: int = 3,
        delivery_timeout_seconds: float = 30.0,
        client_id: str = "twofold-relay",
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._partitions = partitions
        self._timeout = delivery_timeout_seconds
        self.config: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "client.id": client_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "message.timeout.ms": int(delivery_timeout_seconds * 1000),
            # A broker that does not answer is noticed within seconds, not a minute.
            "socket.timeout.ms": 10_000,
        }
        self._producer: Producer | None = None
        # Each topic's `max.message.bytes` (the largest record batch it takes), read by `ensure_topics`.
        self.limits: dict[str, int] = {}

    def ensure_topics(self, topics: Sequence[str]) -> None:
        admin = AdminClient({"bootstrap.servers": self._bootstrap_servers, "socket.timeout.ms": 10_000})
        try:
            futures = admin.create_topics(
                [NewTopic(topic, num_partitions=self._partitions, replication_factor=1) for topic in topics],
                request_timeout=self._timeout,
            )
            for topic, future in futures.items():
                try:
                    future.result(timeout=self._timeout)
                    logger.info("created topic %s with %d partitions", topic, self._partitions)
                except KafkaException as exc:
                    if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                        raise
            for topic in topics:
                self.limits[topic] = self._max_message_bytes(admin, topic)
        except KafkaException as exc:
            raise BusUnavailable(f"cannot create the topics {', '.join(topics)}: {exc}") from exc
        except TimeoutError as exc:  # a future not done in time
            raise BusUnavailable(f"the broker did not answer about the topics {', '.join(topics)}") from exc
        # No record batch larger than the smallest topic takes: a batch the broker refuses for its size takes
        # the records beside the one at fault with it.
        smallest = min(self.limits.values(), default=DEFAULT_BATCH_BYTES + BATCH_OVERHEAD)
        batch_bytes = max(1, min(DEFAULT_BATCH_BYTES, smallest - BATCH_OVERHEAD))
        if self.config.get("batch.size") != batch_bytes:
            self.config["batch.size"] = batch_bytes
            self._discard_producer()
        # Connect now (metadata, the idempotent producer's id), not with the first event after a quiet start.
        self._producer_now().list_topics(timeout=self._timeout)

    def _max_message_bytes(self, admin: AdminClient, topic: str) -> int:
        """The topic's `max.message.bytes`. A topic just created may not be known to every part of the broker
        yet: it is asked again for a few seconds."""
        deadline = time.monotonic() + 10
        while True:
            (future,) = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values()
            try:
                return int(future.result(timeout=self._timeout)["max.message.bytes"].value)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def send(self, messages: Sequence[Message]) -> Sending:
        return self._send(messages)

    def _send(self, messages: Sequence[Message]) -> _KafkaSending:
        sending = _KafkaSending(messages)
        producer = self._producer_now()
        delivered = sending.delivered
        for index, message in enumerate(messages):
            # A record larger than its topic takes is refused before it is sent, where it would fail its batch.
            if self._too_large(message):
                sending.refused.append(Refused(message, f"{message.size} bytes: too large for {message.topic}"))
                continue
            sending.outstanding += 1
            while True:
                try:
                    producer.produce(
                        message.topic,
                        value=message.value,
                        key=message.key,
                        headers=cast("list[tuple[str, str | bytes | None]]", message.headers),
                        on_delivery=delivered,
                    )
                    break
                except BufferError:
                    producer.poll(0.05)  # the local queue is full: let deliveries drain it
                except KafkaException as exc:
                    error = exc.args[0]
                    sending.outstanding -= 1
                    if error.code() in RECORD_REFUSED:
                        sending.failures[index] = error
                        break
                    self._discard_producer()
                    raise BusUnavailable(f"cannot send to {message.topic}: {error.str()}") from exc
        producer.poll(0)
        return sending

    def confirm(self, sending: Sending) -> list[Refused]:
        assert isinstance(sending, _KafkaSending)
        self._wait(sending)
        refused = list(sending.refused)
        for index, error in sorted(sending.failures.items()):
            self._refusal_or_outage(sending, error)
            # The broker refuses a whole record batch that is too large, with the records batched beside the one
            # at fault: each is sent again on its own, and only a refusal alone is final.
            alone = self._send([sending.messages[index]])
            self._wait(alone)
            refused += alone.refused
            for alone_error in alone.failures.values():
                self._refusal_or_outage(alone, alone_error)
                refused.append(Refused(sending.messages[index], alone_error.str()))
        return refused

    def _wait(self, sending: _KafkaSending) -> None:
        """Serve delivery reports until every message of `sending` has its own."""
        producer = self._producer_now()
        deadline = time.monotonic() + self._timeout
        while sending.outstanding > 0:
            if time.monotonic() > deadline:
                self._discard_producer()
                raise BusUnavailable(
                    f"{sending.outstanding} of {len(sending.messages)} records not acknowledged within"
                    f" {self._timeout:g} s"
                )
            producer.poll(0.01)

    def _refusal_or_outage(self, sending: _KafkaSending, error: KafkaError) -> None:
        """A failure the record itself caused passes; any other is an outage: the batch goes again."""
        if error.code() not in RECORD_REFUSED:
            self._discard_producer()
            raise BusUnavailable(
                f"{len(sending.failures)} of {len(sending.messages)} records not delivered, first: {error.str()}"
            )

    def _too_large(self, message: Message) -> bool:
        limit = self.limits.get(message.topic)
        return limit is not None and message.size + RECORD_OVERHEAD + BATCH_OVERHEAD > limit

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(5)
            self._producer = None

    def _producer_now(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(self.config)
        return self._producer

    def _discard_producer(self) -> None:
        """A producer whose records were not all acknowledged is replaced: the batch is sent again whole by a
        new one, rather than partly by the old one's retries behind the new attempt."""
        if self._producer is not None:
            self._producer.purge()
            self._producer.flush(0)
            self._producer = None
