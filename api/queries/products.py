"""`product`, `products` and `productSuggestions`."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.errors import bad_input, not_implemented
from api.pagination import decode_cursor, encode_cursor, page_size
from api.queries._read import parse_id, read_model_call, wait_for_token
from api.types.node import PageInfo
from api.types.products import (
    Highlight,
    Product,
    ProductConnection,
    ProductEdge,
    ProductFilter,
    ProductSort,
    ProductSuggestion,
)

MAX_QUERY_LENGTH = 256
PROJECTION = "products"


async def product(
    info: strawberry.Info[Context, None], id: strawberry.ID, consistent_with: str | None = None
) -> Product | None:
    read = info.context.read
    product_id = parse_id(id, "Product")
    await wait_for_token(read, PROJECTION, consistent_with)
    document = await read_model_call(read.products.get(str(product_id)))
    return None if document is None else Product.from_document(document)


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
    if filter is not None:
        raise not_implemented("products(filter:)", 5)
    if sort is not None:
        raise not_implemented("products(sort:)", 5)
    if last is not None or before is not None:
        raise not_implemented("products(last:, before:)", 5)
    text = (query or "").strip() or None
    if text is not None and len(text) > MAX_QUERY_LENGTH:
        raise bad_input(f"query must be at most {MAX_QUERY_LENGTH} characters")
    settings = info.context.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    search_after = None if after is None else decode_cursor(after)
    read = info.context.read
    await wait_for_token(read, PROJECTION, consistent_with)
    page = await read_model_call(read.products.search(text, size=size, search_after=search_after))
    edges = [
        ProductEdge(
            cursor=encode_cursor(hit.sort),
            node=Product.from_document(hit.document),
            highlights=[Highlight(field=name.split(".")[0], snippets=s) for name, s in hit.highlights.items()],
        )
        for hit in page.hits
    ]
    return ProductConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_more,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total,
    )


async def product_suggestions(
    info: strawberry.Info[Context, None], prefix: str, first: int | None = None
) -> list[ProductSuggestion]:
    raise not_implemented("productSuggestions", 5)
