"""In-memory fakes of the project's own ports, for unit tests."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from api.bootstrap import command_handlers
from read_model.checkpoint import ORIGIN, Checkpoint, ProjectionState
from read_model.consistency import AbstractPublishedProgress
from read_model.consumers import AbstractConsumerReports, ConsumerState
from read_model.dead_letters import OPEN, AbstractDeadLetters, DeadLetter, LetterStatus, OpenLetters
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import BusUnavailable, DocumentsRejected, OutboxUnavailable
from read_model.indexes import IndexDefinition
from read_model.lease import AbstractLease
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord
from read_model.projections import Document
from read_model.relay import AbstractEventBus, Message, Refused, Sending
from read_model.search.customers import AbstractCustomerLookup
from read_model.search.events import AbstractEventSearch, EventPage
from read_model.views import CustomerView, EventView
from write_model.bus import CommandBus
from write_model.domain.aggregate import Aggregate
from write_model.domain.customers import Customer
from write_model.domain.errors import DuplicateEmail, DuplicateSku
from write_model.domain.orders import Order
from write_model.domain.products import Product
from write_model.events import Event, encode_payload, event_type
from write_model.expiry import AbstractPaymentDeadlines, DeadlineChanges, DeadlineSummary
from write_model.outbox import CommandContext, OutboxPosition
from write_model.results import Changed
from write_model.unit_of_work import (
    AbstractCustomerRepository,
    AbstractIdempotencyKeys,
    AbstractOrderRepository,
    AbstractProductRepository,
    AbstractRepository,
    AbstractUnitOfWork,
    StoredOutcome,
)

A = TypeVar("A", bound=Aggregate)


class FakeMonotonic:
    """A monotonic clock that moves only when a test sets `now`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeStore:
    """The 'database' the fake units of work share: committed aggregates, outbox records, idempotency keys."""

    def __init__(self) -> None:
        self.products: dict[UUID, Product] = {}
        self.customers: dict[UUID, Customer] = {}
        self.orders: dict[UUID, Order] = {}
        self.outbox: list[OutboxRecord] = []
        self.idempotency_keys: dict[tuple[str, str], StoredOutcome] = {}
        self._transactions = itertools.count(1000)

    def next_transaction_id(self) -> int:
        return next(self._transactions)


class _FakeRepository(AbstractRepository[A]):
    """Hands out copies of the committed aggregates, so that a rolled-back unit of work changes nothing."""

    def __init__(self, committed: dict[UUID, A], unique: Callable[[A], str | None] = lambda _: None) -> None:
        super().__init__()
        self._committed = committed
        self._unique = unique

    def _add(self, aggregate: A) -> None:
        key = self._unique(aggregate)
        taken = {self._unique(other) for other in [*self._committed.values(), *self.seen]}
        if key is not None and key in taken:
            raise self._duplicate(aggregate)
        if aggregate.id in self._committed:
            raise ValueError(f"{aggregate.id} exists")

    def _duplicate(self, aggregate: A) -> Exception:
        raise NotImplementedError

    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, A]:
        return {id: copy.deepcopy(self._committed[id]) for id in ids if id in self._committed}

    def _update_all(self, changes: list[tuple[A, int]]) -> None:
        for aggregate, stored in changes:
            # A new aggregate is committed only at `apply`; its first write is checked by `_add`.
            if aggregate.id in self._committed:
                assert self._committed[aggregate.id].version == stored
            others = [other for other in [*self._committed.values(), *self.seen] if other.id != aggregate.id]
            key = self._unique(aggregate)
            if key is not None and key in {self._unique(other) for other in others}:
                raise self._duplicate(aggregate)

    def apply(self) -> None:
        for aggregate in self.seen:
            stored = copy.copy(aggregate)
            stored.pending_events = []
            self._committed[aggregate.id] = stored


class FakeProductRepository(_FakeRepository[Product], AbstractProductRepository):
    def _duplicate(self, aggregate: Product) -> Exception:
        return DuplicateSku(aggregate.sku)


