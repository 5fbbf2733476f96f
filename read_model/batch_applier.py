"""Applying a batch of outbox records to one projection: fold them into its documents, write those with
external versions, fold again onto any document another writer changed meanwhile, and fan another
aggregate's changes out to every document that carries its state.

Used by the projector's rounds and by a rebuild alike; what to do when a record fails is theirs to decide
(read_model/poison.py for the projector).
"""

from __future__ import annotations

import logging
from uuid import UUID

from read_model.dead_letters import describe
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import DocumentsRejected, ReadModelError, SearchUnavailable
from read_model.outbox import AbstractOutboxReader, OutboxRecord
from read_model.projections import Document, EarlierEventsFirst, Embedding, Projection

logger = logging.getLogger(__name__)

# How many times a batch's documents are folded again onto documents another writer changed meanwhile.
MAX_REBASES = 10
# How deep earlier events may depend on earlier events still (an order's on its customer's registration).
MAX_GAP_DEPTH = 8
# How many documents carrying a changed aggregate are read, changed and written at a time, by default.
FAN_OUT_PAGE = 500


class RecordFailed(ReadModelError):
    """Applying `record` failed for the record's own reasons: the projection refused it, or could not tell
    which document it belongs to."""

    def __init__(self, record: OutboxRecord, error: BaseException) -> None:
        super().__init__(f"{record.event_type} at {record.checkpoint}: {describe(error)}")
        self.record = record
        self.error = error


