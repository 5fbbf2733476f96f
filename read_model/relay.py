"""The relay: publishes every outbox event, in commit order, to the event bus (Apache Kafka) for other services.

Each round, under the relay's own lease: read the committed records after its checkpoint (the projector's
reader), send them as CloudEvents (`cloud_event`), wait until the broker acknowledged every one of them,
park as dead letters the few the broker refused for their own reasons (too large), then store the
checkpoint. A crash before the checkpoint replays the batch: delivery is at least once, and a consumer
dedupes on `ce_id`, which is the same across replays.

The wire format, CloudEvents 1.0 in Kafka's binary mode (docs/events.md#on-the-wire):

- topic `<prefix><aggregate type>` (`twofold.product`, `twofold.customer`, `twofold.order`), key the aggregate
  id, so one aggregate's events stay in order within one partition;
- value the event's JSON payload, exactly as the outbox holds it;
- headers `ce_specversion`, `ce_id` (`<aggregate id>:<version>`), `ce_source`, `ce_type`
  (`twofold.<aggregate type>.<event type>`), `ce_subject` (the aggregate id), `ce_time` (when it
  occurred), `ce_dataschema` (the URI of its JSON Schema, write_model/event_schemas.py), `content-type`,
  and the extensions `ce_outboxposition` (`transactionId:position`), `ce_aggregatetype` and
  `ce_aggregateversion`.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import orjson

from read_model.checkpoint import Checkpoint
from read_model.consumers import AbstractConsumerReports, ConsumerState
from read_model.dead_letters import AbstractDeadLetters
from read_model.errors import BusUnavailable, OutboxUnavailable
from read_model.lease import AbstractLease, SoleWriter
from read_model.leased_loop import LeasedLoop
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord
from write_model.event_schemas import schema_id
from write_model.events import EVENT_TYPES

logger = logging.getLogger(__name__)

KIND = "relay"
SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
HEADER_NAMES_BYTES = sum(
    len(name)
    for name in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_dataschema",
                 "content-type", "ce_outboxposition", "ce_aggregatetype", "ce_aggregateversion")
)  # fmt: skip
# How often an idle relay refreshes its report, and how often a busy one does at most: measuring the lag is a
# range scan of the outbox, which far behind would cost as much as the batch.
REPORT_EVERY_SECONDS = 5.0
REPORT_BUSY_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class Message:
    """One record as it goes on the wire."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    record: OutboxRecord
    size: int  # bytes of its value, key and headers: about what the broker's `max.message.bytes` measures

    def header(self, name: str) -> str:
        return next(value.decode() for key, value in self.headers if key == name)


class Sending:
    """Messages handed to the bus and not confirmed yet (each bus keeps what it needs in its own subclass)."""

    def __init__(self, messages: Sequence[Message]) -> None:
        self.messages = list(messages)


@dataclass(frozen=True)
class Refused:
    """A message the broker refused for its own reasons (too large): sending it again will not help."""

    message: Message
    reason: str


def topic_of(aggregate_type: str, prefix: str) -> str:
    return f"{prefix}{aggregate_type.lower()}"


def all_topics(prefix: str) -> list[str]:
    """Every topic the relay writes: one per aggregate type of the event contract."""
    return sorted({topic_of(cls.AGGREGATE, prefix) for cls in EVENT_TYPES.values()})


