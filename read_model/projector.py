"""The projector: tails the outbox in commit order and keeps each projection's index up to date.

Per batch: read committed records after the projection's checkpoint (below the transaction horizon),
fold them into the current documents, bulk-write those with external versions, wait until they are
searchable, and only then store the checkpoint. A crash anywhere replays the batch; replaying changes
nothing, because a document is only replaced by a higher version.

A record that fails for its own reasons (the projection refuses it, or Elasticsearch refuses the document
it makes) fails its batch, which is retried after a pause; after `max_attempts` failures the record is
parked as a dead letter with every later record of its aggregate, and the others flow on
(`read_model/dead_letters.py`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from read_model.checkpoint import Checkpoint, ProjectionState
from read_model.dead_letters import AbstractDeadLetters, describe
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import DocumentsRejected, OutboxUnavailable, ReadModelError, SearchUnavailable
from read_model.indexes import PROJECTION_STATUS
from read_model.lease import AbstractLease, SoleWriter
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord
from read_model.projections import Document, Projection

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0


# How many times a batch's documents are folded again onto documents another writer changed meanwhile.
MAX_REBASES = 10
PARKED_BEHIND = "parked behind an earlier dead letter of its aggregate"


class RecordFailed(ReadModelError):
    """Applying `record` failed for the record's own reasons."""

    def __init__(self, record: OutboxRecord, error: BaseException) -> None:
        super().__init__(f"{record.event_type} at {record.checkpoint}: {describe(error)}")
        self.record = record
        self.error = error


