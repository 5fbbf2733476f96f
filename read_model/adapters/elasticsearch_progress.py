"""The projections' published progress, read from the status index the projector writes."""

from __future__ import annotations

from collections.abc import Sequence

from elasticsearch import AsyncElasticsearch, NotFoundError

from read_model.adapters._search_errors import search_failures
from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.consistency import AbstractPublishedProgress
from read_model.indexes import PROJECTION_STATUS, IndexNames


class ElasticsearchPublishedProgress(AbstractPublishedProgress):
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._names = names
        self._status_alias = names.alias(PROJECTION_STATUS)

    async def applied(self, projection: str) -> Checkpoint:
        """The position up to which `projection` is searchable, as its projector last published it."""
        with search_failures("cannot read projection status"):
            try:
                response = await self._client.get(index=self._status_alias, id=f"{self._names.prefix}{projection}")
            except NotFoundError:
                return ORIGIN
        source = response["_source"]
        return Checkpoint(source["transaction_id"], source["position"])

    async def published(self, projections: Sequence[str]) -> dict[str, Checkpoint]:
        ids = [f"{self._names.prefix}{name}" for name in projections]
        with search_failures("cannot read projection status"):
            # By id, which reads in real time: what the projector published a moment ago is there.
            response = await self._client.mget(index=self._status_alias, ids=ids)
        found = {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}
        positions = {}
        for name in projections:
            source = found.get(f"{self._names.prefix}{name}")
            positions[name] = ORIGIN if source is None else Checkpoint(source["transaction_id"], source["position"])
        return positions