def cloud_event(record: OutboxRecord, *, topic_prefix: str, source: str) -> Message:
    """The Kafka record of an outbox record: CloudEvents 1.0, binary mode."""
    aggregate = record.aggregate_type.lower()
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": f"{record.aggregate_id}:{record.aggregate_version}",
        "ce_source": source,
        "ce_type": f"twofold.{aggregate}.{record.event_type}",
        "ce_subject": str(record.aggregate_id),
        "ce_time": record.occurred_at.isoformat(),
        "ce_dataschema": schema_id(record.event_type, int(record.payload.get("schema_version", 1))),
        "content-type": CONTENT_TYPE,
        "ce_outboxposition": f"{record.transaction_id}:{record.position}",
        "ce_aggregatetype": aggregate,
        "ce_aggregateversion": str(record.aggregate_version),
    }
    encoded = [(name, value.encode()) for name, value in headers.items()]
    key = str(record.aggregate_id).encode()
    # The payload's keys in the order PostgreSQL's jsonb keeps them: the same bytes on every replay. orjson
    # writes the bytes the standard library's compact, unescaped UTF-8 JSON would, in a twentieth of its time.
    value = orjson.dumps(record.payload)
    return Message(
        topic=topic_of(record.aggregate_type, topic_prefix),
        key=key,
        value=value,
        headers=encoded,
        record=record,
        size=len(value) + len(key) + HEADER_NAMES_BYTES + sum(len(header) for _, header in encoded),
    )


