"""Where each projection stands, read from the status index its projector publishes to."""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import AsyncElasticsearch

from read_model.adapters._search_errors import search_failures
from read_model.checkpoint import Checkpoint, ProjectionState
from read_model.consumers import ConsumerState
from read_model.indexes import PROJECTION_STATUS, IndexNames
from read_model.status import AbstractProjectionStatus


class ElasticsearchProjectionStatus(AbstractProjectionStatus):
    def __init__(
        self, client: AsyncElasticsearch, names: IndexNames, projections: list[str], consumers: list[str]
    ) -> None:
        self._client = client
        self._names = names
        self._projections = projections
        self._consumers = consumers

    async def all(self) -> list[ProjectionState]:
        """Every projection of this deployment a projector has reported on, by name (without the index prefix).

        A projection still behind keeps ageing after its last report: its `lag_seconds` is the published
        age of its oldest unapplied event plus the time since the report, so a stopped projector shows.
        """
        ids = [f"{self._names.prefix}{name}" for name in self._projections]
        with search_failures("cannot read projection status"):
            # By id, which reads in real time: a search would not see a report younger than the refresh.
            response = await self._client.mget(index=self._names.alias(PROJECTION_STATUS), ids=ids)
        now = datetime.now(UTC)
        states = []
        for doc in response["docs"]:
            if not doc.get("found"):
                continue  # not projected yet: no projector has run
            source = doc["_source"]
            lag_events = source.get("lag_events", 0)
            lag_seconds = source.get("lag_seconds", 0.0)
            if lag_events > 0:
                lag_seconds += (now - datetime.fromisoformat(source["updated_at"])).total_seconds()
            states.append(
                ProjectionState(
                    name=source["name"].removeprefix(self._names.prefix),
                    checkpoint=Checkpoint(source["transaction_id"], source["position"]),
                    lag_events=lag_events,
                    lag_seconds=round(lag_seconds, 3),
                    dead_letters=source.get("dead_letters", 0),
                )
            )
        return states

    async def consumers(self) -> list[ConsumerState]:
        ids = [f"{self._names.prefix}{name}" for name in self._consumers]
        with search_failures("cannot read the outbox consumers' status"):
            response = await self._client.mget(index=self._names.alias(PROJECTION_STATUS), ids=ids)
        now = datetime.now(UTC)
        states = []
        for doc in response["docs"]:
            if not doc.get("found"):
                continue  # never reported: not started yet
            source = doc["_source"]
            updated_at = datetime.fromisoformat(source["updated_at"])
            lag_seconds = source["lag_seconds"]
            if source["lag_events"] > 0:
                lag_seconds += (now - updated_at).total_seconds()
            states.append(
                ConsumerState(
                    name=source["name"].removeprefix(self._names.prefix),
                    kind=source["kind"],
                    checkpoint=Checkpoint(source["transaction_id"], source["position"]),
                    lag_events=source["lag_events"],
                    lag_seconds=round(lag_seconds, 3),
                    dead_letters=source["dead_letters"],
                    pending=source["pending"],
                    overdue=source["overdue"],
                    updated_at=updated_at,
                )
            )
        return states
