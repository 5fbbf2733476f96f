"""The projector: tails the outbox in commit order and keeps each projection's index up to date.

Per batch: read committed records after the projection's checkpoint (below the transaction horizon),
fold them into the current documents, bulk-write those with external versions, wait until they are
searchable, and only then store the checkpoint. A crash anywhere replays the batch; replaying changes
nothing, because a document is only replaced by a higher version.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import OutboxUnavailable, SearchUnavailable
from read_model.indexes import PROJECTION_STATUS
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord
from read_model.projections import Document, Projection

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class BatchResult:
    projection: str
    records: int
    documents: int


class Projector:
    def __init__(
        self,
        *,
        reader: AbstractOutboxReader,
        checkpoints: AbstractCheckpointStore,
        store: AbstractDocumentStore,
        projections: Sequence[Projection],
        checkpoint_prefix: str,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
    ) -> None:
        self._reader = reader
        self._checkpoints = checkpoints
        self._store = store
        self._projections = list(projections)
        self._checkpoint_prefix = checkpoint_prefix
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds

    def checkpoint_name(self, projection: Projection) -> str:
        return f"{self._checkpoint_prefix}{projection.name}"

    def prepare(self) -> None:
        self._store.ensure_index(PROJECTION_STATUS)
        for projection in self._projections:
            self._store.ensure_index(projection.index)

    def run_once(self) -> list[BatchResult]:
        """Apply at most one batch to each projection; an empty list of records means it is caught up."""
        return [self._run_batch(projection) for projection in self._projections]

    def run_until_caught_up(self) -> int:
        """Apply batches until every projection has applied all committed events; returns records read."""
        total = 0
        while True:
            results = self.run_once()
            read = sum(result.records for result in results)
            total += read
            if read == 0:
                return total

    def run_forever(self, stop: threading.Event) -> None:
        """Project until `stop` is set, riding out outages of PostgreSQL or Elasticsearch.

        An unavailable service is retried with exponential backoff (capped at `MAX_BACKOFF` seconds);
        since the checkpoint only moves after a batch is acknowledged, a retry resumes where it stopped.
        """
        logger.info("projector running: %s", ", ".join(p.name for p in self._projections))
        backoff = 0.0
        prepared = False
        while not stop.is_set():
            try:
                if not prepared:
                    self.prepare()
                    prepared = True
                if self.run_until_caught_up() == 0:
                    self._reader.wait_for_new_events(self._poll_seconds)
                backoff = 0.0
            except (SearchUnavailable, OutboxUnavailable) as exc:
                backoff = min(MAX_BACKOFF, max(FIRST_BACKOFF, backoff * 2))
                logger.warning("projector paused %.1f s: %s", backoff, exc)
                stop.wait(backoff)

    def _run_batch(self, projection: Projection) -> BatchResult:
        name = self.checkpoint_name(projection)
        checkpoint = self._checkpoints.load(name)
        records = self._reader.read_after(checkpoint, self._batch_size)
        if not records:
            return BatchResult(projection.name, 0, 0)
        documents = self._fold(projection, [r for r in records if projection.handles(r)])
        if documents:
            self._store.write_many(projection.index, documents)
        last = records[-1].checkpoint
        self._checkpoints.save(name, last)
        self._store.publish_checkpoint(name, last)
        return BatchResult(projection.name, len(records), len(documents))

    def _fold(self, projection: Projection, records: list[OutboxRecord]) -> list[VersionedDocument]:
        if not records:
            return []
        ids = list(dict.fromkeys(projection.document_id(record) for record in records))
        current: dict[str, Document] = self._store.get_many(projection.index, ids)
        changed: set[str] = set()
        for record in records:
            doc_id = projection.document_id(record)
            applied = projection.apply(current.get(doc_id), record)
            if applied is None:
                continue  # already applied: a replay or a duplicate
            current[doc_id] = applied
            changed.add(doc_id)
        return [
            VersionedDocument(doc_id, projection.version_of(current[doc_id]), current[doc_id])
            for doc_id in ids
            if doc_id in changed
        ]
