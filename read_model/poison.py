"""Poison events: what the projector does with a record that fails for its own reasons.

Such a record (the projection refuses it, or Elasticsearch refuses the document it makes) fails its batch,
which is retried after a pause: the cause may pass. After `max_attempts` failures the record is parked as a
dead letter, with every later record of its aggregate (they would be applied to a document missing its
change), and the other records of the batch are applied without them. An operator's retry applies an
aggregate's letters again, in commit order (read_model/dead_letters.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from read_model.batch_applier import BatchApplier, RecordFailed
from read_model.checkpoint import Checkpoint
from read_model.dead_letters import AbstractDeadLetters, describe
from read_model.errors import DocumentsRejected, ReadModelError
from read_model.outbox import AbstractOutboxReader, OutboxRecord
from read_model.projections import Projection

logger = logging.getLogger(__name__)

PARKED_BEHIND = "parked behind an earlier dead letter of its aggregate"


class PoisonSuspected(ReadModelError):
    """A record failed fewer than `max_attempts` times: its batch is retried after a pause."""


@dataclass(frozen=True)
class Applied:
    documents: int  # written
    parked: int


class PoisonPolicy:
    """Applies a projection's records through `applier`, parking the ones that keep failing in `dead_letters`.

    It counts each record's failures itself: the attempts live as long as this process, and a record that
    failed in a process that died starts again from one.
    """

    def __init__(
        self,
        *,
        applier: BatchApplier,
        dead_letters: AbstractDeadLetters,
        reader: AbstractOutboxReader,
        max_attempts: int,
    ) -> None:
        self._applier = applier
        self._dead_letters = dead_letters
        self._reader = reader
        self._max_attempts = max_attempts
        self._attempts: dict[tuple[str, Checkpoint], int] = {}

    def apply(self, projection: Projection, name: str, records: list[OutboxRecord], blocked: set[UUID]) -> Applied:
        """Apply `records` of checkpoint `name`, parking those of `blocked` aggregates. A record failing for
        the last time is parked with the later records of its aggregate, which joins `blocked`, and the rest
        applied again without them. Raises `PoisonSuspected` while a record has attempts left."""
        live, parked = self._park_blocked(name, records, blocked)
        while True:
            try:
                return Applied(self._applier.apply(projection, live), parked)
            except RecordFailed as failure:
                culprits = [failure.record]
                error: BaseException = failure.error
            except DocumentsRejected as rejected:
                culprits = [r for r in live if projection.document_id(r) in rejected.reasons]
                error = rejected
            self._count_attempt(name, culprits[0], error)
            blocked.update(record.aggregate_id for record in culprits)
            for record in culprits:
                self._dead_letters.park(name, record, describe(error), self._attempts.pop((name, record.checkpoint), 1))
            live, behind = self._park_blocked(
                name, [r for r in live if r not in culprits], blocked, after=culprits[0].checkpoint
            )
            parked += len(culprits) + behind

    def retry(self, projection: Projection, name: str, due: frozenset[UUID]) -> set[UUID]:
        """Apply again, in commit order, the open letters of the `due` aggregates (an operator asked for it);
        returns the aggregates whose letters are now resolved (none when the retry failed again)."""
        letters = self._dead_letters.open_letters(name, set(due))
        records = self._reader.read_at([letter.checkpoint for letter in letters])
        try:
            self._applier.apply(projection, records)
        except (RecordFailed, DocumentsRejected) as failure:
            logger.error("%s: retried dead letters failed again: %s", name, failure)
            for record in records:
                error = failure if isinstance(failure, DocumentsRejected) else failure.error
                mine = isinstance(failure, RecordFailed) and failure.record == record
                self._dead_letters.park(name, record, describe(error) if mine else PARKED_BEHIND, 1 if mine else 0)
            return set()
        self._dead_letters.resolve([letter.id for letter in letters])
        logger.info("%s: %d dead letters applied on retry", name, len(letters))
        return set(due)

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
        self, name: str, records: list[OutboxRecord], blocked: set[UUID], *, after: Checkpoint | None = None
    ) -> tuple[list[OutboxRecord], int]:
        """`records` without those of blocked aggregates (after `after`, when given), which are parked; and how
        many were."""
        live = []
        for record in records:
            if record.aggregate_id in blocked and (after is None or record.checkpoint > after):
                self._dead_letters.park(name, record, PARKED_BEHIND, 0)
            else:
                live.append(record)
        return live, len(records) - len(live)
