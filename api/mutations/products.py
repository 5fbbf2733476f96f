"""Product mutations: `createProduct`, `updateProductDetails`, `changeProductPrice`, `restockProduct`,
`discontinueProduct`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Context
from api.errors import not_implemented
from api.ids import to_global_id
from api.mutations._dispatch import dispatch, token_of, validation_failed
from api.queries import products as product_queries
from api.types import errors as gql
from api.types.products import Product
from api.types.results import MutationSuccess
from api.types.scalars import Decimal
from write_model.commands import CreateProduct
from write_model.domain.errors import DuplicateSku, ValidationFailed


@strawberry.input
class CreateProductInput:
    sku: str
    name: str
    brand: str
    category: str
    price: Decimal
    description: str | None = None
    tags: list[str] | None = None
    initial_stock: int | None = None


@strawberry.input
class UpdateProductDetailsInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = None
    description: str | None = None
    brand: str | None = None
    category: str | None = None
    tags: list[str] | None = None


@strawberry.input
class ChangeProductPriceInput:
    id: strawberry.ID
    price: Decimal
    expected_version: int | None = None


@strawberry.input
class RestockProductInput:
    id: strawberry.ID
    quantity: int
    expected_version: int | None = None


@strawberry.input
class DiscontinueProductInput:
    id: strawberry.ID
    expected_version: int | None = None


async def _product_after_write(
    root: strawberry.Parent[ProductChanged], info: strawberry.Info[Context, None]
) -> Product | None:
    return await product_queries.product(info, root.product_id, root.consistency_token)


@strawberry.type
class ProductChanged(MutationSuccess):
    product_id: strawberry.ID
    version: int

    product: Product | None = strawberry.field(
        resolver=_product_after_write,
        description="The product as the read model shows it once it reflects this write.",
    )


CreateProductResult = Annotated[
    ProductChanged | gql.ValidationFailed | gql.DuplicateSku, strawberry.union("CreateProductResult")
]
ChangeProductResult = Annotated[
    ProductChanged | gql.ValidationFailed | gql.NotFound | gql.VersionConflict,
    strawberry.union("ChangeProductResult"),
]


async def create_product(info: strawberry.Info[Context, None], input: CreateProductInput) -> CreateProductResult:
    command = CreateProduct(
        sku=input.sku,
        name=input.name,
        description=input.description or "",
        brand=input.brand,
        category=input.category,
        tags=tuple(input.tags or ()),
        price=input.price,
        initial_stock=0 if input.initial_stock is None else input.initial_stock,
    )
    try:
        changed = await dispatch(info, command)
    except ValidationFailed as error:
        return validation_failed(error)
    except DuplicateSku as error:
        return gql.DuplicateSku(message=str(error), code=error.code, sku=error.sku)
    return ProductChanged(
        consistency_token=token_of(changed),
        product_id=strawberry.ID(to_global_id("Product", changed.aggregate_id)),
        version=changed.version,
    )


async def update_product_details(
    info: strawberry.Info[Context, None], input: UpdateProductDetailsInput
) -> ChangeProductResult:
    raise not_implemented("updateProductDetails", 3)


async def change_product_price(
    info: strawberry.Info[Context, None], input: ChangeProductPriceInput
) -> ChangeProductResult:
    raise not_implemented("changeProductPrice", 3)


async def restock_product(info: strawberry.Info[Context, None], input: RestockProductInput) -> ChangeProductResult:
    raise not_implemented("restockProduct", 3)


async def discontinue_product(
    info: strawberry.Info[Context, None], input: DiscontinueProductInput
) -> ChangeProductResult:
    raise not_implemented("discontinueProduct", 3)
