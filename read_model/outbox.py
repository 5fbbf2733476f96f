"""The outbox as the read model sees it: recorded events in commit order, and the ports that read them."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from read_model.checkpoint import Checkpoint


@dataclass(frozen=True, kw_only=True)
class OutboxRecord:
    """One event as committed: its place in commit order, its aggregate, and its payload."""

    transaction_id: int
    position: int
    aggregate_type: str
    aggregate_id: UUID
    aggregate_version: int
    event_type: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.transaction_id, self.position)


class AbstractOutboxReader(abc.ABC):
    @abc.abstractmethod
    def read_after(self, checkpoint: Checkpoint, limit: int) -> list[OutboxRecord]:
        """Up to `limit` committed records after `checkpoint`, in commit order.

        Only records below the transaction horizon are returned: no transaction still running can later
        commit a record that sorts before them, so a caller that advances its checkpoint over them never
        skips an event that commits late.
        """

    @abc.abstractmethod
    def backlog(self, checkpoint: Checkpoint) -> tuple[int, float]:
        """(events committed after `checkpoint`, capped at `LAG_COUNT_LIMIT`; age in seconds of the oldest)."""

    @abc.abstractmethod
    def read_at(self, checkpoints: list[Checkpoint]) -> list[OutboxRecord]:
        """The records at these places, in commit order (for retrying dead letters)."""

    @abc.abstractmethod
    def read_versions(self, aggregate_id: UUID, first: int, last: int) -> list[OutboxRecord]:
        """The records of versions `first` to `last` of one aggregate, in version order; fewer when the outbox
        does not hold them all.

        Read whatever the transaction horizon: for versions known to be committed, because a committed
        record of a later version was written by a transaction that saw them.
        """

    @abc.abstractmethod
    def read_newest(self, aggregate_ids: list[UUID], event_types: frozenset[str]) -> list[OutboxRecord]:
        """For each of these aggregates, its committed record of the highest version among `event_types`,
        if it has one; whatever the transaction horizon (a newer state is never older news)."""

    @abc.abstractmethod
    def read_overtaken(self, after: Checkpoint, below: dict[UUID, int]) -> list[OutboxRecord]:
        """For each aggregate of `below`, its records of versions below the given one that commit order puts
        after `after`, in version order: versions committed before a later one that commit order, which sorts
        by transaction id, put behind it. Read whatever the transaction horizon, like `read_versions`."""

    @abc.abstractmethod
    def wait_for_new_events(self, timeout: float) -> None:
        """Block until a writer signals new events or `timeout` seconds pass, whichever is first."""


class AbstractCheckpointStore(abc.ABC):
    """Where each consumer of the outbox stands, by name; a name never saved stands at `ORIGIN`."""

    @abc.abstractmethod
    def load_many(self, names: list[str]) -> dict[str, Checkpoint]:
        """The checkpoint of each of `names`, read at once."""

    @abc.abstractmethod
    def save_many(self, checkpoints: dict[str, Checkpoint]) -> None:
        """Store these checkpoints together: all of them or, when it fails, none."""

    def load(self, name: str) -> Checkpoint:
        return self.load_many([name])[name]

    def save(self, name: str, checkpoint: Checkpoint) -> None:
        self.save_many({name: checkpoint})
