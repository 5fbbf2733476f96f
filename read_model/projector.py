"""The projector: tails the outbox in commit order and keeps each projection's index up to date.

It runs in rounds (`run_once`), each applying at most one batch to every projection:

1. read the projections' checkpoints and open dead letters, once for all of them (only the lease holder
   writes them, so nothing is gained by reading them again per batch);
2. per projection: retry the dead letters an operator asked for, read the committed records after its
   checkpoint (once for all projections standing at the same one), and apply them
   (read_model/batch_applier.py through read_model/poison.py);
3. store the checkpoints (what Elasticsearch acknowledged is durable), then make what the projections wrote
   searchable and publish where they stand (read_model/status_publisher.py): one request each, for all
   projections. A published position is always searchable: `consistentWith` waits for it. A projection
   catching up (its batches come back full) makes its documents searchable and publishes at most once
   every `SEARCHABLE_EVERY_SECONDS`: a refresh per batch of 500 took a third of its catch-up time;
4. every few seconds, copy the other outbox consumers' new reports (read_model/consumers.py) to the status
   index: the projector is the only writer of Elasticsearch.

A crash anywhere replays the round; replaying changes nothing, because a document is only replaced by a
higher version. A projector taking over (or starting) makes every index searchable before it publishes
the stored checkpoints. `run_forever` runs rounds under the lease (read_model/leased_loop.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from read_model.batch_applier import FAN_OUT_PAGE, BatchApplier
from read_model.checkpoint import Checkpoint, ProjectionState
from read_model.consumers import AbstractConsumerReports
from read_model.dead_letters import AbstractDeadLetters, OpenLetters
from read_model.document_store import AbstractDocumentStore
from read_model.errors import OutboxUnavailable, SearchUnavailable
from read_model.indexes import PROJECTION_STATUS
from read_model.lease import AbstractLease, SoleWriter
from read_model.leased_loop import LeasedLoop
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord
from read_model.poison import PoisonPolicy, PoisonSuspected
from read_model.projections import Projection
from read_model.status_publisher import Report, StatusPublisher

logger = logging.getLogger(__name__)

# How often the other outbox consumers' reports are copied to the status index.
RELAY_REPORTS_EVERY_SECONDS = 2.0
# How often a projection catching up makes what it wrote searchable and publishes where it stands; one
# whose batch comes back short (the steady state) does so every round.
SEARCHABLE_EVERY_SECONDS = 1.0


@dataclass(frozen=True, kw_only=True)
class ProjectorOptions:
    batch_size: int = 500  # outbox records per batch
    poll_seconds: float = 1.0  # longest wait for a writer's NOTIFY before looking again
    max_attempts: int = 3  # failures of a record, for its own reasons, before it is parked
    standby_poll_seconds: float = 1.0  # how often a standby asks for the lease
    fan_out_page: int = FAN_OUT_PAGE  # documents rewritten per request when a change fans out


@dataclass(frozen=True)
class BatchResult:
    projection: str
    records: int
    documents: int


@dataclass
class _Batch:
    """One projection's part of a round, as it goes."""

    projection: Projection
    name: str
    checkpoint: Checkpoint
    letters: OpenLetters
    records: int = 0
    documents: int = 0
    letters_changed: bool = False
    full: bool = False


@dataclass
class _Unpublished:
    """What a projection applied, with its checkpoint stored, since it last made it searchable and published
    where it stands."""

    since: float
    applied: int = 0
    documents: bool = False


