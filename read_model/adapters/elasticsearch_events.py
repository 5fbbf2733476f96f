"""The audit trail: outbox events over the `events` alias, newest first."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch

from read_model.adapters._search_errors import search_failures
from read_model.checkpoint import Checkpoint
from read_model.indexes import EVENTS, IndexNames
from read_model.search.events import AbstractEventSearch, EventPage
from read_model.views import EventView

# Newest first: the reverse of commit order, which the pair (transaction id, position) is.
NEWEST_FIRST = [{"transaction_id": "desc"}, {"position": "desc"}]
COMMIT_ORDER = [{"transaction_id": "asc"}, {"position": "asc"}]


class ElasticsearchEventSearch(AbstractEventSearch):
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._alias = names.alias(EVENTS)

    async def after(
        self,
        start: Checkpoint,
        end: Checkpoint,
        *,
        size: int,
        aggregate_id: str | None = None,
        types: tuple[str, ...] = (),
    ) -> list[EventView]:
        if size <= 0 or end <= start:
            return []
        filters: list[dict[str, Any]] = [
            # The pair is compared as a pair: a transaction's events can straddle either bound.
            {"range": {"transaction_id": {"gte": start.transaction_id, "lte": end.transaction_id}}},
            _beyond(start),
            _not_beyond(end),
        ]
        if aggregate_id is not None:
            filters.append({"term": {"aggregate_id": aggregate_id}})
        if types:
            filters.append({"terms": {"type": list(types)}})
        body = {"query": {"bool": {"filter": filters}}, "sort": COMMIT_ORDER, "size": size, "track_total_hits": False}
        with search_failures("event search failed"):
            response = await self._client.search(index=self._alias, body=body)
        return [EventView.of(hit["_source"]) for hit in response["hits"]["hits"]]

    async def search(
        self, *, aggregate_id: str | None, types: tuple[str, ...], size: int, search_after: list[Any] | None
    ) -> EventPage:
        filters: list[dict[str, Any]] = []
        if aggregate_id is not None:
            filters.append({"term": {"aggregate_id": aggregate_id}})
        if types:
            filters.append({"terms": {"type": list(types)}})
        body: dict[str, Any] = {
            "query": {"bool": {"filter": filters}},
            "sort": NEWEST_FIRST,
            "size": size + 1,
            "track_total_hits": True,
        }
        if search_after is not None:
            body["search_after"] = search_after
        with search_failures("event search failed", position_given=search_after is not None):
            response = await self._client.search(index=self._alias, body=body)
        raw = response["hits"]["hits"]
        return EventPage(
            [(EventView.of(hit["_source"]), hit["sort"]) for hit in raw[:size]],
            response["hits"]["total"]["value"],
            len(raw) > size,
        )


def _beyond(start: Checkpoint) -> dict[str, Any]:
    """After `start` in commit order: a later transaction, or a later position in the same one."""
    return {
        "bool": {
            "should": [
                {"range": {"transaction_id": {"gt": start.transaction_id}}},
                {"range": {"position": {"gt": start.position}}},
            ],
            "minimum_should_match": 1,
        }
    }


def _not_beyond(end: Checkpoint) -> dict[str, Any]:
    """At or before `end` in commit order: an earlier transaction, or an earlier or equal position in it."""
    return {
        "bool": {
            "should": [
                {"range": {"transaction_id": {"lt": end.transaction_id}}},
                {"range": {"position": {"lte": end.position}}},
            ],
            "minimum_should_match": 1,
        }
    }
