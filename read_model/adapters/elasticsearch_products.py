"""Product lookups and full-text product search over the `products` alias."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch

from read_model.adapters._lookup import get_view
from read_model.adapters._product_query import (
    base_filters,
    facet_aggregations,
    facet_filters,
    sort_clauses,
)
from read_model.adapters._search_errors import search_failures
from read_model.adapters._snapshots import OpenSearches, Snapshots
from read_model.indexes import PRODUCTS, IndexNames
from read_model.projections import Document
from read_model.search.products import (
    AbstractProductSearch,
    FacetCount,
    FacetCounts,
    PriceBucket,
    ProductCriteria,
    ProductHit,
    ProductPage,
)
from read_model.views import ProductSuggestionView, ProductView

SEARCH_FIELDS = [
    "name^3",
    "name.shingles^2",
    "brand.text^2",
    "category.text",
    "tags.text^1.5",
    "description",
    "sku",
]
HIGHLIGHT_FIELDS = ("name", "description", "brand.text", "category.text", "tags.text")


# A search finding fewer products than this offers a better spelling when there is one.
FEW_RESULTS = 10


class ElasticsearchProductSearch(AbstractProductSearch):
    def __init__(
        self, client: AsyncElasticsearch, names: IndexNames, open_searches: OpenSearches | None = None
    ) -> None:
        self._client = client
        self._alias = names.alias(PRODUCTS)
        self._snapshots = Snapshots(client, self._alias, open_searches)

    async def get(self, product_id: str) -> ProductView | None:
        return await get_view(self._client, self._alias, product_id, ProductView.of)

    async def suggest(self, prefix: str, *, size: int) -> list[ProductSuggestionView]:
        body = {
            "_source": ["id", "sku", "name", "status"],
            "suggest": {
                "products": {
                    "prefix": prefix,
                    # Discontinued products are dropped below: ask for enough to fill the page anyway.
                    "completion": {
                        "field": "suggest",
                        "size": size * 3,
                        "skip_duplicates": True,
                        "fuzzy": {"fuzziness": 1, "min_length": 4},
                    },
                }
            },
        }
        with search_failures("product suggestions failed"):
            response = await self._client.search(index=self._alias, body=body)
        options = response["suggest"]["products"][0]["options"]
        found: dict[str, Document] = {}
        for option in options:
            source = option["_source"]
            if source["status"] == "ACTIVE":
                found.setdefault(source["id"], source)
        return [ProductSuggestionView.of(source) for source in list(found.values())[:size]]

    async def search(
        self,
        criteria: ProductCriteria,
        *,
        size: int,
        search_after: list[Any] | None = None,
        backward: bool = False,
        with_facets: bool = False,
        with_spelling: bool = False,
        snapshot: str | None = None,
        pageable: bool = True,
    ) -> ProductPage:
        body = search_body(criteria, size=size, backward=backward, with_facets=with_facets, with_spelling=with_spelling)
        page = await self._snapshots.page(
            body,
            size=size,
            search_after=search_after,
            backward=backward,
            snapshot=snapshot,
            what="product search",
            pageable=pageable,
        )
        hits = [ProductHit(ProductView.of(hit["_source"]), hit["sort"], hit.get("highlight", {})) for hit in page.hits]
        facets = _facet_counts(criteria, page.response["aggregations"]) if with_facets else None
        total = page.response["hits"]["total"]["value"]
        better = _better_spelling(criteria.text, page.response.get("suggest")) if total < FEW_RESULTS else None
        return ProductPage(hits, total, page.has_more, facets, better, page.snapshot)


def search_body(
    criteria: ProductCriteria,
    *,
    size: int,
    backward: bool = False,
    with_facets: bool = False,
    with_spelling: bool = False,
) -> dict[str, Any]:
    """The Elasticsearch search request for `criteria` (without position or point in time)."""
    body: dict[str, Any] = {
        "query": {"bool": {"must": [_text_query(criteria.text)], "filter": base_filters(criteria)}},
        "post_filter": {"bool": {"filter": facet_filters(criteria)}},
        "sort": sort_clauses(criteria, reverse=backward),
        "size": size,
        "track_total_hits": True,
    }
    if criteria.text:
        body["highlight"] = {
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            # The snippets are HTML: the text around the tags is escaped, so a name holding markup shows as text.
            "encoder": "html",
            "fields": _highlighted_fields(criteria.text),
        }
    if with_facets:
        body["aggs"] = facet_aggregations(criteria)
    if with_spelling and criteria.text:
        body["suggest"] = _spelling(criteria.text)
    return body


def _highlighted_fields(text: str) -> dict[str, Any]:
    """Each highlighted field with what it marks: the phrase as one span (in the name), and words within one
    edit of the query's words (in every field).

    Not the search query itself: highlighting re-runs its two-edit fuzzy clauses on every hit's every
    field, which took 400 to 800 ms a search for words of six letters or more over 10,000 products. One edit
    keeps typos marked (`sweatr` marks `sweater`). And each field a query of its own, naming only that
    field: the same snippets (154 searches compared) as one query over all five fields, for a third to a
    quarter of the cost. Elasticsearch's CPU for a search of 20 products with facets over 10,000 went from
    32 to 36 ms to 18 to 22 ms, 14 of which without highlights (2026-12-03, three alternating rounds of
    150 searches)."""
    fields: dict[str, Any] = {}
    for name in HIGHLIGHT_FIELDS:
        marks: list[dict[str, Any]] = [
            {"match": {name: {"query": text, "fuzziness": 1, "prefix_length": 1, "max_expansions": 10}}}
        ]
        if name == "name":
            marks.insert(0, {"match_phrase": {"name": {"query": text}}})
        fields[name] = {"number_of_fragments": 3, "highlight_query": {"bool": {"should": marks}}}
    return fields


def _spelling(text: str) -> dict[str, Any]:
    """A phrase suggester over product names (with their word pairs and triples): whole-phrase corrections
    made only of words that occur in names."""
    return {
        "text": text,
        "did_you_mean": {
            "phrase": {
                "field": "name.shingles",
                "size": 1,
                "gram_size": 3,
                "max_errors": 2,
                "direct_generator": [{"field": "name.shingles", "suggest_mode": "always", "min_word_length": 3}],
            }
        },
    }


def _better_spelling(text: str | None, suggest: dict[str, Any] | None) -> str | None:
    if not text or not suggest:
        return None
    options = suggest["did_you_mean"][0]["options"]
    if not options or options[0]["text"] == text.lower():
        return None
    better: str = options[0]["text"]
    return better


def _facet_counts(criteria: ProductCriteria, aggregations: dict[str, Any]) -> FacetCounts:
    def values(facet: str) -> list[FacetCount]:
        chosen = set(criteria.selected(facet))
        agg = aggregations[facet]
        counts = {bucket["key"]: bucket["doc_count"] for bucket in agg["values"]["buckets"]}
        for bucket in agg.get("selected", {}).get("buckets", []):
            counts.setdefault(bucket["key"], bucket["doc_count"])
        for value in chosen:
            counts.setdefault(value, 0)
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [FacetCount(value, count, value in chosen) for value, count in ordered]

    ranges = aggregations["price_ranges"]["buckets"]["buckets"]
    return FacetCounts(
        brands=values("brands"),
        categories=values("categories"),
        tags=values("tags"),
        price_ranges=[
            PriceBucket(
                None if "from" not in bucket else int(bucket["from"]),
                None if "to" not in bucket else int(bucket["to"]),
                bucket["doc_count"],
            )
            for bucket in ranges
        ],
    )


def _text_query(text: str | None) -> dict[str, Any]:
    if not text:
        return {"match_all": {}}
    return {
        "bool": {
            "should": [
                {"term": {"sku": {"value": text, "boost": 20}}},
                {"term": {"name.keyword": {"value": text, "boost": 20}}},
                {"match_phrase": {"name": {"query": text, "boost": 3}}},
                {
                    "multi_match": {
                        "query": text,
                        "fields": SEARCH_FIELDS,
                        "fuzziness": "AUTO",
                        "prefix_length": 1,
                        "operator": "and",
                    }
                },
                {"multi_match": {"query": text, "fields": SEARCH_FIELDS, "fuzziness": "AUTO", "boost": 0.3}},
            ],
            "minimum_should_match": 1,
        }
    }
