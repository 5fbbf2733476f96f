"""Dead letters: the events a projection could not apply, parked so that the others keep flowing.

An event that fails for its own reasons (the projection refuses it, or Elasticsearch rejects the document
it makes) is retried with the batch a few times; when it keeps failing it is parked here with its error,
and so is every later event of the same aggregate in that projection, which would otherwise be applied
to a document missing the parked change. An operator retries them (`twofold dead-letters retry`), in
their original order, once the cause is fixed, or skips them.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from read_model.checkpoint import Checkpoint
from read_model.outbox import OutboxRecord


class LetterStatus(StrEnum):
    PARKED = "PARKED"
    RETRY = "RETRY"
    SKIPPED = "SKIPPED"
    RESOLVED = "RESOLVED"


OPEN = (LetterStatus.PARKED, LetterStatus.RETRY)


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    id: int
    projection: str
    checkpoint: Checkpoint
    aggregate_type: str
    aggregate_id: UUID
    event_type: str
    error: str
    attempts: int
    status: LetterStatus
    parked_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OpenLetters:
    """A projection's open letters as a projector round starts: the aggregates they hold back (their later
    events are parked behind them), those an operator asked to retry, and how many letters are open."""

    blocked: frozenset[UUID] = field(default_factory=frozenset)
    due: frozenset[UUID] = field(default_factory=frozenset)
    count: int = 0


class AbstractDeadLetters(abc.ABC):
    @abc.abstractmethod
    def park(self, projection: str, record: OutboxRecord, error: str, attempts: int) -> None:
        """Park `record` for `projection` (again, if it was retried and failed)."""

    @abc.abstractmethod
    def summary(self, projections: list[str]) -> dict[str, OpenLetters]:
        """The open letters of each of `projections` (an empty `OpenLetters` where there are none), read at
        once: a projector reads them once a round, for all its projections."""

    @abc.abstractmethod
    def open_letters(self, projection: str, aggregate_ids: set[UUID]) -> list[DeadLetter]:
        """The open letters of these aggregates in `projection`, in commit order."""

    @abc.abstractmethod
    def resolve(self, letter_ids: list[int]) -> None: ...

    def count_open(self, projection: str) -> int:
        return self.summary([projection])[projection].count

    @abc.abstractmethod
    def letters(self, *, projection: str | None = None, include_closed: bool = False) -> list[DeadLetter]: ...

    @abc.abstractmethod
    def retry(self, letter_ids: list[int] | None) -> int:
        """Mark these letters (all open ones when `None`), and every open letter of their aggregates in their
        projection, for a retry; returns how many were marked."""

    @abc.abstractmethod
    def skip(self, letter_ids: list[int] | None) -> int:
        """Give up on these letters (all open ones when `None`); returns how many were skipped."""


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
