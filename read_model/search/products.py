"""The product search port: what the API asks of the catalog, and what it gets back.

The Elasticsearch adapter is read_model/adapters/elasticsearch_products.py.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from read_model.views import ProductSuggestionView, ProductView


@dataclass(frozen=True, kw_only=True)
class ProductCriteria:
    """What a client asks of the product search. Facet values are matched exactly; a facet's values are
    alternatives (any of them), different facets and the other filters must all hold."""

    text: str | None = None
    brands: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    in_stock: bool | None = None
    status: str | None = None
    # (RELEVANCE | PRICE | NAME | CREATED_AT, "asc" | "desc" | None for the field's natural direction)
    sort: tuple[tuple[str, str | None], ...] = ()

    def selected(self, facet: str) -> tuple[str, ...]:
        values: tuple[str, ...] = getattr(self, facet)
        return values


@dataclass(frozen=True)
class ProductHit:
    product: ProductView
    sort: list[Any]
    highlights: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class PriceBucket:
    from_cents: int | None
    to_cents: int | None
    count: int


@dataclass(frozen=True)
class FacetCounts:
    brands: list[FacetCount]
    categories: list[FacetCount]
    tags: list[FacetCount]
    price_ranges: list[PriceBucket]


@dataclass(frozen=True)
class ProductPage:
    hits: list[ProductHit]
    total: int
    has_more: bool
    facets: FacetCounts | None = None
    did_you_mean: str | None = None
    # The point in time the page was read from: the next pages of this search read from it too.
    snapshot: str | None = None


class AbstractProductSearch(abc.ABC):
    @abc.abstractmethod
    async def get(self, product_id: str) -> ProductView | None:
        """The product with this id, read in real time; `None` when the index does not hold it."""

    @abc.abstractmethod
    async def suggest(self, prefix: str, *, size: int) -> list[ProductSuggestionView]:
        """Up to `size` active products whose name or SKU starts with `prefix`, best first. From 4 characters
        on, a prefix with one typo still finds them (ranked after exact ones); shorter ones must match."""

    @abc.abstractmethod
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
        """One page of the products matching `criteria`, in its sort (best match first by default).

        Ranks an exact SKU or name match above everything else and tolerates typos. `backward` reads the page
        before `search_after` instead of the one after it (hits still in the sort's order). Fetches one hit
        more than `size` to tell whether another page follows in that direction. `total` counts every match.

        Every page of one search reads the same point in time (`snapshot`, opened for its first page), so
        paging neither repeats nor skips a product however the index changes meanwhile. An expired or unknown
        snapshot is `InvalidSearchPosition`. A first page the caller cannot page on (`pageable` false: it asked
        for no cursor) is read without a point in time, in one request; its `snapshot` is then `None`.
        """