class FakeCustomerRepository(_FakeRepository[Customer], AbstractCustomerRepository):
    def _duplicate(self, aggregate: Customer) -> Exception:
        return DuplicateEmail(aggregate.email)


class FakeOrderRepository(_FakeRepository[Order], AbstractOrderRepository):
    pass


class FakeIdempotencyKeys(AbstractIdempotencyKeys):
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.claimed: tuple[str, str, str] | None = None
        self.completed: StoredOutcome | None = None

    def claim(self, actor: str, key: str, fingerprint: str) -> StoredOutcome | None:
        stored = self._store.idempotency_keys.get((actor, key))
        if stored is None:
            self.claimed = (actor, key, fingerprint)
        return stored

    def complete(self, actor: str, key: str, changed: Changed) -> None:
        assert self.claimed is not None
        assert self.claimed[:2] == (actor, key)
        self.completed = StoredOutcome(self.claimed[2], changed)


class FakeUnitOfWork(AbstractUnitOfWork):
    def __init__(self, store: FakeStore, context: CommandContext) -> None:
        self._store = store
        self.context = context
        self.products = FakeProductRepository(store.products, unique=lambda p: p.sku)
        self.customers = FakeCustomerRepository(store.customers, unique=lambda c: c.email)
        self.orders = FakeOrderRepository(store.orders)
        self.idempotency_keys = FakeIdempotencyKeys(store)
        self._pending_records: list[OutboxRecord] = []
        self.committed = False

    def _write_events(self, events: list[tuple[Event, int]]) -> OutboxPosition:
        transaction_id = self._store.next_transaction_id()
        for event, version in events:
            if any(r.aggregate_id == event.aggregate_id and r.aggregate_version == version for r in self._store.outbox):
                raise AssertionError(f"{event.aggregate_id} version {version} recorded twice")
            self._pending_records.append(
                OutboxRecord(
                    transaction_id=transaction_id,
                    position=len(self._store.outbox) + len(self._pending_records) + 1,
                    aggregate_type=event.AGGREGATE,
                    aggregate_id=event.aggregate_id,
                    aggregate_version=version,
                    event_type=event_type(event),
                    payload=encode_payload(event),
                    metadata={"actor": self.context.actor, "request_id": self.context.request_id},
                    occurred_at=datetime.now(UTC),
                )
            )
        last = self._pending_records[-1]
        return OutboxPosition(last.transaction_id, last.position)

    def _position_of(self, aggregate_id: UUID, version: int) -> OutboxPosition:
        (record,) = (r for r in self._store.outbox if r.aggregate_id == aggregate_id and r.aggregate_version == version)
        return OutboxPosition(record.transaction_id, record.position)

    def _commit_transaction(self) -> None:
        for repository in (self.products, self.customers, self.orders):
            repository.apply()
        self._store.outbox.extend(self._pending_records)
        completed = self.idempotency_keys.completed
        if completed is not None and self.idempotency_keys.claimed is not None:
            actor, key, _ = self.idempotency_keys.claimed
            self._store.idempotency_keys[(actor, key)] = completed
        self._pending_records = []
        self.committed = True

    def rollback(self) -> None:
        self._pending_records = []


