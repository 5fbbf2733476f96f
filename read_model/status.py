"""Where each projection stands, as its projector last published it: the port of the `projections` query.
The Elasticsearch adapter is read_model/adapters/elasticsearch_status.py."""

from __future__ import annotations

import abc

from read_model.checkpoint import ProjectionState
from read_model.consumers import ConsumerState


class AbstractProjectionStatus(abc.ABC):
    @abc.abstractmethod
    async def all(self) -> list[ProjectionState]:
        """Every projection of this deployment a projector has reported on, by name (without the index prefix).

        A projection still behind keeps ageing after its last report: its `lag_seconds` is the published
        age of its oldest unapplied event plus the time since the report, so a stopped projector shows.
        """

    @abc.abstractmethod
    async def consumers(self) -> list[ConsumerState]:
        """Every outbox consumer other than the projector (the expiry saga) whose report the projector copied,
        by name (without the index prefix). A consumer still behind keeps ageing after its report, as a
        projection does."""
