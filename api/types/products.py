"""Product read-model types: built from search documents, never from the write model."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.ids import to_global_id
from api.types.enums import ProductSortField, ProductStatus, SortDirection
from api.types.node import Highlight, Node, PageInfo
from api.types.scalars import Decimal, decimal_from_cents, decimal_text
from read_model.search.products import FacetCount, FacetCounts
from read_model.views import ProductView


@strawberry.type
class Product(Node):
    sku: str
    name: str
    description: str
    brand: str
    category: str
    tags: list[str]
    price: Decimal
    stock: int
    status: ProductStatus
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: ProductView) -> Product:
        return cls(
            id=strawberry.ID(to_global_id("Product", view.id)),
            sku=view.sku,
            name=view.name,
            description=view.description,
            brand=view.brand,
            category=view.category,
            tags=list(view.tags),
            price=decimal_text(view.price),
            stock=view.stock,
            status=ProductStatus(view.status),
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product
    highlights: list[Highlight]


@strawberry.type
class FacetValue:
    value: str
    count: int
    selected: bool


@strawberry.type
class RangeBucket:
    from_: Decimal | None = strawberry.field(name="from")
    to: Decimal | None
    count: int


@strawberry.type
class ProductFacets:
    brands: list[FacetValue]
    categories: list[FacetValue]
    tags: list[FacetValue]
    price_ranges: list[RangeBucket]


@strawberry.input
class ProductFilter:
    brands: list[str] | None = None
    categories: list[str] | None = None
    tags: list[str] | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    status: ProductStatus | None = None


@strawberry.input
class ProductSort:
    field: ProductSortField
    direction: SortDirection | None = None


@strawberry.type
class ProductSuggestion:
    id: strawberry.ID
    sku: str
    name: str


def _facets(root: strawberry.Parent[ProductConnection]) -> ProductFacets:
    counts = root.facet_counts
    if counts is None:
        raise RuntimeError("facets were not computed for this search")

    def values(found: list[FacetCount]) -> list[FacetValue]:
        return [FacetValue(value=f.value, count=f.count, selected=f.selected) for f in found]

    return ProductFacets(
        brands=values(counts.brands),
        categories=values(counts.categories),
        tags=values(counts.tags),
        price_ranges=[
            RangeBucket(from_=_or_none(bucket.from_cents), to=_or_none(bucket.to_cents), count=bucket.count)
            for bucket in counts.price_ranges
        ],
    )


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo
    total_count: int
    facet_counts: strawberry.Private[FacetCounts | None] = None

    facets: ProductFacets = strawberry.field(
        resolver=_facets,
        description="Counts per brand, category, tag and price range (`from` included, `to` excluded). Each "
        "facet counts its values under the other facets' selections: selecting a brand still shows the other "
        "brands' counts.",
    )

    did_you_mean: str | None = strawberry.field(
        default=None,
        description="A better spelling of the query, when it finds fewer than 10 products and product names "
        "suggest one.",
    )


def _or_none(cents: int | None) -> Decimal | None:
    return None if cents is None else decimal_from_cents(cents)
