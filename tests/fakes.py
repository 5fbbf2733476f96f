"""In-memory fakes of the project's own ports, for unit tests."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime

from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.indexes import IndexDefinition
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord
from read_model.projections import Document
from write_model.domain.errors import DuplicateSku
from write_model.domain.products import Product
from write_model.events import Event, encode_payload, event_type
from write_model.outbox import CommandContext, OutboxPosition
from write_model.unit_of_work import AbstractProductRepository, AbstractUnitOfWork


class FakeStore:
    """The 'database' the fake units of work share: committed products and outbox records."""

    def __init__(self) -> None:
        self.products: dict[str, Product] = {}
        self.outbox: list[OutboxRecord] = []
        self._transactions = itertools.count(1000)

    def next_transaction_id(self) -> int:
        return next(self._transactions)


class FakeProductRepository(AbstractProductRepository):
    def __init__(self, store: FakeStore, staged: dict[str, Product]) -> None:
        super().__init__()
        self._store = store
        self._staged = staged

    def _add(self, product: Product) -> None:
        if product.sku in self._store.products or product.sku in self._staged:
            raise DuplicateSku(product.sku)
        self._staged[product.sku] = product


class FakeUnitOfWork(AbstractUnitOfWork):
    def __init__(self, store: FakeStore, context: CommandContext) -> None:
        self._store = store
        self._context = context
        self._staged: dict[str, Product] = {}
        self.products = FakeProductRepository(store, self._staged)
        self.committed = False

    def _commit(self, events: list[tuple[Event, int]]) -> OutboxPosition:
        transaction_id = self._store.next_transaction_id()
        self._store.products.update(self._staged)
        for event, version in events:
            self._store.outbox.append(
                OutboxRecord(
                    transaction_id=transaction_id,
                    position=len(self._store.outbox) + 1,
                    aggregate_type=event.AGGREGATE,
                    aggregate_id=event.aggregate_id,
                    aggregate_version=version,
                    event_type=event_type(event),
                    payload=encode_payload(event),
                    metadata={"actor": self._context.actor, "correlation_id": self._context.correlation_id},
                    occurred_at=datetime.now(UTC),
                )
            )
        self._staged.clear()
        self.committed = True
        last = self._store.outbox[-1]
        return OutboxPosition(last.transaction_id, last.position)

    def rollback(self) -> None:
        self._staged.clear()


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