class FakeOutboxReader(AbstractOutboxReader):
    """Serves records in commit order, but only those the test has marked committed."""

    def __init__(self, records: list[OutboxRecord] | None = None) -> None:
        self.records = list(records or [])

    def read_after(self, checkpoint: Checkpoint, limit: int) -> list[OutboxRecord]:
        ordered = sorted(self.records, key=lambda r: r.checkpoint)
        return [r for r in ordered if r.checkpoint > checkpoint][:limit]

    def backlog(self, checkpoint: Checkpoint) -> tuple[int, float]:
        behind = [r for r in self.records if r.checkpoint > checkpoint]
        oldest = min((r.occurred_at for r in behind), default=None)
        return len(behind), 0.0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds()

    def read_at(self, checkpoints: list[Checkpoint]) -> list[OutboxRecord]:
        wanted = set(checkpoints)
        return sorted(
            {r.checkpoint: r for r in self.records if r.checkpoint in wanted}.values(), key=lambda r: r.checkpoint
        )

    def read_versions(self, aggregate_id: UUID, first: int, last: int) -> list[OutboxRecord]:
        return sorted(
            (r for r in self.records if r.aggregate_id == aggregate_id and first <= r.aggregate_version <= last),
            key=lambda r: r.aggregate_version,
        )

    def read_newest(self, aggregate_ids: list[UUID], event_types: frozenset[str]) -> list[OutboxRecord]:
        newest: dict[UUID, OutboxRecord] = {}
        for record in self.records:
            if record.aggregate_id in aggregate_ids and record.event_type in event_types:
                known = newest.get(record.aggregate_id)
                if known is None or known.aggregate_version < record.aggregate_version:
                    newest[record.aggregate_id] = record
        return list(newest.values())

    def read_overtaken(self, after: Checkpoint, below: dict[UUID, int]) -> list[OutboxRecord]:
        return sorted(
            (r for r in self.records if r.aggregate_id in below and r.aggregate_version < below[r.aggregate_id]
             and r.checkpoint > after),
            key=lambda r: (str(r.aggregate_id), r.aggregate_version),
        )  # fmt: skip

    def wait_for_new_events(self, timeout: float) -> None:
        return None


class FakeDeadLetters(AbstractDeadLetters):
    def __init__(self) -> None:
        self.rows: dict[tuple[str, Checkpoint], DeadLetter] = {}
        self._ids = itertools.count(1)

    def park(self, projection: str, record: OutboxRecord, error: str, attempts: int) -> None:
        key = (projection, record.checkpoint)
        previous = self.rows.get(key)
        now = datetime.now(UTC)
        self.rows[key] = DeadLetter(
            id=previous.id if previous else next(self._ids),
            projection=projection,
            checkpoint=record.checkpoint,
            aggregate_type=record.aggregate_type,
            aggregate_id=record.aggregate_id,
            event_type=record.event_type,
            error=error,
            attempts=(previous.attempts if previous else 0) + attempts,
            status=LetterStatus.PARKED,
            parked_at=previous.parked_at if previous else now,
            updated_at=now,
        )

    def summary(self, projections: list[str]) -> dict[str, OpenLetters]:
        summary = {}
        for projection in projections:
            mine = [letter for letter in self._open() if letter.projection == projection]
            summary[projection] = OpenLetters(
                blocked=frozenset(letter.aggregate_id for letter in mine),
                due=frozenset(letter.aggregate_id for letter in mine if letter.status == LetterStatus.RETRY),
                count=len(mine),
            )
        return summary

    def open_letters(self, projection: str, aggregate_ids: set[UUID]) -> list[DeadLetter]:
        return sorted(
            (
                letter
                for letter in self._open()
                if letter.projection == projection and letter.aggregate_id in aggregate_ids
            ),
            key=lambda letter: letter.checkpoint,
        )

    def resolve(self, letter_ids: list[int]) -> None:
        self._set(lambda letter: letter.id in letter_ids, LetterStatus.RESOLVED)

    def letters(self, *, projection: str | None = None, include_closed: bool = False) -> list[DeadLetter]:
        chosen = self.rows.values() if include_closed else self._open()
        return sorted(
            (letter for letter in chosen if projection in (None, letter.projection)),
            key=lambda letter: letter.checkpoint,
        )

    def retry(self, letter_ids: list[int] | None) -> int:
        groups = {
            (letter.projection, letter.aggregate_id)
            for letter in self._open()
            if letter_ids is None or letter.id in letter_ids
        }
        return self._set(
            lambda letter: letter.status in OPEN and (letter.projection, letter.aggregate_id) in groups,
            LetterStatus.RETRY,
        )

    def skip(self, letter_ids: list[int] | None) -> int:
        return self._set(
            lambda letter: letter.status in OPEN and (letter_ids is None or letter.id in letter_ids),
            LetterStatus.SKIPPED,
        )

    def _open(self) -> list[DeadLetter]:
        return [letter for letter in self.rows.values() if letter.status in OPEN]

    def _set(self, chosen: Callable[[DeadLetter], bool], status: LetterStatus) -> int:
        keys = [key for key, letter in self.rows.items() if chosen(letter)]
        for key in keys:
            self.rows[key] = dataclasses.replace(self.rows[key], status=status)
        return len(keys)


