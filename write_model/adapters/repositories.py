"""PostgreSQL repositories: rows in, aggregates out, and driver errors translated into domain errors.

Every statement is built once, at import, with bound parameters: SQLAlchemy then reuses its compiled form
and psycopg prepares it on the server, which keeps the cost of a command close to the SQL it runs.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
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
from write_model.domain.payments import Payment, PaymentMethod, Refund
from write_model.domain.products import Product, ProductStatus
from write_model.domain.shipping import Shipment
from write_model.events import OrderLine, ReturnedLine, ShippingAddress
from write_model.outbox import OutboxPosition
from write_model.results import Changed
from write_model.unit_of_work import (
    AbstractCustomerRepository,
    AbstractIdempotencyKeys,
    AbstractOrderRepository,
    AbstractProductRepository,
    AbstractRepository,
    StoredOutcome,
)

A = TypeVar("A", bound=Aggregate)

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
_ORDER_STATE = (
    "status",
    "paid_amount",
    "version",
    "updated_at",
    "payments",
    "refunds",
    "shipment",
    "cancellation_reason",
)


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
_INSERTS = {table.name: table.insert() for table in (products, customers, orders)}
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


class _PostgresRepository(AbstractRepository[A]):
    """Loading and updating rows of one table; subclasses say which table, state columns and row mapping."""

    table: ClassVar[sa.Table]
    state_columns: ClassVar[tuple[str, ...]]

    def __init__(self, connection: sa.Connection) -> None:
        super().__init__()
        self._connection = connection

    def _insert(self, row: dict[str, object], *, unique: str | None = None, duplicate: Exception | None = None) -> None:
        """Insert `row`; a violation of the `unique` constraint raises `duplicate` (the transaction goes on)."""
        try:
            with self._connection.begin_nested():
                self._connection.execute(_INSERTS[self.table.name], row)
        except IntegrityError as exc:
            if duplicate is not None and _violated_constraint(exc) == unique:
                raise duplicate from exc
            raise

    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, A]:
        rows = self._connection.execute(_SELECTS[(self.table.name, lock)], {"ids": ids})
        return {row.id: self._from_row(row) for row in rows}

    def _update_all(self, changes: list[tuple[A, int]]) -> None:
        rows = [
            {"row_id": aggregate.id, "loaded_version": stored, **self._state_of(aggregate)}
            for aggregate, stored in changes
        ]
        result = self._connection.execute(_UPDATES[self.table.name], rows)
        if result.rowcount != len(rows):
            # Rows are locked when loaded, so this means a writer bypassed the lock: let the bus run it again.
            raise TransientConflict(f"a {self.table.name} row moved past the version it was loaded at")

    def _state_of(self, aggregate: A) -> dict[str, object]:
        """The values of the state columns for `aggregate`."""
        return _state(aggregate, self.state_columns)

    @abc.abstractmethod
    def _from_row(self, row: sa.Row[Any]) -> A: ...


class PostgresProductRepository(_PostgresRepository[Product], AbstractProductRepository):
    table = products
    state_columns = _PRODUCT_STATE

    def _add(self, product: Product) -> None:
        row = {
            "id": product.id,
            "sku": product.sku,
            "created_at": product.created_at,
            **_state(product, _PRODUCT_STATE),
        }
        self._insert(row, unique=SKU_CONSTRAINT, duplicate=DuplicateSku(product.sku))

    def _from_row(self, row: sa.Row[Any]) -> Product:
        return Product(
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


class PostgresCustomerRepository(_PostgresRepository[Customer], AbstractCustomerRepository):
    table = customers
    state_columns = _CUSTOMER_STATE

    def _add(self, customer: Customer) -> None:
        row = {"id": customer.id, "created_at": customer.created_at, **_state(customer, _CUSTOMER_STATE)}
        self._insert(row, unique=EMAIL_CONSTRAINT, duplicate=DuplicateEmail(customer.email))

    def _update_all(self, changes: list[tuple[Customer, int]]) -> None:
        """A changed email another customer has is `DuplicateEmail` (the transaction is then rolled back)."""
        try:
            super()._update_all(changes)
        except IntegrityError as exc:
            if _violated_constraint(exc) != EMAIL_CONSTRAINT:
                raise
            # A command changes one customer; were there several, the first is named.
            raise DuplicateEmail(changes[0][0].email) from exc

    def _from_row(self, row: sa.Row[Any]) -> Customer:
        return Customer(id=row.id, version=row.version, name=row.name, email=row.email, created_at=row.created_at)


class PostgresOrderRepository(_PostgresRepository[Order], AbstractOrderRepository):
    table = orders
    state_columns = _ORDER_STATE

    def _add(self, order: Order) -> None:
        row = {
            "id": order.id,
            "customer_id": order.customer_id,
            "lines": [_line_json(line) for line in order.lines],
            "total": order.total,
            "placed_at": order.placed_at,
            "shipping_address": None if order.shipping_address is None else dataclasses.asdict(order.shipping_address),
            **self._state_of(order),
        }
        # A fresh random id and an existing customer: nothing can collide, so no savepoint is needed.
        self._connection.execute(_INSERTS[orders.name], row)

    def _from_row(self, row: sa.Row[Any]) -> Order:
        return Order(
            id=row.id,
            version=row.version,
            customer_id=row.customer_id,
            lines=tuple(_line_from_json(line) for line in row.lines),
            total=row.total,
            status=OrderStatus(row.status),
            paid_amount=row.paid_amount,
            placed_at=row.placed_at,
            updated_at=row.updated_at,
            shipping_address=None if row.shipping_address is None else ShippingAddress(**row.shipping_address),
            payments=tuple(
                Payment(Decimal(p["amount"]), PaymentMethod(p["method"]), p["reference"], p["version"])
                for p in row.payments
            ),
            refunds=tuple(
                Refund(
                    Decimal(r["amount"]),
                    r["reference"],
                    r["version"],
                    tuple(
                        ReturnedLine(product_id=UUID(line["product_id"]), quantity=line["quantity"])
                        for line in r["returned_lines"]
                    ),
                    r["status"],
                )
                for r in row.refunds
            ),
            shipment=None if row.shipment is None else Shipment(**row.shipment),
            cancellation_reason=row.cancellation_reason,
        )

    def _state_of(self, order: Order) -> dict[str, object]:
        return {
            **_state(order, ("status", "paid_amount", "version", "updated_at", "cancellation_reason")),
            "payments": [
                {"amount": str(p.amount), "method": p.method.value, "reference": p.reference, "version": p.version}
                for p in order.payments
            ],
            "refunds": [
                {
                    "amount": str(r.amount),
                    "reference": r.reference,
                    "version": r.version,
                    "status": r.status,
                    "returned_lines": [
                        {"product_id": str(line.product_id), "quantity": line.quantity} for line in r.returned_lines
                    ],
                }
                for r in order.refunds
            ],
            "shipment": None if order.shipment is None else dataclasses.asdict(order.shipment),
        }


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