class AbstractEventBus(abc.ABC):
    """Where the relay publishes: topics of partitioned, keyed records (Apache Kafka)."""

    @abc.abstractmethod
    def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create the topics that do not exist yet; raises `BusUnavailable` when the broker cannot be reached."""

    @abc.abstractmethod
    def send(self, messages: Sequence[Message]) -> Sending:
        """Start sending `messages`, in order, without waiting for the broker: `confirm` waits. Raises
        `BusUnavailable` when they cannot even be handed to the client."""

    @abc.abstractmethod
    def confirm(self, sending: Sending) -> list[Refused]:
        """Return once the broker acknowledged every message of `sending` it accepted: the ones it refused for
        their own reasons (too large). Raises `BusUnavailable` when some could not be delivered (the broker is
        down or slow): the caller sends them again, from its checkpoint. Sendings are confirmed in order."""

    def publish(self, messages: Sequence[Message]) -> list[Refused]:
        """Send and wait: the refused ones."""
        return self.confirm(self.send(messages))

    @abc.abstractmethod
    def close(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class RelayOptions:
    topic_prefix: str = "twofold."
    source: str = "/twofold"
    batch_size: int = 500
    poll_seconds: float = 1.0
    standby_poll_seconds: float = 1.0


class Relay:
    def __init__(
        self,
        *,
        name: str,
        reader: AbstractOutboxReader,
        checkpoints: AbstractCheckpointStore,
        bus: AbstractEventBus,
        dead_letters: AbstractDeadLetters,
        reports: AbstractConsumerReports,
        clock: Callable[[], datetime],
        lease: AbstractLease | None = None,
        options: RelayOptions = RelayOptions(),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._reader = reader
        self._checkpoints = checkpoints
        self._bus = bus
        self._dead_letters = dead_letters
        self._reports = reports
        self._clock = clock
        self._lease = lease or SoleWriter()
        self._options = options
        self._monotonic = monotonic
        self._reported_at = float("-inf")
        # Pipelining: how far the relay has sent, and the last batch sent and not confirmed yet.
        self._sent_up_to: Checkpoint | None = None
        self._in_flight: tuple[Sending, Checkpoint] | None = None
        self._loop = LeasedLoop(
            self._lease,
            name="relay",
            pause_on=(OutboxUnavailable, BusUnavailable),
            standby_poll_seconds=options.standby_poll_seconds,
        )

    @property
    def active(self) -> bool:
        return self._loop.active

    def prepare(self) -> None:
        """Create the topics, and report where the relay stands."""
        self._bus.ensure_topics(all_topics(self._options.topic_prefix))
        self.report()

    def run_once(self) -> int:
        """Send the next batch, then confirm the batch sent by the round before and store the checkpoint past
        it: the broker acknowledges one batch while the next is read and made. A round that reads nothing
        confirms what is in flight, so an idle relay has nothing unconfirmed. The records read."""
        try:
            with self._lease.round():
                if self._sent_up_to is None:
                    self._sent_up_to = self._checkpoints.load(self.name)
                records = self._reader.read_after(self._sent_up_to, self._options.batch_size)
                sending = None
                if records:
                    sending = self._bus.send(
                        [
                            cloud_event(record, topic_prefix=self._options.topic_prefix, source=self._options.source)
                            for record in self._in_version_order(records)
                        ]
                    )
                if self._in_flight is not None:
                    self._settle(*self._in_flight)
                    self._in_flight = None
                if sending is not None:
                    self._in_flight = (sending, records[-1].checkpoint)
                    self._sent_up_to = records[-1].checkpoint
                    if len(records) < self._options.batch_size:  # caught up: confirm now, not after an idle wait
                        self._settle(*self._in_flight)
                        self._in_flight = None
                since = self._monotonic() - self._reported_at
                if since >= REPORT_EVERY_SECONDS or (records and since >= REPORT_BUSY_EVERY_SECONDS):
                    self.report()
        except BaseException:
            # Whatever was sent and not confirmed is sent again, from the stored checkpoint.
            self._sent_up_to, self._in_flight = None, None
            raise
        return len(records)

    def _settle(self, sending: Sending, checkpoint: Checkpoint) -> None:
        for refused in self._bus.confirm(sending):
            record = refused.message.record
            logger.error("relay parks %s at %s: %s", record.event_type, record.checkpoint, refused.reason)
            self._dead_letters.park(self.name, record, refused.reason, attempts=1)
        self._checkpoints.save(self.name, checkpoint)

    def _in_version_order(self, records: list[OutboxRecord]) -> list[OutboxRecord]:
        """The batch, each aggregate's records in version order, with the versions below its highest one in the
        batch that commit order put after the batch (`read_overtaken`). An aggregate's versions are committed
        one after the other (its row is locked), but commit order sorts by transaction id, which a transaction
        takes at its first write: so version 6 may sort before version 5. Those pulled forward are published
        again in their turn, as a replay's would be: consumers dedupe on `ce_id`."""
        batch: dict[UUID, list[OutboxRecord]] = {}
        for record in records:
            batch.setdefault(record.aggregate_id, []).append(record)
        # An aggregate whose versions in the batch run from 1 has none below them: no need to look.
        highest: dict[UUID, int] = {}
        for aggregate_id, group in batch.items():
            if len(group) == 1:
                if group[0].aggregate_version > 1:
                    highest[aggregate_id] = group[0].aggregate_version
            elif {record.aggregate_version for record in group} != set(range(1, len(group) + 1)):
                highest[aggregate_id] = max(record.aggregate_version for record in group)
        overtaken = self._reader.read_overtaken(records[-1].checkpoint, highest) if highest else []
        if not overtaken and len(batch) == len(records):
            return records  # one record per aggregate and nothing overtaken: commit order is version order
        for record in overtaken:
            batch[record.aggregate_id].append(record)
        return [record for group in batch.values() for record in sorted(group, key=lambda r: r.aggregate_version)]

    def run_until_caught_up(self) -> int:
        total = 0
        while read := self.run_once():
            total += read
        return total

    def run_forever(self, stop: threading.Event) -> None:
        """Publish until `stop` is set, while this process holds the relay's lease, riding out outages of
        PostgreSQL or the broker with the projector's backoff (read_model/leased_loop.py)."""
        logger.info("relay %s running: topics %s", self.name, ", ".join(all_topics(self._options.topic_prefix)))
        self._loop.run_forever(stop, prepare=self.prepare, run_round=self.run_once, idle=self._idle)

    def measure(self) -> ConsumerState:
        checkpoint = self._checkpoints.load(self.name)
        lag_events, lag_seconds = self._reader.backlog(checkpoint)
        return ConsumerState(
            name=self.name,
            kind=KIND,
            checkpoint=checkpoint,
            lag_events=lag_events,
            lag_seconds=round(lag_seconds, 3),
            dead_letters=self._dead_letters.count_open(self.name),
            pending=0,
            overdue=0,
            updated_at=self._clock(),
        )

    def report(self) -> ConsumerState:
        state = self.measure()
        self._reports.report(state)
        self._reported_at = self._monotonic()
        return state

    def _idle(self) -> None:
        self._reader.wait_for_new_events(self._options.poll_seconds)
        if self._monotonic() - self._reported_at >= REPORT_EVERY_SECONDS:
            self.report()
