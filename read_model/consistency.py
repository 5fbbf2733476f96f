"""Read-your-writes: wait until a projection has applied, and made searchable, a given outbox position."""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Sequence

from read_model.checkpoint import Checkpoint
from read_model.errors import ConsistencyTimeout

FIRST_DELAY = 0.005
MAX_DELAY = 0.1


class AbstractPublishedProgress(abc.ABC):
    @abc.abstractmethod
    async def applied(self, projection: str) -> Checkpoint:
        """The position up to which `projection` is searchable, as its projector last published it."""

    @abc.abstractmethod
    async def published(self, projections: Sequence[str]) -> dict[str, Checkpoint]:
        """`applied` of each of `projections`, read together in one request."""


class ConsistencyWaiter:
    def __init__(self, progress: AbstractPublishedProgress, timeout_seconds: float) -> None:
        self._progress = progress
        self.timeout_seconds = timeout_seconds

    @property
    def progress(self) -> AbstractPublishedProgress:
        """Where the projections stand, as this waiter reads it."""
        return self._progress

    async def wait(self, projection: str, target: Checkpoint) -> None:
        """Return once `projection` has reached `target`; raise `ConsistencyTimeout` after the timeout."""
        deadline = time.monotonic() + self.timeout_seconds
        delay = FIRST_DELAY
        while await self._progress.applied(projection) < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConsistencyTimeout(
                    f"the {projection} read model did not reach the requested write within {self.timeout_seconds:g} s"
                )
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_DELAY)