class PoisonSuspected(ReadModelError):
    """A record failed fewer than `max_attempts` times: its batch is retried after a pause."""


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
        dead_letters: AbstractDeadLetters,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        max_attempts: int = 3,
        lease: AbstractLease | None = None,
        standby_poll_seconds: float = 1.0,
    ) -> None:
        self._lease = lease or SoleWriter()
        self.active = False  # whether this process holds the lease and projects (in `run_forever`)
        self._states: dict[str, ProjectionState] = {}
        self._measured: dict[str, float] = {}
        self._standby_poll_seconds = standby_poll_seconds
        self._reader = reader
        self._dead_letters = dead_letters
        self._max_attempts = max_attempts
        self._attempts: dict[tuple[str, Checkpoint], int] = {}
        self._checkpoints = checkpoints
        self._store = store
        self._projections = list(projections)
        self._checkpoint_prefix = checkpoint_prefix
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds

    @property
    def projections(self) -> list[Projection]:
        return list(self._projections)

    def checkpoint_name(self, projection: Projection) -> str:
        return f"{self._checkpoint_prefix}{projection.name}"

    def prepare(self) -> None:
        """Create missing indexes and publish where every projection stands."""
        self._store.ensure_index(PROJECTION_STATUS)
        for projection in self._projections:
            self._store.ensure_index(projection.index)
        for projection in self._projections:
            self.publish_status(projection)

    def run_once(self) -> list[BatchResult]:
        """Apply at most one batch to each projection; an empty list of records means it is caught up.

        Projections usually stand at the same checkpoint: the outbox is then read once for all of them.
        """
        reads: dict[Checkpoint, list[OutboxRecord]] = {}
        with self._lease.batch():
            return [self._run_batch(projection, reads) for projection in self._projections]

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

        Only while this process holds the lease: a standby waits for it, polling every
        `standby_poll_seconds`. An unavailable service is retried with exponential backoff (capped at
        `MAX_BACKOFF` seconds); since the checkpoint only moves after a batch is acknowledged, a retry
        resumes where it stopped.
        """
        logger.info("projector running: %s", ", ".join(p.name for p in self._projections))
        backoff = 0.0
        prepared = False
        try:
            while not stop.is_set():
                try:
                    if not self._lease.acquire():
                        if self.active:
                            logger.warning("projector lost its lease: standing by")
                        self.active = False
                        stop.wait(self._standby_poll_seconds)
                        continue
                    if not self.active:
                        logger.info("projector holds the lease: projecting")
                        self.active = True
                    if not prepared:
                        self.prepare()
                        prepared = True
                    if self._catch_up_while_leased() == 0:
                        self._reader.wait_for_new_events(self._poll_seconds)
                    backoff = 0.0
                except (SearchUnavailable, OutboxUnavailable, PoisonSuspected) as exc:
                    backoff = min(MAX_BACKOFF, max(FIRST_BACKOFF, backoff * 2))
                    logger.warning("projector paused %.1f s: %s", backoff, exc)
                    stop.wait(backoff)
        finally:
            self.active = False
            self._lease.release()

    def _catch_up_while_leased(self) -> int:
        """Like `run_until_caught_up`, checking before each round that the lease is still this process's."""
        total = 0
        while self._lease.acquire():
            read = sum(result.records for result in self.run_once())
            total += read
            if read == 0:
                break
        return total

    def _run_batch(self, projection: Projection, reads: dict[Checkpoint, list[OutboxRecord]]) -> BatchResult:
        name = self.checkpoint_name(projection)
        self._retry_dead_letters(projection, name)
        checkpoint = self._checkpoints.load(name)
        if checkpoint not in reads:
            reads[checkpoint] = self._reader.read_after(checkpoint, self._batch_size)
        records = reads[checkpoint]
        if not records:
            return BatchResult(projection.name, 0, 0)
        handled = [record for record in records if projection.handles(record)]
        blocked = self._dead_letters.blocked(name) if handled else set()
        live = self._park_blocked(name, handled, blocked)
        documents = self._apply_or_park(projection, name, live, blocked)
        last = records[-1].checkpoint
        self._checkpoints.save(name, last)
        # Far behind, counting the backlog after every batch would cost as much as the batch: then once a second.
        measure = len(records) < self._batch_size or time.monotonic() - self._measured.get(name, 0.0) > 1.0
        self.publish_status(projection, last, applied=len(records), measure=measure)
        return BatchResult(projection.name, len(records), len(documents))

    def publish_status(
        self, projection: Projection, checkpoint: Checkpoint | None = None, *, applied: int = 0, measure: bool = True
    ) -> ProjectionState:
        """Publish where `projection` stands (at its stored checkpoint unless one is given). Without `measure`,
        the last measured lag less the `applied` records stands in for a new measurement."""
        name = self.checkpoint_name(projection)
        checkpoint = checkpoint or self._checkpoints.load(name)
        previous = self._states.get(name)
        if measure or previous is None:
            lag_events, lag_seconds = self._reader.backlog(checkpoint)
            dead_letters = self._dead_letters.count_open(name)
            self._measured[name] = time.monotonic()
        else:
            lag_events, lag_seconds = max(0, previous.lag_events - applied), previous.lag_seconds
            dead_letters = previous.dead_letters
        state = ProjectionState(
            name=name,
            checkpoint=checkpoint,
            lag_events=lag_events,
            lag_seconds=round(lag_seconds, 3),
            dead_letters=dead_letters,
        )
        self._store.publish_status(state)
        self._states[name] = state
        return state

    def _apply_or_park(
        self, projection: Projection, name: str, records: list[OutboxRecord], blocked: set[UUID]
    ) -> list[VersionedDocument]:
        """Fold and write `records`; a record failing for the last time is parked (with the later records of
        its aggregate) and the rest applied again without it."""
        while True:
            try:
                documents = self._fold_and_write(projection, records)
            except RecordFailed as failure:
                culprits = [failure.record]
                error = failure.error
            except DocumentsRejected as rejected:
                culprits = [r for r in records if projection.document_id(r) in rejected.reasons]
                error = rejected
            else:
                return documents
            self._count_attempt(name, culprits[0], error)
            blocked.update(record.aggregate_id for record in culprits)
            for record in culprits:
                self._dead_letters.park(name, record, describe(error), self._attempts.pop((name, record.checkpoint), 1))
            records = self._park_blocked(name, [r for r in records if r not in culprits], blocked, after=culprits[0])

    def _count_attempt(self, name: str, record: OutboxRecord, error: BaseException) -> None:
        """Raise `PoisonSuspected` (retry the batch later) until `record` has failed `max_attempts` times."""
        key = (name, record.checkpoint)
        self._attempts[key] = self._attempts.get(key, 0) + 1
        if self._attempts[key] < self._max_attempts:
            raise PoisonSuspected(
                f"{name}: {record.event_type} of {record.aggregate_id} failed "
                f"(attempt {self._attempts[key]} of {self._max_attempts}): {describe(error)}"
            ) from error
        logger.error("%s: parking %s of %s: %s", name, record.event_type, record.aggregate_id, describe(error))

    def _park_blocked(
        self, name: str, records: list[OutboxRecord], blocked: set[UUID], *, after: OutboxRecord | None = None
    ) -> list[OutboxRecord]:
        """`records` without those of blocked aggregates (after `after`, when given), which are parked."""
        live = []
        for record in records:
            behind = after is None or record.checkpoint > after.checkpoint
            if record.aggregate_id in blocked and behind:
                self._dead_letters.park(name, record, PARKED_BEHIND, 0)
            else:
                live.append(record)
        return live

    def _retry_dead_letters(self, projection: Projection, name: str) -> None:
        """Apply again, in commit order, the open letters of the aggregates an operator asked to retry."""
        due = self._dead_letters.due(name)
        if not due:
            return
        letters = self._dead_letters.open_letters(name, due)
        records = self._reader.read_at([letter.checkpoint for letter in letters])
        try:
            self._fold_and_write(projection, records)
        except (RecordFailed, DocumentsRejected) as failure:
            logger.error("%s: retried dead letters failed again: %s", name, failure)
            for record in records:
                error = failure if isinstance(failure, DocumentsRejected) else failure.error
                mine = isinstance(failure, RecordFailed) and failure.record == record
                self._dead_letters.park(name, record, describe(error) if mine else PARKED_BEHIND, 1 if mine else 0)
            return
        self._dead_letters.resolve([letter.id for letter in letters])
        logger.info("%s: %d dead letters applied on retry", name, len(letters))

    @staticmethod
    def _document_id(projection: Projection, record: OutboxRecord) -> str:
        try:
            return projection.document_id(record)
        except Exception as error:  # a payload without what the projection needs
            raise RecordFailed(record, error) from error

    def _fold_and_write(self, projection: Projection, records: list[OutboxRecord]) -> list[VersionedDocument]:
        """Fold `records` into their documents and write them. A document another writer changed meanwhile
        (a 409) is kept as it is when the projection's versions are its aggregate's; otherwise `records` are
        folded again into the newer document (they are recognised where already applied) and written again."""
        written = documents = self._fold(projection, records)
        for _ in range(MAX_REBASES):
            if not documents:
                return written
            conflicts = self._store.write_many(projection.index, documents)
            if not conflicts or not projection.rebase_on_conflict:
                return written
            documents = self._fold(projection, [r for r in records if self._document_id(projection, r) in conflicts])
        raise SearchUnavailable(f"{projection.name}: documents kept changing under this projector; will retry")

    def _fold(self, projection: Projection, records: list[OutboxRecord]) -> list[VersionedDocument]:
        if not records:
            return []
        targets = [(record, self._document_id(projection, record)) for record in records]
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
