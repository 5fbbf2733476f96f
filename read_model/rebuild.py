"""Rebuilding a projection with zero downtime: a new index filled from the start of the outbox, then the alias.

While the rebuild fills a new concrete index from position zero, the live index keeps serving queries and
the live projector keeps writing to it. Once the rebuild has caught up, it closes the projector's batch
gate (a PostgreSQL advisory lock the projector holds shared for each round): the live projector finishes
its round and waits; the rebuild takes in what it applied meanwhile, moves the alias to the new index in
one atomic request, and opens the gate. From then on the live projector writes to the new index through
the alias. No query sees the new index lacking what the old one showed. The previous index is kept for a
rollback.

The rebuild applies its batches as the projector does (read_model/batch_applier.py), under a checkpoint of
its own. A record that fails stops it with the record's error: a rebuild parks nothing, since nothing
reads the new index before it is complete.
"""

from __future__ import annotations

import abc
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from read_model.batch_applier import BatchApplier
from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.document_store import AbstractDocumentStore
from read_model.indexes import IndexDefinition
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader
from read_model.projections import Projection


class AbstractIndexAdmin(abc.ABC):
    @abc.abstractmethod
    def create_version(self, definition: IndexDefinition, suffix: str) -> str:
        """Create a new concrete index for `definition` (named after its version and `suffix`); its name."""

    @abc.abstractmethod
    def swap_alias(self, definition: IndexDefinition, index: str) -> list[str]:
        """Make `index` searchable and point `definition`'s alias at it alone, atomically; the indexes it
        pointed at before."""


@dataclass(frozen=True)
class Progress:
    projection: str
    events: int
    total: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        rate = self.per_second
        return None if rate == 0 else max(0.0, (self.total - self.events) / rate)


@dataclass(frozen=True)
class Rebuilt:
    projection: str
    index: str
    previous: list[str]
    events: int
    seconds: float


class Rebuilder:
    def __init__(
        self,
        *,
        admin: AbstractIndexAdmin,
        reader: AbstractOutboxReader,
        checkpoints: AbstractCheckpointStore,
        store_for: Callable[[IndexDefinition, str], AbstractDocumentStore],
        checkpoint_prefix: str,
        batch_size: int = 500,
        clock: Callable[[], float] = time.monotonic,
        switch_over: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        self._switch_over = switch_over
        self._admin = admin
        self._reader = reader
        self._checkpoints = checkpoints
        self._store_for = store_for
        self._checkpoint_prefix = checkpoint_prefix
        self._batch_size = batch_size
        self._clock = clock

    def rebuild(self, projection: Projection, progress: Callable[[Progress], None] = lambda _: None) -> Rebuilt:
        """Fill a new index for `projection` from the whole outbox, then move its alias there."""
        index = self._admin.create_version(projection.index, datetime.now(UTC).strftime("%Y%m%d%H%M%S%f"))
        run = _RebuildRun(
            projection,
            BatchApplier(self._store_for(projection.index, index), self._reader),
            self._reader,
            self._checkpoints,
            # A checkpoint of its own, apart from the live projection's.
            f"{self._checkpoint_prefix}rebuild-{projection.name}",
            self._batch_size,
        )
        total, _ = self._reader.backlog(ORIGIN)
        started = self._clock()
        events = self._catch_up(
            run, lambda done: progress(Progress(projection.name, done, total, self._clock() - started))
        )
        # The live projector pauses between two rounds while the rebuild takes in what it applied meanwhile
        # and the alias moves: no moment when the new index lacks what the old one showed. What is committed
        # after the live projector's checkpoint, it applies itself once resumed, to the new index.
        with self._switch_over():
            live = self._checkpoints.load(f"{self._checkpoint_prefix}{projection.name}")
            events += self._run_to(run, live)
            previous = self._admin.swap_alias(projection.index, index)
        progress(Progress(projection.name, events, max(total, events), self._clock() - started))
        return Rebuilt(projection.name, index, previous, events, self._clock() - started)

    def _catch_up(self, run: _RebuildRun, report: Callable[[int], None]) -> int:
        """Apply batches until one comes back short of a full batch: the rebuild is then as close behind the
        writers as one round. Waiting for an empty round instead would never end under steady writes."""
        done = 0
        while True:
            read = run.next_batch()
            done += read
            report(done)
            if read < self._batch_size:
                return done

    @staticmethod
    def _run_to(run: _RebuildRun, target: Checkpoint) -> int:
        """Apply batches until the rebuild has reached `target`, or nothing is left."""
        done = 0
        while run.checkpoint < target:
            read = run.next_batch()
            done += read
            if read == 0:
                break
        return done


@dataclass
class _RebuildRun:
    """One rebuild's way through the outbox: its checkpoint `name`, stored after each batch."""

    projection: Projection
    applier: BatchApplier
    reader: AbstractOutboxReader
    checkpoints: AbstractCheckpointStore
    name: str
    batch_size: int
    checkpoint: Checkpoint = ORIGIN

    def __post_init__(self) -> None:
        self.checkpoints.save(self.name, self.checkpoint)

    def next_batch(self) -> int:
        """Apply the next batch of records; how many were read."""
        records = self.reader.read_after(self.checkpoint, self.batch_size)
        if not records:
            return 0
        self.applier.apply(self.projection, [record for record in records if self.projection.handles(record)])
        self.checkpoint = records[-1].checkpoint
        self.checkpoints.save(self.name, self.checkpoint)
        return len(records)
