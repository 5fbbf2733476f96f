"""Order lookups, and order search with status counts, over the `orders` alias."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch

from read_model.adapters._lookup import get_view
from read_model.adapters._search_errors import search_failures
from read_model.adapters._snapshots import OpenSearches, Snapshots
from read_model.adapters._sorting import unique_sort
from read_model.indexes import ORDERS, IndexNames
from read_model.search.orders import AbstractOrderSearch, OrderCriteria, OrderPage
from read_model.views import OrderView

SORT_FIELDS = {"PLACED_AT": "placed_at", "TOTAL": "total_cents"}
DEFAULT_DIRECTIONS = {"PLACED_AT": "desc", "TOTAL": "desc"}
TEXT_FIELDS = ["customer.name^2", "customer.email.text", "product_names"]


class ElasticsearchOrderSearch(AbstractOrderSearch):
    def __init__(
        self, client: AsyncElasticsearch, names: IndexNames, open_searches: OpenSearches | None = None
    ) -> None:
        self._client = client
        self._alias = names.alias(ORDERS)
        self._snapshots = Snapshots(client, self._alias, open_searches)

    async def get(self, order_id: str) -> OrderView | None:
        return await get_view(self._client, self._alias, order_id, OrderView.of)

    async def many(self, order_ids: list[str]) -> dict[str, OrderView]:
        if not order_ids:
            return {}
        with search_failures(f"lookup in {self._alias} failed"):
            response = await self._client.mget(index=self._alias, ids=order_ids)
        return {doc["_id"]: OrderView.of(doc["_source"]) for doc in response["docs"] if doc.get("found")}

    async def search(
        self,
        criteria: OrderCriteria,
        *,
        size: int,
        search_after: list[Any] | None = None,
        backward: bool = False,
        snapshot: str | None = None,
        pageable: bool = True,
    ) -> OrderPage:
        body: dict[str, Any] = {
            "query": {"bool": {"must": [_text_query(criteria.text)], "filter": _filters(criteria)}},
            "post_filter": {"terms": {"status": list(criteria.statuses)}} if criteria.statuses else {"match_all": {}},
            "sort": _sort(criteria, reverse=backward),
            "track_total_hits": True,
            "aggs": {"statuses": {"terms": {"field": "status", "size": 10}}},
        }
        page = await self._snapshots.page(
            body,
            size=size,
            search_after=search_after,
            backward=backward,
            snapshot=snapshot,
            what="order search",
            pageable=pageable,
        )
        hits = [(OrderView.of(hit["_source"]), hit["sort"]) for hit in page.hits]
        counts = {b["key"]: b["doc_count"] for b in page.response["aggregations"]["statuses"]["buckets"]}
        return OrderPage(hits, page.response["hits"]["total"]["value"], page.has_more, counts, page.snapshot)


def _text_query(text: str | None) -> dict[str, Any]:
    if not text:
        return {"match_all": {}}
    return {
        "bool": {
            "should": [
                {"term": {"id": {"value": text, "boost": 20}}},
                {"term": {"skus": {"value": text, "boost": 10}}},
                {"term": {"customer.email": {"value": text, "boost": 10}}},
                {"multi_match": {"query": text, "fields": TEXT_FIELDS, "fuzziness": "AUTO", "operator": "and"}},
            ],
            "minimum_should_match": 1,
        }
    }


def _filters(criteria: OrderCriteria) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if criteria.customer_id is not None:
        filters.append({"term": {"customer.id": criteria.customer_id}})
    if criteria.product_id is not None:
        filters.append({"term": {"product_ids": criteria.product_id}})
    placed: dict[str, str] = {}
    if criteria.placed_from is not None:
        placed["gte"] = criteria.placed_from.isoformat()
    if criteria.placed_to is not None:
        placed["lt"] = criteria.placed_to.isoformat()
    if placed:
        filters.append({"range": {"placed_at": placed}})
    total: dict[str, int] = {}
    if criteria.min_total_cents is not None:
        total["gte"] = criteria.min_total_cents
    if criteria.max_total_cents is not None:
        total["lte"] = criteria.max_total_cents
    if total:
        filters.append({"range": {"total_cents": total}})
    return filters


def _sort(criteria: OrderCriteria, *, reverse: bool) -> list[dict[str, Any]]:
    return unique_sort(criteria.sort or (("PLACED_AT", None),), SORT_FIELDS, DEFAULT_DIRECTIONS, reverse=reverse)
