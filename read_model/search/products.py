"""Product lookups and full-text product search over the `products` alias."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError, NotFoundError, TransportError

from read_model.errors import InvalidSearchPosition, SearchUnavailable
from read_model.indexes import PRODUCTS, IndexNames
from read_model.projections import Document

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


@dataclass(frozen=True)
class ProductHit:
    document: Document
    sort: list[Any]
    highlights: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductPage:
    hits: list[ProductHit]
    total: int
    has_more: bool


class ProductSearch:
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._alias = names.alias(PRODUCTS)

    async def get(self, product_id: str) -> Document | None:
        try:
            response = await self._client.get(index=self._alias, id=product_id)
        except NotFoundError:
            return None
        except (ApiError, TransportError) as exc:
            raise SearchUnavailable(f"product lookup failed: {exc}") from exc
        source: Document = response["_source"]
        return source

    async def search(self, text: str | None, *, size: int, search_after: list[Any] | None) -> ProductPage:
        """One page of products matching `text` (all products when None), best match first.

        Ranks an exact SKU or name match above everything else and tolerates typos. Fetches one hit more
        than `size` to tell whether another page follows.
        """
        body: dict[str, Any] = {
            "query": _text_query(text),
            "sort": [{"_score": "desc"}, {"id": "asc"}],
            "size": size + 1,
            "track_total_hits": True,
        }
        if text:
            body["highlight"] = {
                "pre_tags": ["<em>"],
                "post_tags": ["</em>"],
                "fields": {name: {"number_of_fragments": 3} for name in HIGHLIGHT_FIELDS},
            }
        if search_after is not None:
            body["search_after"] = search_after
        try:
            response = await self._client.search(index=self._alias, body=body)
        except BadRequestError as exc:
            if search_after is not None:
                raise InvalidSearchPosition("the cursor does not fit this search") from exc
            raise SearchUnavailable(f"product search failed: {exc}") from exc
        except (ApiError, TransportError) as exc:
            raise SearchUnavailable(f"product search failed: {exc}") from exc
        raw_hits = response["hits"]["hits"]
        hits = [ProductHit(hit["_source"], hit["sort"], hit.get("highlight", {})) for hit in raw_hits[:size]]
        return ProductPage(hits, response["hits"]["total"]["value"], len(raw_hits) > size)


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
