"""In-memory fakes of the project's own ports, for unit tests."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from api.bootstrap import command_handlers
from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.indexes import IndexDefinition
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord
from read_model.projections import Document
from write_model.bus import CommandBus
from write_model.domain.aggregate import Aggregate
from write_model.domain.customers import Customer
from write_model.domain.errors import DuplicateEmail, DuplicateSku
from write_model.domain.orders import Order
from write_model.domain.products import Product
from write_model.events import Event, encode_payload, event_type
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

    def _update_all(self, aggregates: list[A]) -> None:
        for aggregate in aggregates:
            assert self._committed[aggregate.id].version == aggregate.version - len(aggregate.pending_events)

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
                    metadata={"actor": self.context.actor, "correlation_id": self.context.correlation_id},
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

    def wait_for_new_events(self, timeout: float) -> None:
        return None


class FakeCheckpointStore(AbstractCheckpointStore):
    def __init__(self) -> None:
        self.saved: dict[str, Checkpoint] = {}

    def load(self, name: str) -> Checkpoint:
        return self.saved.get(name, ORIGIN)

    def save(self, name: str, checkpoint: Checkpoint) -> None:
        self.saved[name] = checkpoint


class FakeDocumentStore(AbstractDocumentStore):
    """Behaves like Elasticsearch with external versions: a write at or below the stored version is ignored."""

    def __init__(self) -> None:
        self.indexes: dict[str, dict[str, Document]] = {}
        self.published: dict[str, Checkpoint] = {}
        self.writes = 0

    def ensure_index(self, definition: IndexDefinition) -> None:
        self.indexes.setdefault(definition.name, {})

    def get_many(self, definition: IndexDefinition, ids: list[str]) -> dict[str, Document]:
        index = self.indexes[definition.name]
        return {doc_id: copy.deepcopy(index[doc_id]) for doc_id in ids if doc_id in index}

    def write_many(self, definition: IndexDefinition, documents: list[VersionedDocument]) -> None:
        index = self.indexes[definition.name]
        for document in documents:
            self.writes += 1
            current = index.get(document.id)
            if current is None or current["version"] < document.version:
                index[document.id] = copy.deepcopy(document.source)

    def publish_checkpoint(self, projection: str, checkpoint: Checkpoint) -> None:
        self.published[projection] = checkpoint


def fake_command_bus(store: FakeStore, **kwargs: Any) -> CommandBus:
    """The real command bus and handlers over fake units of work sharing `store`; ids count up from 1."""
    ids = (UUID(int=i) for i in itertools.count(1))
    handlers = command_handlers(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), new_id=lambda: next(ids))
    return CommandBus(lambda context: FakeUnitOfWork(store, context), handlers, **kwargs)
