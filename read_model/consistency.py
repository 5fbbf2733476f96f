"""Read-your-writes: wait until a projection has applied, and made searchable, a given outbox position."""

from __future__ import annotations

import asyncio
import time

from elasticsearch import AsyncElasticsearch, NotFoundError

from read_model.adapters._search_errors import search_failures
from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.errors import ConsistencyTimeout
from read_model.indexes import PROJECTION_STATUS, IndexNames

FIRST_DELAY = 0.005
MAX_DELAY = 0.1


class ConsistencyWaiter:
    def __init__(self, client: AsyncElasticsearch, names: IndexNames, timeout_seconds: float) -> None:
        self._client = client
        self._names = names
        self._status_alias = names.alias(PROJECTION_STATUS)
        self.timeout_seconds = timeout_seconds

    async def applied(self, projection: str) -> Checkpoint:
        """The position up to which `projection` is searchable, as its projector last published it."""
        with search_failures("cannot read projection status"):
            try:
                response = await self._client.get(index=self._status_alias, id=f"{self._names.prefix}{projection}")
            except NotFoundError:
                return ORIGIN
        source = response["_source"]
        return Checkpoint(source["transaction_id"], source["position"])

    async def wait(self, projection: str, target: Checkpoint) -> None:
        """Return once `projection` has reached `target`; raise `ConsistencyTimeout` after the timeout."""
        deadline = time.monotonic() + self.timeout_seconds
        delay = FIRST_DELAY
        while await self.applied(projection) < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConsistencyTimeout(
                    f"the {projection} read model did not reach the requested write within {self.timeout_seconds:g} s"
                )
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_DELAY)
