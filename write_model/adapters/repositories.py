"""PostgreSQL repositories: rows in, aggregates out, and driver errors translated into domain errors."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from write_model.adapters.tables import products
from write_model.domain.errors import DuplicateSku
from write_model.domain.products import Product
from write_model.unit_of_work import AbstractProductRepository

SKU_CONSTRAINT = "products_sku_key"


class PostgresProductRepository(AbstractProductRepository):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__()
        self._connection = connection

    def _add(self, product: Product) -> None:
        statement = products.insert().values(
            id=product.id,
            sku=product.sku,
            name=product.name,
            description=product.description,
            brand=product.brand,
            category=product.category,
            tags=list(product.tags),
            price=product.price,
            stock=product.stock,
            status=product.status.value,
            version=product.version,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )
        try:
            with self._connection.begin_nested():
                self._connection.execute(statement)
        except IntegrityError as exc:
            if _violated_constraint(exc) == SKU_CONSTRAINT:
                raise DuplicateSku(product.sku) from exc
            raise


def _violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)
