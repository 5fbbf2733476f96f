"""PostgreSQL repositories: rows in, aggregates out, and driver errors translated into domain errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from write_model.adapters.tables import customers, idempotency_keys, orders, outbox, products
from write_model.domain.customers import Customer
from write_model.domain.errors import DuplicateEmail, DuplicateSku, TransientConflict
from write_model.domain.orders import Order, OrderStatus
from write_model.domain.products import Product, ProductStatus
from write_model.events import OrderLine
from write_model.outbox import OutboxPosition
from write_model.results import Changed
from write_model.unit_of_work import (
    AbstractCustomerRepository,
    AbstractIdempotencyKeys,
    AbstractOrderRepository,
    AbstractProductRepository,
    StoredOutcome,
)

SKU_CONSTRAINT = "products_sku_key"
EMAIL_CONSTRAINT = "customers_email_key"


class PostgresProductRepository(AbstractProductRepository):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__()
        self._connection = connection

    def _add(self, product: Product) -> None:
        try:
            with self._connection.begin_nested():
                self._connection.execute(products.insert().values(id=product.id, **_product_row(product)))
        except IntegrityError as exc:
            if _violated_constraint(exc) == SKU_CONSTRAINT:
                raise DuplicateSku(product.sku) from exc
            raise

    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, Product]:
        rows = _select_many(self._connection, products, ids, lock=lock)
        return {
            row.id: Product(
                id=row.id,
                version=row.version,
                sku=row.sku,
                name=row.name,
                description=row.description,
                brand=row.brand,
                category=row.category,
                tags=tuple(row.tags),
                price=row.price,
                stock=row.stock,
                status=ProductStatus(row.status),
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            for row in rows
        }

    def _update(self, product: Product, *, previous_version: int) -> None:
        _update_row(self._connection, products, product.id, previous_version, _product_row(product))


class PostgresCustomerRepository(AbstractCustomerRepository):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__()
        self._connection = connection

    def _add(self, customer: Customer) -> None:
        row = {"id": customer.id, "name": customer.name, "email": customer.email, "version": customer.version}
        try:
            with self._connection.begin_nested():
                self._connection.execute(customers.insert().values(**row, created_at=customer.created_at))
        except IntegrityError as exc:
            if _violated_constraint(exc) == EMAIL_CONSTRAINT:
                raise DuplicateEmail(customer.email) from exc
            raise

    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, Customer]:
        rows = _select_many(self._connection, customers, ids, lock=lock)
        return {
            row.id: Customer(id=row.id, version=row.version, name=row.name, email=row.email, created_at=row.created_at)
            for row in rows
        }

    def _update(self, customer: Customer, *, previous_version: int) -> None:
        values = {"name": customer.name, "email": customer.email, "version": customer.version}
        _update_row(self._connection, customers, customer.id, previous_version, values)


class PostgresOrderRepository(AbstractOrderRepository):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__()
        self._connection = connection

    def _add(self, order: Order) -> None:
        self._connection.execute(
            orders.insert().values(
                id=order.id,
                customer_id=order.customer_id,
                lines=[_line_json(line) for line in order.lines],
                total=order.total,
                placed_at=order.placed_at,
                **_order_state(order),
            )
        )

    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, Order]:
        rows = _select_many(self._connection, orders, ids, lock=lock)
        return {
            row.id: Order(
                id=row.id,
                version=row.version,
                customer_id=row.customer_id,
                lines=tuple(_line_from_json(line) for line in row.lines),
                total=row.total,
                status=OrderStatus(row.status),
                paid_amount=row.paid_amount,
                placed_at=row.placed_at,
                updated_at=row.updated_at,
            )
            for row in rows
        }

    def _update(self, order: Order, *, previous_version: int) -> None:
        _update_row(self._connection, orders, order.id, previous_version, _order_state(order))


class PostgresIdempotencyKeys(AbstractIdempotencyKeys):
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def claim(self, actor: str, key: str, fingerprint: str) -> StoredOutcome | None:
        # A concurrent transaction holding the same key makes this INSERT wait for it to end: if it committed,
        # the conflict leaves nothing inserted and the SELECT (a new snapshot) reads its result; if it rolled
        # back, the key is ours.
        inserted = self._connection.execute(
            pg_insert(idempotency_keys)
            .values(actor=actor, key=key, fingerprint=fingerprint, created_at=datetime.now(UTC))
            .on_conflict_do_nothing()
            .returning(idempotency_keys.c.key)
        ).first()
        if inserted is not None:
            return None
        row = self._connection.execute(
            sa.select(idempotency_keys).where(idempotency_keys.c.actor == actor, idempotency_keys.c.key == key)
        ).one()
        return StoredOutcome(
            row.fingerprint,
            Changed(row.aggregate_id, row.version, OutboxPosition(row.transaction_id, row.position), row.status),
        )

    def complete(self, actor: str, key: str, changed: Changed) -> None:
        self._connection.execute(
            idempotency_keys.update()
            .where(idempotency_keys.c.actor == actor, idempotency_keys.c.key == key)
            .values(
                aggregate_id=changed.aggregate_id,
                version=changed.version,
                status=changed.status,
                transaction_id=changed.position.transaction_id,
                position=changed.position.position,
            )
        )


def position_of(connection: sa.Connection, aggregate_id: UUID, version: int) -> OutboxPosition:
    """Where the event that took `aggregate_id` to `version` stands in the outbox."""
    row = connection.execute(
        sa.select(outbox.c.position, sa.cast(outbox.c.transaction_id, sa.Text)).where(
            outbox.c.aggregate_id == aggregate_id, outbox.c.aggregate_version == version
        )
    ).one()
    return OutboxPosition(int(row[1]), row[0])


def _select_many(connection: sa.Connection, table: sa.Table, ids: list[UUID], *, lock: bool) -> list[sa.Row[Any]]:
    statement = sa.select(table).where(table.c.id.in_(ids)).order_by(table.c.id)
    if lock:
        statement = statement.with_for_update()
    return list(connection.execute(statement))


def _update_row(
    connection: sa.Connection, table: sa.Table, id: UUID, previous_version: int, values: Mapping[str, object]
) -> None:
    result = connection.execute(
        table.update().where(table.c.id == id, table.c.version == previous_version).values(**values)
    )
    if result.rowcount != 1:
        # Rows are locked when loaded, so this means a writer bypassed the lock: let the bus run it again.
        raise TransientConflict(f"{table.name} {id} moved past version {previous_version}")


def _product_row(product: Product) -> dict[str, object]:
    return {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "brand": product.brand,
        "category": product.category,
        "tags": list(product.tags),
        "price": product.price,
        "stock": product.stock,
        "status": product.status.value,
        "version": product.version,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


def _order_state(order: Order) -> dict[str, object]:
    return {
        "status": order.status.value,
        "paid_amount": order.paid_amount,
        "version": order.version,
        "updated_at": order.updated_at,
    }


def _line_json(line: OrderLine) -> dict[str, object]:
    return {
        "product_id": str(line.product_id),
        "sku": line.sku,
        "name": line.name,
        "unit_price": str(line.unit_price),
        "quantity": line.quantity,
        "line_total": str(line.line_total),
    }


def _line_from_json(line: dict[str, Any]) -> OrderLine:
    return OrderLine(
        product_id=UUID(line["product_id"]),
        sku=line["sku"],
        name=line["name"],
        unit_price=Decimal(line["unit_price"]),
        quantity=line["quantity"],
        line_total=Decimal(line["line_total"]),
    )


def _violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)
