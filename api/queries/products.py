"""`product`, `products` and `productSuggestions`."""

from __future__ import annotations

from functools import partial

import strawberry

from api.context import Context
from api.errors import bad_input
from api.ids import to_global_id
from api.pagination import page_size
from api.queries._read import (
    cents_range,
    check_readable,
    paging,
    parse_id,
    read_model_call,
    search_page,
    search_text,
    selects,
    sort_keys,
    wait_for_token,
)
from api.types.node import Highlight
from api.types.products import (
    Product,
    ProductConnection,
    ProductEdge,
    ProductFilter,
    ProductSort,
    ProductSuggestion,
)
from read_model.search.products import ProductCriteria

MAX_FILTER_VALUES = 50
MAX_FILTER_VALUE_LENGTH = 100
MAX_SUGGESTION_PREFIX = 100
DEFAULT_SUGGESTIONS = 10
MAX_SUGGESTIONS = 20
PROJECTION = "products"


async def product(
    info: strawberry.Info[Context, None], id: strawberry.ID, consistent_with: str | None = None
) -> Product | None:
    read = info.context.read
    product_id = parse_id(id, "Product")
    await wait_for_token(read, PROJECTION, consistent_with)
    document = await read_model_call(info.context, read.products.get(str(product_id)))
    return None if document is None else Product.of(document)


async def products(
    info: strawberry.Info[Context, None],
    query: str | None = None,
    filter: ProductFilter | None = None,
    sort: list[ProductSort] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    consistent_with: str | None = None,
) -> ProductConnection:
    criteria = criteria_of(query, filter, sort)
    page_of = paging(info, first, after, last, before)
    # Facets and a better spelling cost a search of their own: asked of Elasticsearch only when asked for.
    search = partial(
        info.context.read.products.search,
        with_facets=selects(info, "facets"),
        with_spelling=selects(info, "didYouMean"),
    )
    page, cursor = await search_page(
        info, search, criteria, projection=PROJECTION, page_of=page_of, consistent_with=consistent_with
    )
    edges = [
        ProductEdge(
            cursor=cursor(hit.sort),
            node=Product.of(hit.product),
            highlights=[Highlight(field=name.split(".")[0], snippets=s) for name, s in hit.highlights.items()],
        )
        for hit in page.hits
    ]
    return ProductConnection(
        edges=edges,
        page_info=page_of.page_info([edge.cursor for edge in edges], page.has_more),
        total_count=page.total,
        facet_counts=page.facets,
        did_you_mean=page.did_you_mean,
    )


def criteria_of(query: str | None, filter: ProductFilter | None, sort: list[ProductSort] | None) -> ProductCriteria:
    """The search criteria of the arguments, or a BAD_USER_INPUT error naming what is wrong with them."""
    text = search_text(query)
    chosen = filter or ProductFilter()
    values = {facet: _facet_values(facet, getattr(chosen, facet)) for facet in ("brands", "categories", "tags")}
    low, high = cents_range("minPrice", chosen.min_price, "maxPrice", chosen.max_price)
    return ProductCriteria(
        text=text,
        brands=values["brands"],
        categories=values["categories"],
        tags=values["tags"],
        min_price_cents=low,
        max_price_cents=high,
        in_stock=chosen.in_stock,
        status=None if chosen.status is None else chosen.status.value,
        sort=sort_keys(sort),
    )


def _facet_values(name: str, values: list[str] | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if len(values) > MAX_FILTER_VALUES:
        raise bad_input(f"filter.{name} takes at most {MAX_FILTER_VALUES} values")
    if any(len(value) > MAX_FILTER_VALUE_LENGTH for value in values):
        raise bad_input(f"filter.{name} values must be at most {MAX_FILTER_VALUE_LENGTH} characters")
    for value in values:
        check_readable(f"filter.{name}", value)
    return tuple(dict.fromkeys(values))


async def product_suggestions(
    info: strawberry.Info[Context, None], prefix: str, first: int | None = None
) -> list[ProductSuggestion]:
    text = prefix.strip()
    if not 1 <= len(text) <= MAX_SUGGESTION_PREFIX:
        raise bad_input(f"prefix must be 1 to {MAX_SUGGESTION_PREFIX} characters")
    check_readable("prefix", text)
    size = page_size(first, default=DEFAULT_SUGGESTIONS, maximum=MAX_SUGGESTIONS)
    if size == 0:
        return []
    found = await read_model_call(info.context, info.context.read.products.suggest(text, size=size))
    return [
        ProductSuggestion(id=strawberry.ID(to_global_id("Product", view.id)), sku=view.sku, name=view.name)
        for view in found
    ]