class FakeCheckpointStore(AbstractCheckpointStore):
    def __init__(self) -> None:
        self.saved: dict[str, Checkpoint] = {}

    def load_many(self, names: list[str]) -> dict[str, Checkpoint]:
        return {name: self.saved.get(name, ORIGIN) for name in names}

    def save_many(self, checkpoints: dict[str, Checkpoint]) -> None:
        self.saved.update(checkpoints)


class FakeDocumentStore(AbstractDocumentStore):
    """Behaves like Elasticsearch with external versions: a write at or below the stored version is ignored,
    and a document with a field its index's strict mapping does not name is rejected (as is any document
    `reject` gives a reason for)."""

    def __init__(self) -> None:
        self.indexes: dict[str, dict[str, Document]] = {}
        # What a search would find: the documents as the last `make_searchable` of their index saw them.
        self.searchable: dict[str, dict[str, Document]] = {}
        self.published: dict[str, Checkpoint] = {}
        self.states: dict[str, ProjectionState] = {}
        self.consumers: dict[str, ConsumerState] = {}
        self.writes = 0
        self.reject: Callable[[Document], str | None] = lambda source: None
        self._version: dict[str, dict[str, int]] = {}

    def ensure_index(self, definition: IndexDefinition) -> None:
        self.indexes.setdefault(definition.name, {})
        self._version.setdefault(definition.name, {})

    def get_many(self, definition: IndexDefinition, ids: list[str]) -> dict[str, Document]:
        index = self.indexes[definition.name]
        return {doc_id: copy.deepcopy(index[doc_id]) for doc_id in ids if doc_id in index}

    def write_many(self, definition: IndexDefinition, documents: list[VersionedDocument]) -> set[str]:
        index = self.indexes[definition.name]
        conflicts: set[str] = set()
        rejected = {
            d.id: reason
            for d in documents
            if (reason := self.reject(d.source) or _refused_by_mapping(definition, d.source)) is not None
        }
        for document in documents:
            if document.id in rejected:
                continue
            self.writes += 1
            current = index.get(document.id)
            if current is None or self._version[definition.name][document.id] < document.version:
                index[document.id] = copy.deepcopy(document.source)
                self._version[definition.name][document.id] = document.version
            else:
                conflicts.add(document.id)
        if rejected:
            raise DocumentsRejected(definition.name, rejected)
        return conflicts

    def carrying(
        self, definition: IndexDefinition, field: str, id: str, *, below: int, after: str | None, size: int
    ) -> list[tuple[str, Document]]:
        found = sorted(
            (
                (doc_id, copy.deepcopy(document))
                for doc_id, document in self.searchable.get(definition.name, {}).items()
                if document[field]["id"] == id and document[field]["version"] < below
            ),
            key=lambda hit: hit[1]["id"],
        )
        return [hit for hit in found if after is None or hit[1]["id"] > after][:size]

    def make_searchable(self, definitions: Sequence[IndexDefinition]) -> None:
        for definition in definitions:
            self.searchable[definition.name] = copy.deepcopy(self.indexes[definition.name])

    def publish_status(self, states: Sequence[ProjectionState]) -> None:
        for state in states:
            self.published[state.name] = state.checkpoint
            self.states[state.name] = state

    def publish_consumers(self, states: Sequence[ConsumerState]) -> None:
        for state in states:
            self.consumers[state.name] = state


