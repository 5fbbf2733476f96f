"""Applying a batch of outbox records to one projection: fold them into its documents, write those with
external versions, and fold again onto any document another writer changed meanwhile.

Used by the projector's rounds and by a rebuild alike; what to do when a record fails is theirs to decide
(read_model/poison.py for the projector).
"""

from __future__ import annotations

from read_model.dead_letters import describe
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import ReadModelError, SearchUnavailable
from read_model.outbox import OutboxRecord
from read_model.projections import Document, Projection

# How many times a batch's documents are folded again onto documents another writer changed meanwhile.
MAX_REBASES = 10


class RecordFailed(ReadModelError):
    """Applying `record` failed for the record's own reasons: the projection refused it, or could not tell
    which document it belongs to."""

    def __init__(self, record: OutboxRecord, error: BaseException) -> None:
        super().__init__(f"{record.event_type} at {record.checkpoint}: {describe(error)}")
        self.record = record
        self.error = error


class BatchApplier:
    def __init__(self, store: AbstractDocumentStore) -> None:
        self._store = store

    def apply(self, projection: Projection, records: list[OutboxRecord]) -> list[VersionedDocument]:
        """Fold `records` (all handled by `projection`, in commit order) into their documents and write the
        ones that changed; returns those documents, acknowledged but not yet searchable.

        A document another writer changed meanwhile (a 409) is kept as it is when the projection's versions
        are its aggregate's; otherwise `records` are folded again into the newer document (they are
        recognised where already applied) and written again.

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
        targets = [(record, _document_id(projection, record)) for record in records]
        ids = list(dict.fromkeys(doc_id for _, doc_id in targets))
        current: dict[str, Document] = self._store.get_many(projection.index, ids)
        changed: set[str] = set()
        for record, doc_id in targets:
            try:
                applied = projection.apply(current.get(doc_id), record)
            except Exception as error:  # the projection refused the record: the record's fault, not ours
                raise RecordFailed(record, error) from error
            if applied is None:
                continue  # already applied: a replay or a duplicate
            current[doc_id] = applied
            changed.add(doc_id)
        return [
            VersionedDocument(doc_id, projection.version_of(current[doc_id]), current[doc_id])
            for doc_id in ids
            if doc_id in changed
        ]


def _document_id(projection: Projection, record: OutboxRecord) -> str:
    try:
        return projection.document_id(record)
    except Exception as error:  # a payload without what the projection needs
        raise RecordFailed(record, error) from error
