"""The audit trail: outbox events over the `events` alias, newest first."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch

from read_model.adapters._search_errors import search_failures
from read_model.indexes import EVENTS, IndexNames
from read_model.search.events import AbstractEventSearch, EventPage
from read_model.views import EventView

# Newest first: the reverse of commit order, which the pair (transaction id, position) is.
NEWEST_FIRST = [{"transaction_id": "desc"}, {"position": "desc"}]


class ElasticsearchEventSearch(AbstractEventSearch):
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._alias = names.alias(EVENTS)

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