class BatchApplier:
    def __init__(
        self, store: AbstractDocumentStore, reader: AbstractOutboxReader, *, fan_out_page: int = FAN_OUT_PAGE
    ) -> None:
        self._store = store
        self._reader = reader
        self._fan_out_page = fan_out_page

    def apply(self, projection: Projection, records: list[OutboxRecord]) -> int:
        """Fold `records` (all handled by `projection`, in commit order) into their documents and write the
        ones that changed; returns how many were written, acknowledged but not yet searchable.

        A record whose aggregate's earlier versions are not applied yet (their transaction took its id
        later: `EarlierEventsFirst`) gets them read from the outbox and applied first. A document another
        writer changed meanwhile (a 409) is kept as it is when the projection's versions are its
        aggregate's; otherwise `records` are folded again into the newer document (they are recognised
        where already applied) and written again. A record that changes the state the documents embed is
        applied to every document carrying it: those of the batch, then those of the index, a page at a
        time (`_fan_out`); a replay finds only the documents still carrying an older state.

        Raises `RecordFailed` for a record the projection refuses, or whose documents Elasticsearch refuses
        when it fans out; `DocumentsRejected` for the batch's documents Elasticsearch refuses; and
        `SearchUnavailable` when the store fails or the documents keep changing.
        """
        embedding = projection.embedding
        fanned: dict[str, OutboxRecord] = {}  # the newest of the batch's fan-out records, by carried aggregate
        own = []
        for record in records:
            if embedding is None or not embedding.fans_out(record):
                own.append(record)
            elif (key := str(record.aggregate_id)) not in fanned or fanned[
                key
            ].aggregate_version < record.aggregate_version:
                fanned[key] = record
        documents = self._fold(projection, own, fanned)
        written = len(documents)
        for _ in range(MAX_REBASES):
            if documents:
                conflicts = self._store.write_many(projection.index, documents)
                if conflicts and projection.rebase_on_conflict:
                    rebased = [r for r in own if _document_id(projection, r) in conflicts]
                    documents = self._fold(projection, rebased, fanned)
                    continue
            if embedding is not None and fanned:
                self._store.make_searchable([projection.index])  # what this batch, or an interrupted run, wrote
                written += sum(self._fan_out(projection, embedding, record) for record in fanned.values())
            return written
        raise SearchUnavailable(f"{projection.name}: documents kept changing under this projector; will retry")

    def _fold(
        self, projection: Projection, records: list[OutboxRecord], fanned: dict[str, OutboxRecord]
    ) -> list[VersionedDocument]:
        if not records:
            return []
        fold = _Fold(projection, self._store, [_document_id(projection, record) for record in records])
        for record in records:
            self._apply(fold, record, depth=0)
        if projection.embedding is not None:
            self._embed_newest(fold, projection.embedding, fanned)
        return fold.changed_documents()

    def _embed_newest(self, fold: _Fold, embedding: Embedding, fanned: dict[str, OutboxRecord]) -> None:
        """Give the fold's documents the newest state of what they embed: the batch's, or, for a document the
        fold created, the outbox's. A document the index held already got any newer state when it was
        fanned out; one created now may have been placed with an older state than one already fanned
        out (its transaction took its id first, and committed later)."""
        created = {embedding.carried_id(document) for document in fold.created()}
        newest = dict(fanned)
        if created:
            for record in self._reader.read_newest([UUID(id) for id in sorted(created)], embedding.event_types):
                _keep_newest(newest, record)
        if not newest:
            return
        for doc_id, document in fold.documents():
            newer = newest.get(embedding.carried_id(document))
            if newer is not None and (applied := _applied(fold.projection, document, newer)) is not None:
                fold.change(doc_id, applied)

    def _fan_out(self, projection: Projection, embedding: Embedding, record: OutboxRecord) -> int:
        """Apply `record` to every searchable document of the index still carrying an older state of its
        aggregate, a page at a time; how many were written."""
        written, after = 0, None
        while True:
            page = self._store.carrying(
                projection.index,
                embedding.field,
                str(record.aggregate_id),
                below=record.aggregate_version,
                after=after,
                size=self._fan_out_page,
            )
            documents = [
                VersionedDocument(doc_id, projection.version_of(applied), applied)
                for doc_id, document in page
                if (applied := _applied(projection, document, record)) is not None
            ]
            try:
                # A conflict is a document a newer write reached first: it carries this state already.
                self._store.write_many(projection.index, documents)
            except DocumentsRejected as rejected:
                raise RecordFailed(record, rejected) from rejected
            written += len(documents)
            if len(page) < self._fan_out_page:
                return written
            after = page[-1][0]

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
        self._stored = set(self._current)
        self._changed: dict[str, None] = {}  # in the order they first changed

    def document(self, doc_id: str) -> Document | None:
        if doc_id not in self._fetched:  # a document only an earlier event reaches
            self._fetched.add(doc_id)
            found = self._store.get_many(self.projection.index, [doc_id])
            self._current.update(found)
            self._stored.update(found)
        return self._current.get(doc_id)

    def documents(self) -> list[tuple[str, Document]]:
        return list(self._current.items())

    def created(self) -> list[Document]:
        """The documents the store did not hold, which the fold created."""
        return [self._current[doc_id] for doc_id in self._changed if doc_id not in self._stored]

    def change(self, doc_id: str, document: Document) -> None:
        self._current[doc_id] = document
        self._changed[doc_id] = None

    def changed_documents(self) -> list[VersionedDocument]:
        return [
            VersionedDocument(doc_id, self.projection.version_of(self._current[doc_id]), self._current[doc_id])
            for doc_id in self._changed
        ]


def _keep_newest(newest: dict[str, OutboxRecord], record: OutboxRecord) -> None:
    """Keep `record` in `newest` unless it holds a newer version of the same aggregate."""
    known = newest.get(str(record.aggregate_id))
    if known is None or known.aggregate_version < record.aggregate_version:
        newest[str(record.aggregate_id)] = record


def _applied(projection: Projection, document: Document, record: OutboxRecord) -> Document | None:
    try:
        return projection.apply(document, record)
    except Exception as error:  # the projection refused the record: the record's fault, not ours
        raise RecordFailed(record, error) from error


def _document_id(projection: Projection, record: OutboxRecord) -> str:
    try:
        return projection.document_id(record)
    except Exception as error:  # a payload without what the projection needs
        raise RecordFailed(record, error) from error
