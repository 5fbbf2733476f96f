"""Command handlers: load aggregates, call the domain, commit. One function per command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from write_model.commands import CreateProduct
from write_model.domain.products import Product
from write_model.outbox import OutboxPosition
from write_model.unit_of_work import AbstractUnitOfWork

Clock = Callable[[], datetime]
IdFactory = Callable[[], UUID]


@dataclass(frozen=True)
class Changed:
    """A command succeeded: the aggregate it changed, its new version, and where its events stand."""

    aggregate_id: UUID
    version: int
    position: OutboxPosition


def create_product(command: CreateProduct, uow: AbstractUnitOfWork, *, clock: Clock, new_id: IdFactory) -> Changed:
    product = Product.create(
        id=new_id(),
        sku=command.sku,
        name=command.name,
        description=command.description,
        brand=command.brand,
        category=command.category,
        tags=command.tags,
        price=command.price,
        initial_stock=command.initial_stock,
        now=clock(),
    )
    with uow:
        uow.products.add(product)
        position = uow.commit()
    return Changed(product.id, product.version, position)