class Projector:
    def __init__(
        self,
        *,
        projections: Sequence[Projection],
        checkpoint_prefix: str,
        reader: AbstractOutboxReader,
        checkpoints: AbstractCheckpointStore,
        dead_letters: AbstractDeadLetters,
        store: AbstractDocumentStore,
        lease: AbstractLease | None = None,
        options: ProjectorOptions = ProjectorOptions(),
        consumer_reports: AbstractConsumerReports | None = None,
        consumer_names: Sequence[str] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._projections = list(projections)
        self._checkpoint_prefix = checkpoint_prefix
        self._reader = reader
        self._checkpoints = checkpoints
        self._dead_letters = dead_letters
        self._store = store
        self._lease = lease or SoleWriter()
        self._options = options
        self._poison = PoisonPolicy(
            applier=BatchApplier(store, reader, fan_out_page=options.fan_out_page),
            dead_letters=dead_letters,
            reader=reader,
            max_attempts=options.max_attempts,
        )
        self._status = StatusPublisher(reader, store)
        self._consumer_reports = consumer_reports
        self._consumer_names = list(consumer_names)
        self._monotonic = monotonic
        self._reports_relayed_at = float("-inf")
        self._relayed: dict[str, object] = {}
        self._unpublished: dict[str, _Unpublished] = {}
        self._loop = LeasedLoop(
            self._lease,
            name="projector",
            pause_on=(SearchUnavailable, OutboxUnavailable, PoisonSuspected),
            standby_poll_seconds=options.standby_poll_seconds,
        )

    @property
    def projections(self) -> list[Projection]:
        return list(self._projections)

    @property
    def active(self) -> bool:
        """Whether this process holds the lease and projects (in `run_forever`)."""
        return self._loop.active

    def checkpoint_name(self, projection: Projection) -> str:
        return f"{self._checkpoint_prefix}{projection.name}"

    def prepare(self) -> None:
        """Create missing indexes, make them searchable and publish where every projection stands."""
        self._store.ensure_index(PROJECTION_STATUS)
        for projection in self._projections:
            self._store.ensure_index(projection.index)
        self._publish_where_they_stand(self._projections)

    def publish_status(self, projection: Projection) -> ProjectionState:
        """Measure and publish where `projection` stands, at its stored checkpoint."""
        return self._publish_where_they_stand([projection])[0]

    def run_once(self) -> list[BatchResult]:
        """One round: at most one batch applied to each projection. A result reading no records means that
        projection is caught up."""
        with self._lease.round():
            names = [self.checkpoint_name(projection) for projection in self._projections]
            checkpoints = self._checkpoints.load_many(names)
            letters = self._dead_letters.summary(names)
            reads: dict[Checkpoint, list[OutboxRecord]] = {}
            batches: list[_Batch] = []
            try:
                for projection, name in zip(self._projections, names, strict=True):
                    batch = _Batch(projection, name, checkpoints[name], letters[name])
                    batches.append(batch)
                    self._apply_batch(batch, reads)
            except BaseException:
                # What the projections before a failing one applied is kept: they need not replay it.
                self._commit(batches, publish_all=True)
                raise
            self._commit(batches, publish_all=False)
            self._relay_reports()
        return [BatchResult(batch.projection.name, batch.records, batch.documents) for batch in batches]

    def run_until_caught_up(self) -> int:
        """Apply rounds until every projection has applied all committed events; returns records read."""
        total = 0
        while read := sum(result.records for result in self.run_once()):
            total += read
        return total

    def run_forever(self, stop: threading.Event) -> None:
        """Project until `stop` is set, while this process holds the lease, riding out outages of PostgreSQL
        or Elasticsearch (read_model/leased_loop.py). Since the checkpoint only moves after a batch is
        acknowledged, a retry resumes where it stopped."""
        logger.info("projector running: %s", ", ".join(p.name for p in self._projections))
        self._loop.run_forever(
            stop,
            prepare=self.prepare,
            run_round=lambda: sum(result.records for result in self.run_once()),
            idle=lambda: self._reader.wait_for_new_events(self._options.poll_seconds),
        )

    def _apply_batch(self, batch: _Batch, reads: dict[Checkpoint, list[OutboxRecord]]) -> None:
        projection, name = batch.projection, batch.name
        blocked = set(batch.letters.blocked)
        if batch.letters.due:
            blocked -= self._poison.retry(projection, name, batch.letters.due)
            batch.letters_changed = True
        if batch.checkpoint not in reads:
            reads[batch.checkpoint] = self._reader.read_after(batch.checkpoint, self._options.batch_size)
        records = reads[batch.checkpoint]
        handled = [record for record in records if projection.handles(record)]
        if handled:
            applied = self._poison.apply(projection, name, handled, blocked)
            batch.documents = applied.documents
            batch.letters_changed |= applied.parked > 0
        # Counted only now: a failure above leaves this projection at its checkpoint.
        batch.records = len(records)
        batch.full = len(records) >= self._options.batch_size
        if records:
            batch.checkpoint = records[-1].checkpoint

    def _commit(self, batches: list[_Batch], *, publish_all: bool) -> None:
        """Store the checkpoints of the batches that moved, then make searchable and publish the projections
        that are due: caught up, with dead letters changed, unpublished for `SEARCHABLE_EVERY_SECONDS`, or
        all of them (`publish_all`). A crash between two steps replays the round, or publishes at start."""
        moved = [batch for batch in batches if batch.records or batch.letters_changed]
        if moved:
            self._checkpoints.save_many({batch.name: batch.checkpoint for batch in moved})
        now = self._monotonic()
        for batch in moved:
            unpublished = self._unpublished.setdefault(batch.name, _Unpublished(since=now))
            unpublished.applied += batch.records
            unpublished.documents |= bool(batch.documents or batch.letters_changed)
        due = [
            batch
            for batch in batches
            if batch.name in self._unpublished
            and (
                publish_all
                or not batch.full
                or batch.letters_changed
                or now - self._unpublished[batch.name].since >= SEARCHABLE_EVERY_SECONDS
            )
        ]
        if not due:
            return
        self._store.make_searchable(
            [batch.projection.index for batch in due if self._unpublished[batch.name].documents]
        )
        self._status.publish(
            [
                Report(
                    name=batch.name,
                    checkpoint=batch.checkpoint,
                    applied=self._unpublished[batch.name].applied,
                    caught_up=not batch.full,
                    dead_letters=self._dead_letters.count_open(batch.name)
                    if batch.letters_changed
                    else batch.letters.count,
                )
                for batch in due
            ]
        )
        for batch in due:
            del self._unpublished[batch.name]

    def _relay_reports(self) -> None:
        """Copy the other outbox consumers' reports that changed to the status index, every few seconds."""
        if self._consumer_reports is None or not self._consumer_names:
            return
        now = self._monotonic()
        if now - self._reports_relayed_at < RELAY_REPORTS_EVERY_SECONDS:
            return
        self._reports_relayed_at = now
        reports = self._consumer_reports.reports(self._consumer_names)
        changed = [report for report in reports if self._relayed.get(report.name) != report]
        if changed:
            self._store.publish_consumers(changed)
            self._relayed.update((report.name, report) for report in changed)

    def _publish_where_they_stand(self, projections: list[Projection]) -> list[ProjectionState]:
        """Make the projections' indexes searchable, then publish their stored checkpoints: what was
        acknowledged before a crash, or before another projector took over, may not be searchable yet."""
        names = [self.checkpoint_name(projection) for projection in projections]
        checkpoints = self._checkpoints.load_many(names)
        letters = self._dead_letters.summary(names)
        self._store.make_searchable([projection.index for projection in projections])
        for name in names:
            self._unpublished.pop(name, None)
        return self._status.publish(
            [
                Report(
                    name=name, checkpoint=checkpoints[name], applied=0, caught_up=True, dead_letters=letters[name].count
                )
                for name in names
            ]
        )
