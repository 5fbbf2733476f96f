"""Product mutations: `createProduct`, `updateProductDetails`, `changeProductPrice`, `restockProduct`,
`discontinueProduct`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

import strawberry

from api import permissions
from api.context import Context
from api.ids import to_global_id
from api.mutations._dispatch import (
    decode_or_not_found,
    dispatch,
    duplicate_sku,
    not_found,
    token_of,
    validation_failed,
    version_conflict,
)
from api.queries import products as product_queries
from api.types import errors as gql
from api.types.products import Product
from api.types.results import MutationSuccess
from api.types.scalars import Decimal
from write_model.commands import (
    ChangeProductPrice,
    Command,
    CreateProduct,
    DiscontinueProduct,
    RestockProduct,
    UpdateProductDetails,
)
from write_model.domain import errors
from write_model.results import Changed


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
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Send the same key again to get the first result back instead of a second product.",
    )


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
    permissions.admin(info)
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
        changed = await dispatch(info, command, idempotency_key=input.idempotency_key)
    except errors.ValidationFailed as error:
        return validation_failed(error)
    except errors.DuplicateSku as error:
        return duplicate_sku(error)
    return _product_changed(changed)


async def update_product_details(
    info: strawberry.Info[Context, None], input: UpdateProductDetailsInput
) -> ChangeProductResult:
    return await _change(
        info,
        input.id,
        lambda product_id: UpdateProductDetails(
            product_id=product_id,
            expected_version=input.expected_version,
            name=input.name,
            description=input.description,
            brand=input.brand,
            category=input.category,
            tags=None if input.tags is None else tuple(input.tags),
        ),
    )


async def change_product_price(
    info: strawberry.Info[Context, None], input: ChangeProductPriceInput
) -> ChangeProductResult:
    return await _change(
        info,
        input.id,
        lambda product_id: ChangeProductPrice(
            product_id=product_id, price=input.price, expected_version=input.expected_version
        ),
    )


async def restock_product(info: strawberry.Info[Context, None], input: RestockProductInput) -> ChangeProductResult:
    return await _change(
        info,
        input.id,
        lambda product_id: RestockProduct(
            product_id=product_id, quantity=input.quantity, expected_version=input.expected_version
        ),
    )


async def discontinue_product(
    info: strawberry.Info[Context, None], input: DiscontinueProductInput
) -> ChangeProductResult:
    return await _change(
        info,
        input.id,
        lambda product_id: DiscontinueProduct(product_id=product_id, expected_version=input.expected_version),
    )


async def _change(
    info: strawberry.Info[Context, None], global_id: str, command_for: Callable[[UUID], Command]
) -> ChangeProductResult:
    """Run the command `command_for` builds for the product `global_id` names, and map its outcome."""
    permissions.admin(info)
    product_id = decode_or_not_found(global_id, "Product")
    if isinstance(product_id, gql.NotFound):
        return product_id
    try:
        changed = await dispatch(info, command_for(product_id))
    except errors.ValidationFailed as error:
        return validation_failed(error)
    except errors.NotFound as error:
        return not_found(error)
    except errors.VersionConflict as error:
        return version_conflict(error)
    return _product_changed(changed)


def _product_changed(changed: Changed) -> ProductChanged:
    return ProductChanged(
        consistency_token=token_of(changed),
        product_id=strawberry.ID(to_global_id("Product", changed.aggregate_id)),
        version=changed.version,
    )
