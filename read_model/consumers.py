"""What the outbox consumers other than the projector (the expiry saga; the Kafka relay next) report of
themselves: each writes its report to PostgreSQL after its rounds, and the projector, the only writer of
Elasticsearch, copies the reports into the status index, where `outboxConsumers` and `/metrics` read them."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime

from read_model.checkpoint import Checkpoint


@dataclass(frozen=True, kw_only=True)
class ConsumerState:
    """One consumer's report. `name` carries the deployment's prefix in storage, not in the API's answers.

    `lag_events` and `lag_seconds` are measured as for a projection; `dead_letters` counts the work it
    parked for an operator (a saga's parked deadlines); `pending` the work it holds (a saga's open
    deadlines) and `overdue` the part of it already due.
    """

    name: str
    kind: str
    checkpoint: Checkpoint
    lag_events: int
    lag_seconds: float
    dead_letters: int
    pending: int
    overdue: int
    updated_at: datetime


class AbstractConsumerReports(abc.ABC):
    @abc.abstractmethod
    def report(self, state: ConsumerState) -> None:
        """Store `state` as this consumer's latest report."""

    @abc.abstractmethod
    def reports(self, names: list[str]) -> list[ConsumerState]:
        """The latest report of each of `names` that reported."""