class FakeLeaseHolder:
    """Who holds a group's lease: what the PostgreSQL server knows of an advisory lock."""

    def __init__(self) -> None:
        self.holder: FakeLease | None = None


class FakeLease(AbstractLease):
    """One process's lease in a group of processes sharing `holder`. `lose` is its connection dropping."""

    def __init__(self, holder: FakeLeaseHolder) -> None:
        self._group = holder
        self.rounds = 0

    def acquire(self) -> bool:
        if self._group.holder is None:
            self._group.holder = self
        return self._group.holder is self

    def release(self) -> None:
        if self._group.holder is self:
            self._group.holder = None

    @contextlib.contextmanager
    def round(self) -> Iterator[None]:
        if self._group.holder is not self:
            raise OutboxUnavailable("cannot open the batch gate: the lease's connection is gone")
        self.rounds += 1
        yield

    def lose(self) -> None:
        self.release()


class FakeCustomerLookup(AbstractCustomerLookup):
    """Customers by id, as the test put them in `customers`."""

    def __init__(self) -> None:
        self.customers: dict[str, CustomerView] = {}

    async def get(self, customer_id: str) -> CustomerView | None:
        return self.customers.get(customer_id)


class FakePublishedProgress(AbstractPublishedProgress):
    """Each projection's published position, as the test set it in `positions` (the origin until then)."""

    def __init__(self) -> None:
        self.positions: dict[str, Checkpoint] = {}
        self.reads = 0
        # Raised by the next reads of `published`, one each, for tests of outages and faults.
        self.failures: list[Exception] = []

    async def applied(self, projection: str) -> Checkpoint:
        return self.positions.get(projection, ORIGIN)

    async def published(self, projections: Sequence[str]) -> dict[str, Checkpoint]:
        self.reads += 1
        if self.failures:
            raise self.failures.pop(0)
        return {name: self.positions.get(name, ORIGIN) for name in projections}


class FakeEventSearch(AbstractEventSearch):
    """The audit trail's events as the test put them in `events` (any order); `searches` counts reads."""

    def __init__(self) -> None:
        self.events: list[EventView] = []
        self.searches = 0

    async def after(
        self,
        start: Checkpoint,
        end: Checkpoint,
        *,
        size: int,
        aggregate_id: str | None = None,
        types: tuple[str, ...] = (),
    ) -> list[EventView]:
        self.searches += 1
        chosen = [
            event
            for event in self.events
            if start < Checkpoint(event.transaction_id, event.position) <= end
            and (aggregate_id is None or str(event.aggregate_id) == aggregate_id)
            and (not types or event.type in types)
        ]
        chosen.sort(key=lambda event: (event.transaction_id, event.position))
        return chosen[: max(size, 0)]

    async def search(
        self, *, aggregate_id: str | None, types: tuple[str, ...], size: int, search_after: list[Any] | None
    ) -> EventPage:
        raise NotImplementedError("the audit trail's pages are tested against Elasticsearch")


def _refused_by_mapping(definition: IndexDefinition, source: Document) -> str | None:
    if definition.mappings.get("dynamic") != "strict":
        return None
    unknown = sorted(set(source) - set(definition.mappings["properties"]))
    return f"strict mapping: {unknown[0]} is not allowed" if unknown else None


def fake_command_bus(
    store: FakeStore, *, clock: Callable[[], datetime] = lambda: datetime(2026, 1, 1, tzinfo=UTC), **kwargs: Any
) -> CommandBus:
    """The real command bus and handlers over fake units of work sharing `store`; ids count up from 1."""
    ids = (UUID(int=i) for i in itertools.count(1))
    handlers = command_handlers(clock=clock, new_id=lambda: next(ids))
    return CommandBus(lambda context: FakeUnitOfWork(store, context), handlers, **kwargs)


