"""The customer search over the `customers` alias."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch

from read_model.adapters._snapshots import OpenSearches, Snapshots
from read_model.adapters._sorting import unique_sort
from read_model.indexes import CUSTOMERS, IndexNames
from read_model.search.customers import AbstractCustomerSearch, CustomerCriteria, CustomerHit, CustomerPage
from read_model.views import CustomerView

SORT_FIELDS = {
    "RELEVANCE": "_score",
    "NAME": "name.keyword",
    "REGISTERED_AT": "created_at",
    "LIFETIME_VALUE": "lifetime_value_cents",
    "ORDER_COUNT": "order_count",
    "LAST_ORDER_AT": "last_order_at",
}
DEFAULT_DIRECTIONS = {
    "RELEVANCE": "desc",
    "NAME": "asc",
    "REGISTERED_AT": "desc",
    "LIFETIME_VALUE": "desc",
    "ORDER_COUNT": "desc",
    "LAST_ORDER_AT": "desc",
}
# Below this many characters the start of an address matches too much to rank by.
MIN_EMAIL_PREFIX = 2


class ElasticsearchCustomerSearch(AbstractCustomerSearch):
    def __init__(
        self, client: AsyncElasticsearch, names: IndexNames, open_searches: OpenSearches | None = None
    ) -> None:
        self._snapshots = Snapshots(client, names.alias(CUSTOMERS), open_searches)

    async def search(
        self,
        criteria: CustomerCriteria,
        *,
        size: int,
        search_after: list[Any] | None = None,
        backward: bool = False,
        snapshot: str | None = None,
        pageable: bool = True,
    ) -> CustomerPage:
        page = await self._snapshots.page(
            search_body(criteria, backward=backward),
            size=size,
            search_after=search_after,
            backward=backward,
            snapshot=snapshot,
            what="customer search",
            pageable=pageable,
        )
        hits = [
            CustomerHit(CustomerView.of(hit["_source"]), hit["sort"], hit.get("highlight", {})) for hit in page.hits
        ]
        return CustomerPage(hits, page.response["hits"]["total"]["value"], page.has_more, page.snapshot)


def search_body(criteria: CustomerCriteria, *, backward: bool = False) -> dict[str, Any]:
    """The Elasticsearch search request for `criteria` (without size, position or point in time)."""
    body: dict[str, Any] = {
        "query": {"bool": {"must": [_text_query(criteria.text)], "filter": _filters(criteria)}},
        "sort": _sort(criteria, reverse=backward),
        "track_total_hits": True,
    }
    if criteria.text:
        body["highlight"] = {
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            "encoder": "html",  # the text around the tags is escaped: a name holding markup shows as text
            "fields": {
                "name": {"number_of_fragments": 1, "highlight_query": _name_marks(criteria.text)},
                "email": {"number_of_fragments": 1},
            },
        }
    return body


def _name_marks(text: str) -> dict[str, Any]:
    """What a name's highlight marks: the phrase as one span, and words within one edit of the query's.

    Not the search query's two-edit fuzziness (`AUTO` for words of six letters or more): highlighting
    with two edits cost most of the search. Elasticsearch took 6.1 to 7.7 ms for a page of 20 customers of
    1,000 with them, 2.7 to 3.0 ms with one edit, 1.6 to 1.8 ms without highlights (2026-12-03, three
    alternating rounds of 200 searches). A name found two edits away from the query is still found, its
    misspelled word not marked."""
    return {
        "bool": {
            "should": [
                {"match_phrase": {"name": {"query": text}}},
                {"match": {"name": {"query": text, "fuzziness": 1}}},
            ]
        }
    }


def _text_query(text: str | None) -> dict[str, Any]:
    if not text:
        return {"match_all": {}}
    should: list[dict[str, Any]] = [
        {"term": {"email": {"value": text, "boost": 20}}},
        {"match_phrase": {"name": {"query": text, "boost": 5}}},
        {"match": {"name": {"query": text, "fuzziness": "AUTO", "operator": "and", "boost": 3}}},
    ]
    if len(text) >= MIN_EMAIL_PREFIX and "@" not in text:
        # Without an @, the start of the address is the start of the part before it.
        should.append({"prefix": {"email": {"value": text.lower(), "boost": 4}}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _filters(criteria: CustomerCriteria) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    for field, low, high in (
        ("order_count", criteria.min_order_count, criteria.max_order_count),
        ("lifetime_value_cents", criteria.min_lifetime_value_cents, criteria.max_lifetime_value_cents),
    ):
        bounds = {name: value for name, value in (("gte", low), ("lte", high)) if value is not None}
        if bounds:
            filters.append({"range": {field: bounds}})
    registered = {
        name: value.isoformat()
        for name, value in (("gte", criteria.registered_from), ("lt", criteria.registered_to))
        if value is not None
    }
    if registered:
        filters.append({"range": {"created_at": registered}})
    return filters


def _sort(criteria: CustomerCriteria, *, reverse: bool) -> list[dict[str, Any]]:
    """The chosen sort, ending with the id; by default the best match first when there is text, else the
    newest registration. Customers without orders sort after the others by their last order, both ways."""
    chosen = criteria.sort or ((("RELEVANCE" if criteria.text else "REGISTERED_AT"), None),)
    return unique_sort(chosen, SORT_FIELDS, DEFAULT_DIRECTIONS, reverse=reverse, missing_last={"last_order_at"})
