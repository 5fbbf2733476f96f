"""Applying a batch of outbox records to one projection: fold them into its documents, write those with
external versions, and fold again onto any document another writer changed meanwhile.

Used by the projector's rounds and by a rebuild alike; what to do when a record fails is theirs to decide
(read_model/poison.py for the projector).
"""

from __future__ import annotations

import logging

from read_model.dead_letters import describe
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import ReadModelError, SearchUnavailable
from read_model.outbox import AbstractOutboxReader, OutboxRecord
from read_model.projections import Document, EarlierEventsFirst, Projection

logger = logging.getLogger(__name__)

# How many times a batch's documents are folded again onto documents another writer changed meanwhile.
MAX_REBASES = 10
# How deep earlier events may depend on earlier events still (an order's on its customer's registration).
MAX_GAP_DEPTH = 8


class RecordFailed(ReadModelError):
    """Applying `record` failed for the record's own reasons: the projection refused it, or could not tell
    which document it belongs to."""

    def __init__(self, record: OutboxRecord, error: BaseException) -> None:
        super().__init__(f"{record.event_type} at {record.checkpoint}: {describe(error)}")
        self.record = record
        self.error = error


class BatchApplier:
    def __init__(self, store: AbstractDocumentStore, reader: AbstractOutboxReader) -> None:
        self._store = store
        self._reader = reader

    def apply(self, projection: Projection, records: list[OutboxRecord]) -> list[VersionedDocument]:
        """Fold `records` (all handled by `projection`, in commit order) into their documents and write the
        ones that changed; returns those documents, acknowledged but not yet searchable.

        A record whose aggregate's earlier versions are not applied yet (their transaction took its id
        later: `EarlierEventsFirst`) gets them read from the outbox and applied first. A document another
        writer changed meanwhile (a 409) is kept as it is when the projection's versions are its
        aggregate's; otherwise `records` are folded again into the newer document (they are recognised
        where already applied) and written again.

        Raises `RecordFailed` for a record the projection refuses, `DocumentsRejected` for documents
        Elasticsearch refuses, and `SearchUnavailable` when the store fails or the documents keep changing.
        """
        written = documents = self._fold(projection, records)
        for _ in range(MAX_REBASES):
            if not documents:
                return written
            conflicts = self._store.write_many(projection.index, documents)
            if not conflicts or not projection.rebase_on_conflict:
                return written
            documents = self._fold(projection, [r for r in records if _document_id(projection, r) in conflicts])
        raise SearchUnavailable(f"{projection.name}: documents kept changing under this projector; will retry")

    def _fold(self, projection: Projection, records: list[OutboxRecord]) -> list[VersionedDocument]:
        if not records:
            return []
        fold = _Fold(projection, self._store, [_document_id(projection, record) for record in records])
        for record in records:
            self._apply(fold, record, depth=0)
        return fold.changed_documents()

    def _apply(self, fold: _Fold, record: OutboxRecord, *, depth: int) -> None:
        """Apply `record` to its document, and first the earlier events it needs (read from the outbox)."""
        projection = fold.projection
        doc_id = _document_id(projection, record)
        try:
            try:
                applied = projection.apply(fold.document(doc_id), record)
            except EarlierEventsFirst as gap:
                applied = self._fill_gap(fold, record, doc_id, gap, depth=depth)
        except RecordFailed:
            raise
        except Exception as error:  # the projection refused the record: the record's fault, not ours
            raise RecordFailed(record, error) from error
        if applied is not None:  # None: already applied, as a replay or a duplicate is
            fold.change(doc_id, applied)

    def _fill_gap(
        self, fold: _Fold, record: OutboxRecord, doc_id: str, gap: EarlierEventsFirst, *, depth: int
    ) -> Document | None:
        """`record` applied after the earlier events `gap` names, read from the outbox."""
        earlier = self._reader.read_versions(gap.aggregate_id, gap.first, gap.last)
        if len(earlier) < gap.last - gap.first + 1 or depth >= MAX_GAP_DEPTH:
            raise gap  # the outbox lacks them: the record's own fault
        try:
            for needed in earlier:
                if fold.projection.handles(needed):
                    self._apply(fold, needed, depth=depth + 1)
        except RecordFailed as refused:
            if gap.over_gap is None:  # `record` is what cannot be applied: it is parked, not the earlier event
                raise RecordFailed(record, refused) from refused
            logger.warning("%s applied without an earlier event, refused for its own reasons: %s", record, refused)
            return gap.over_gap(fold.document(doc_id))
        return fold.projection.apply(fold.document(doc_id), record)  # once: what the gap named is applied


class _Fold:
    """The documents one fold works on: read from the store once each, changed in memory."""

    def __init__(self, projection: Projection, store: AbstractDocumentStore, ids: list[str]) -> None:
        self.projection = projection
        self._store = store
        self._fetched = set(ids)
        self._current: dict[str, Document] = store.get_many(projection.index, list(dict.fromkeys(ids)))
        self._changed: dict[str, None] = {}  # in the order they first changed

    def document(self, doc_id: str) -> Document | None:
        if doc_id not in self._fetched:  # a document only an earlier event reaches
            self._fetched.add(doc_id)
            self._current.update(self._store.get_many(self.projection.index, [doc_id]))
        return self._current.get(doc_id)

    def change(self, doc_id: str, document: Document) -> None:
        self._current[doc_id] = document
        self._changed[doc_id] = None

    def changed_documents(self) -> list[VersionedDocument]:
        return [
            VersionedDocument(doc_id, self.projection.version_of(self._current[doc_id]), self._current[doc_id])
            for doc_id in self._changed
        ]


def _document_id(projection: Projection, record: OutboxRecord) -> str:
    try:
        return projection.document_id(record)
    except Exception as error:  # a payload without what the projection needs
        raise RecordFailed(record, error) from error
