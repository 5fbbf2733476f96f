"""Publishing where each projection stands, for `consistentWith`, the `projections` query and `/metrics`.

A projection's lag is measured by counting the outbox after its checkpoint: a range scan, done once per
distinct checkpoint of a round (projections usually stand together). Far behind, measuring after every
batch would cost as much as the batch: then a projection is measured at most once a second, its last
measurement less what it applied since standing in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from read_model.checkpoint import Checkpoint, ProjectionState
from read_model.document_store import AbstractDocumentStore
from read_model.outbox import AbstractOutboxReader

# How long a measured lag may stand in for a new measurement while a projection is far behind.
MEASURE_EVERY_SECONDS = 1.0


@dataclass(frozen=True, kw_only=True)
class Report:
    """What a round did for one projection: it applied `applied` records up to `checkpoint`. `caught_up`
    (its batch came back short) asks for a fresh measurement of its lag."""

    name: str
    checkpoint: Checkpoint
    applied: int
    caught_up: bool
    dead_letters: int


class StatusPublisher:
    def __init__(
        self,
        reader: AbstractOutboxReader,
        store: AbstractDocumentStore,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._store = store
        self._clock = clock
        self._states: dict[str, ProjectionState] = {}
        self._measured: dict[str, float] = {}

    def publish(self, reports: Sequence[Report]) -> list[ProjectionState]:
        """Publish the state of each reported projection, in one request to the store; returns them."""
        now = self._clock()
        backlogs: dict[Checkpoint, tuple[int, float]] = {}
        states = []
        for report in reports:
            previous = self._states.get(report.name)
            stale = now - self._measured.get(report.name, float("-inf")) > MEASURE_EVERY_SECONDS
            if report.caught_up or stale or previous is None:
                if report.checkpoint not in backlogs:
                    backlogs[report.checkpoint] = self._reader.backlog(report.checkpoint)
                lag_events, lag_seconds = backlogs[report.checkpoint]
                self._measured[report.name] = now
            else:
                lag_events, lag_seconds = max(0, previous.lag_events - report.applied), previous.lag_seconds
            state = ProjectionState(
                name=report.name,
                checkpoint=report.checkpoint,
                lag_events=lag_events,
                lag_seconds=round(lag_seconds, 3),
                dead_letters=report.dead_letters,
            )
            states.append(state)
        self._store.publish_status(states)
        self._states.update((state.name, state) for state in states)
        return states
