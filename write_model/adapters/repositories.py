"""PostgreSQL repositories: rows in, aggregates out, and driver errors translated into domain errors.

Every statement is built once, at import, with bound parameters: SQLAlchemy then reuses its compiled form
and psycopg prepares it on the server, which keeps the cost of a command close to the SQL it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from write_model.adapters.tables import customers, idempotency_keys, orders, outbox, products
from write_model.domain.aggregate import Aggregate
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

_PRODUCT_STATE = (
    "name",
    "description",
    "brand",
    "category",
    "tags",
    "price",
    "stock",
    "status",
    "version",
    "updated_at",
)
_CUSTOMER_STATE = ("name", "email", "version")
_ORDER_STATE = ("status", "paid_amount", "version", "updated_at")


def _select(table: sa.Table, *, lock: bool) -> sa.Select[Any]:
    ids = sa.bindparam("ids", type_=postgresql.ARRAY(postgresql.UUID(as_uuid=True)))
    statement = sa.select(table).where(table.c.id == sa.any_(ids)).order_by(table.c.id)
    return statement.with_for_update() if lock else statement


def _update(table: sa.Table, columns: Sequence[str]) -> sa.Update:
    """An UPDATE of `columns` guarded by the version the row was loaded at (parameters `row_id`,
    `loaded_version` and one per column)."""
    return (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"), table.c.version == sa.bindparam("loaded_version"))
        .values({name: sa.bindparam(name) for name in columns})
    )


_SELECTS = {
    (table.name, lock): _select(table, lock=lock) for table in (products, customers, orders) for lock in (True, False)
}
_UPDATES = {
    products.name: _update(products, _PRODUCT_STATE),
    customers.name: _update(customers, _CUSTOMER_STATE),
    orders.name: _update(orders, _ORDER_STATE),
}
_INSERT_PRODUCT = products.insert()
_INSERT_CUSTOMER = customers.insert()
_INSERT_ORDER = orders.insert()
_CLAIM_KEY = (
    pg_insert(idempotency_keys)
    .values(
        actor=sa.bindparam("actor"),
        key=sa.bindparam("key"),
        fingerprint=sa.bindparam("fingerprint"),
        created_at=sa.bindparam("created_at"),
    )
    .on_conflict_do_nothing()
    .returning(idempotency_keys.c.key)
)
_READ_KEY = sa.select(idempotency_keys).where(
    idempotency_keys.c.actor == sa.bindparam("actor"), idempotency_keys.c.key == sa.bindparam("key")
)
_COMPLETE_KEY = (
    idempotency_keys.update()
    .where(idempotency_keys.c.actor == sa.bindparam("b_actor"), idempotency_keys.c.key == sa.bindparam("b_key"))
    .values(
        aggregate_id=sa.bindparam("aggregate_id"),
        version=sa.bindparam("version"),
        status=sa.bindparam("status"),
        transaction_id=sa.bindparam("transaction_id"),
        position=sa.bindparam("position"),
    )
)
_POSITION_OF = sa.select(outbox.c.position, sa.cast(outbox.c.transaction_id, sa.Text)).where(
    outbox.c.aggregate_id == sa.bindparam("aggregate_id"), outbox.c.aggregate_version == sa.bindparam("version")
)


class PostgresProductRepository(AbstractProductRepository):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__()
        self._connection = connection

    def _add(self, product: Product) -> None:
        row = {
            "id": product.id,
            "sku": product.sku,
            "created_at": product.created_at,
            **_state(product, _PRODUCT_STATE),
        }
        try:
            with self._connection.begin_nested():
                self._connection.execute(_INSERT_PRODUCT, row)
        except IntegrityError as exc:
            if _violated_constraint(exc) == SKU_CONSTRAINT:
                raise DuplicateSku(product.sku) from exc
            raise

    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, Product]:
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
            for row in _select_many(self._connection, products, ids, lock=lock)
        }

    def _update_all(self, aggregates: list[Product]) -> None:
        _update_rows(self._connection, products, aggregates, _PRODUCT_STATE)


class PostgresCustomerRepository(AbstractCustomerRepository):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__()
        self._connection = connection

    def _add(self, customer: Customer) -> None:
        row = {"id": customer.id, "created_at": customer.created_at, **_state(customer, _CUSTOMER_STATE)}
        try:
            with self._connection.begin_nested():
                self._connection.execute(_INSERT_CUSTOMER, row)
        except IntegrityError as exc:
            if _violated_constraint(exc) == EMAIL_CONSTRAINT:
                raise DuplicateEmail(customer.email) from exc
            raise

    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, Customer]:
        return {
            row.id: Customer(id=row.id, version=row.version, name=row.name, email=row.email, created_at=row.created_at)
            for row in _select_many(self._connection, customers, ids, lock=lock)
        }

    def _update_all(self, aggregates: list[Customer]) -> None:
        _update_rows(self._connection, customers, aggregates, _CUSTOMER_STATE)


class PostgresOrderRepository(AbstractOrderRepository):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__()
        self._connection = connection

    def _add(self, order: Order) -> None:
        row = {
            "id": order.id,
            "customer_id": order.customer_id,
            "lines": [_line_json(line) for line in order.lines],
            "total": order.total,
            "placed_at": order.placed_at,
            **_state(order, _ORDER_STATE),
        }
        self._connection.execute(_INSERT_ORDER, row)

    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, Order]:
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
            for row in _select_many(self._connection, orders, ids, lock=lock)
        }

    def _update_all(self, aggregates: list[Order]) -> None:
        _update_rows(self._connection, orders, aggregates, _ORDER_STATE)


class PostgresIdempotencyKeys(AbstractIdempotencyKeys):
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def claim(self, actor: str, key: str, fingerprint: str) -> StoredOutcome | None:
        # A concurrent transaction holding the same key makes this INSERT wait for it to end: if it committed,
        # the conflict leaves nothing inserted and the SELECT (a new snapshot) reads its result; if it rolled
        # back, the key is ours.
        claim = {"actor": actor, "key": key, "fingerprint": fingerprint, "created_at": datetime.now(UTC)}
        if self._connection.execute(_CLAIM_KEY, claim).first() is not None:
            return None
        row = self._connection.execute(_READ_KEY, {"actor": actor, "key": key}).one()
        return StoredOutcome(
            row.fingerprint,
            Changed(row.aggregate_id, row.version, OutboxPosition(row.transaction_id, row.position), row.status),
        )

    def complete(self, actor: str, key: str, changed: Changed) -> None:
        self._connection.execute(
            _COMPLETE_KEY,
            {
                "b_actor": actor,
                "b_key": key,
                "aggregate_id": changed.aggregate_id,
                "version": changed.version,
                "status": changed.status,
                "transaction_id": changed.position.transaction_id,
                "position": changed.position.position,
            },
        )


def position_of(connection: sa.Connection, aggregate_id: UUID, version: int) -> OutboxPosition:
    """Where the event that took `aggregate_id` to `version` stands in the outbox."""
    position, transaction_id = connection.execute(
        _POSITION_OF, {"aggregate_id": aggregate_id, "version": version}
    ).one()
    return OutboxPosition(int(transaction_id), position)


def _select_many(connection: sa.Connection, table: sa.Table, ids: list[UUID], *, lock: bool) -> list[sa.Row[Any]]:
    return list(connection.execute(_SELECTS[(table.name, lock)], {"ids": ids}))


def _update_rows(
    connection: sa.Connection, table: sa.Table, aggregates: Sequence[Aggregate], columns: Sequence[str]
) -> None:
    rows = [
        {
            "row_id": aggregate.id,
            "loaded_version": aggregate.version - len(aggregate.pending_events),
            **_state(aggregate, columns),
        }
        for aggregate in aggregates
    ]
    result = connection.execute(_UPDATES[table.name], rows)
    if result.rowcount != len(rows):
        # Rows are locked when loaded, so this means a writer bypassed the lock: let the bus run it again.
        raise TransientConflict(f"a {table.name} row moved past the version it was loaded at")


def _state(aggregate: Aggregate, columns: Sequence[str]) -> dict[str, object]:
    """The aggregate's attributes named by `columns`, as column values (enums by value, tuples as lists)."""
    values: dict[str, object] = {}
    for name in columns:
        value = getattr(aggregate, name)
        if isinstance(value, OrderStatus | ProductStatus):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        values[name] = value
    return values


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