class FakeConsumerReports(AbstractConsumerReports):
    def __init__(self) -> None:
        self.stored: dict[str, ConsumerState] = {}

    def report(self, state: ConsumerState) -> None:
        self.stored[state.name] = state

    def reports(self, names: list[str]) -> list[ConsumerState]:
        return [self.stored[name] for name in sorted(names) if name in self.stored]


class FakePaymentDeadlines(AbstractPaymentDeadlines):
    """The saga's deadlines and position in memory: what `payment_deadlines` and the checkpoint row hold."""

    def __init__(self) -> None:
        self.at = OutboxPosition(0, 0)
        self.open: dict[UUID, datetime] = {}
        self.attempts: dict[UUID, int] = {}
        self.parked: set[UUID] = set()

    def position(self) -> OutboxPosition:
        return self.at

    def advance(self, changes: DeadlineChanges, to: OutboxPosition) -> None:
        for order_id in changes.closed:
            self._close(order_id)
        for order_id, placed_at in changes.opened.items():
            self.open.setdefault(order_id, placed_at)
        self.at = to

    def due(self, placed_before: datetime, limit: int) -> list[UUID]:
        waiting = sorted(
            (placed_at, order_id) for order_id, placed_at in self.open.items() if order_id not in self.parked
        )
        return [order_id for placed_at, order_id in waiting if placed_at < placed_before][:limit]

    def settle(self, order_ids: Iterable[UUID]) -> None:
        for order_id in order_ids:
            self._close(order_id)

    def fail(self, order_id: UUID, error: str, *, max_attempts: int, now: datetime) -> bool:
        if order_id not in self.open:
            return False
        self.attempts[order_id] = self.attempts.get(order_id, 0) + 1
        if self.attempts[order_id] >= max_attempts:
            self.parked.add(order_id)
            return True
        return False

    def retry_parked(self) -> int:
        count = len(self.parked)
        for order_id in self.parked:
            self.attempts[order_id] = 0
        self.parked.clear()
        return count

    def summary(self, placed_before: datetime) -> DeadlineSummary:
        pending = {order_id: placed_at for order_id, placed_at in self.open.items() if order_id not in self.parked}
        return DeadlineSummary(
            pending=len(pending),
            overdue=sum(placed_at < placed_before for placed_at in pending.values()),
            parked=len(self.parked),
            oldest_placed_at=min(pending.values(), default=None),
        )

    def _close(self, order_id: UUID) -> None:
        self.open.pop(order_id, None)
        self.attempts.pop(order_id, None)
        self.parked.discard(order_id)


class FakeEventBus(AbstractEventBus):
    """Topics of partitions in memory, keyed as Kafka keys them (one key, one partition). A topic may have a
    largest message size, which the broker enforces; `down` makes every call fail as an unreachable broker."""

    def __init__(self, *, partitions: int = 3, max_message_bytes: dict[str, int] | None = None) -> None:
        self.partitions = partitions
        self.max_message_bytes = dict(max_message_bytes or {})
        self.topics: dict[str, list[list[Message]]] = {}
        self.down = False

    def ensure_topics(self, topics: Sequence[str]) -> None:
        if self.down:
            raise BusUnavailable("the broker is down")
        for topic in topics:
            self.topics.setdefault(topic, [[] for _ in range(self.partitions)])

    def send(self, messages: Sequence[Message]) -> Sending:
        if self.down:
            raise BusUnavailable("the broker is down")
        return Sending(messages)

    def confirm(self, sending: Sending) -> list[Refused]:
        if self.down:
            raise BusUnavailable("the broker is down")
        refused = []
        for message in sending.messages:
            if message.size > self.max_message_bytes.get(message.topic, 1_000_000):
                refused.append(Refused(message, "Broker: Message size too large"))
                continue
            partitions = self.topics.setdefault(message.topic, [[] for _ in range(self.partitions)])
            partitions[zlib.crc32(message.key) % self.partitions].append(message)
        return refused

    def close(self) -> None:
        return None

    def messages(self, topic: str) -> list[Message]:
        return [message for partition in self.topics.get(topic, []) for message in partition]
