"""How a product search's criteria become Elasticsearch clauses: filters, disjunctive facets, sorts."""

from __future__ import annotations

from typing import Any

from read_model.adapters._sorting import unique_sort
from read_model.search.products import ProductCriteria

# Price range facet buckets, in cents: [from, to).
PRICE_BUCKETS: tuple[tuple[int | None, int | None], ...] = (
    (None, 1_000),
    (1_000, 2_500),
    (2_500, 5_000),
    (5_000, 10_000),
    (10_000, 25_000),
    (25_000, 50_000),
    (50_000, None),
)
FACET_SIZE = 50
SORT_FIELDS = {"RELEVANCE": "_score", "PRICE": "price_cents", "NAME": "name.keyword", "CREATED_AT": "created_at"}
DEFAULT_DIRECTIONS = {"RELEVANCE": "desc", "PRICE": "asc", "NAME": "asc", "CREATED_AT": "desc"}
# The facets: their criteria field, and the document field they filter and count.
FACETS = {"brands": "brand", "categories": "category", "tags": "tags"}


def sort_clauses(criteria: ProductCriteria, *, reverse: bool = False) -> list[dict[str, Any]]:
    """The sort (best match first by default), ending with the id."""
    return unique_sort(criteria.sort or (("RELEVANCE", None),), SORT_FIELDS, DEFAULT_DIRECTIONS, reverse=reverse)


def base_filters(criteria: ProductCriteria) -> list[dict[str, Any]]:
    """The filters that are not facets: they narrow the hits and every facet's counts alike."""
    filters: list[dict[str, Any]] = []
    if criteria.in_stock is not None:
        filters.append({"term": {"in_stock": criteria.in_stock}})
    if criteria.status is not None:
        filters.append({"term": {"status": criteria.status}})
    return filters


def facet_filters(criteria: ProductCriteria, *, leave_out: str | None = None) -> list[dict[str, Any]]:
    """The facet filters (brands, categories, tags, price), but for `leave_out`: a facet counts its own
    values under the other facets' selections, which is what makes it disjunctive."""
    filters: list[dict[str, Any]] = []
    for facet, field in FACETS.items():
        values = criteria.selected(facet)
        if values and facet != leave_out:
            filters.append({"terms": {field: list(values)}})
    if leave_out != "price_ranges" and (criteria.min_price_cents is not None or criteria.max_price_cents is not None):
        bounds: dict[str, int] = {}
        if criteria.min_price_cents is not None:
            bounds["gte"] = criteria.min_price_cents
        if criteria.max_price_cents is not None:
            bounds["lte"] = criteria.max_price_cents
        filters.append({"range": {"price_cents": bounds}})
    return filters


def facet_aggregations(criteria: ProductCriteria) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for facet, field in FACETS.items():
        counted: dict[str, Any] = {"values": {"terms": {"field": field, "size": FACET_SIZE}}}
        selected = criteria.selected(facet)
        if selected:
            # Selected values are shown with their counts even when they are not among the most frequent.
            counted["selected"] = {"terms": {"field": field, "size": len(selected), "include": list(selected)}}
        aggs[facet] = {"filter": _all(facet_filters(criteria, leave_out=facet)), "aggs": counted}
    ranges = [{k: v for k, v in (("from", low), ("to", high)) if v is not None} for low, high in PRICE_BUCKETS]
    aggs["price_ranges"] = {
        "filter": _all(facet_filters(criteria, leave_out="price_ranges")),
        "aggs": {"buckets": {"range": {"field": "price_cents", "ranges": ranges}}},
    }
    return aggs


def _all(filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}
