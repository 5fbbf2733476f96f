"""PostgreSQL repositories: rows in, aggregates out, and driver errors translated into domain errors.

Statements run on the psycopg connection under SQLAlchemy's (`driver`), in the transaction SQLAlchemy
began: SQLAlchemy keeps the pool, the pre-ping, transactions and savepoints; the SQL is written out here.
SQLAlchemy Core's work for each statement (its compiled cache, execution context and result processing)
was about half of a command's CPU (docs/benchmarks.md). Each statement's text is fixed, so psycopg
prepares it on the server after its first few runs. JSONB values go as `Jsonb`, `None` as JSON null, as
SQLAlchemy's JSONB type stored them.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import psycopg
import sqlalchemy as sa
from psycopg import sql
from psycopg.rows import namedtuple_row
from psycopg.types.json import Jsonb

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
_PRODUCT_COLUMNS = ("id", "sku", *_PRODUCT_STATE, "created_at")
_CUSTOMER_COLUMNS = ("id", *_CUSTOMER_STATE, "created_at")
_ORDER_COLUMNS = ("id", "customer_id", "lines", "total", "placed_at", "shipping_address", *_ORDER_STATE)


def driver(connection: sa.Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under SQLAlchemy's `connection`."""
    found = connection.connection.driver_connection
    if not isinstance(found, psycopg.Connection):
        raise TypeError(f"the write model runs on psycopg, not {type(found).__name__}")
    return found


def _select_sql(table: str, columns: Sequence[str], *, lock: bool) -> str:
    """The rows whose id is among `%(ids)s`, in id order (the order locks are taken in)."""
    statement = sql.SQL("SELECT {columns} FROM {table} WHERE id = ANY(%(ids)s) ORDER BY id{lock}").format(
        columns=_names(columns), table=sql.Identifier(table), lock=sql.SQL(" FOR UPDATE" if lock else "")
    )
    return statement.as_string()


def _update_sql(table: str, columns: Sequence[str]) -> str:
    """An UPDATE of `columns` guarded by the version the row was loaded at (parameters `row_id`,
    `loaded_version` and one per column)."""
    assignments = sql.SQL(", ").join(
        sql.SQL("{column} = {value}").format(column=sql.Identifier(name), value=sql.Placeholder(name))
        for name in columns
    )
    statement = sql.SQL("UPDATE {table} SET {assignments} WHERE id = %(row_id)s AND version = %(loaded_version)s")
    return statement.format(table=sql.Identifier(table), assignments=assignments).as_string()


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    values = sql.SQL(", ").join(sql.Placeholder(name) for name in columns)
    statement = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values})")
    return statement.format(table=sql.Identifier(table), columns=_names(columns), values=values).as_string()


def _names(columns: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in columns)


_CLAIM_KEY = (
    "INSERT INTO idempotency_keys (actor, key, fingerprint, created_at)"
    " VALUES (%(actor)s, %(key)s, %(fingerprint)s, %(created_at)s) ON CONFLICT DO NOTHING RETURNING key"
)
_READ_KEY = (
    "SELECT fingerprint, aggregate_id, version, status, transaction_id, position FROM idempotency_keys"
    " WHERE actor = %(actor)s AND key = %(key)s"
)
_COMPLETE_KEY = (
    "UPDATE idempotency_keys SET aggregate_id = %(aggregate_id)s, version = %(version)s, status = %(status)s,"
    " transaction_id = %(transaction_id)s, position = %(position)s WHERE actor = %(actor)s AND key = %(key)s"
)
_POSITION_OF = (
    "SELECT position, transaction_id::text FROM outbox"
    " WHERE aggregate_id = %(aggregate_id)s AND aggregate_version = %(version)s"
)


class _PostgresRepository(AbstractRepository[A]):
    """Loading and updating rows of one table; subclasses say which table, columns and row mapping."""

    table: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    state_columns: ClassVar[tuple[str, ...]]
    _statements: ClassVar[dict[str, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._statements = {
            "select": _select_sql(cls.table, cls.columns, lock=False),
            "lock": _select_sql(cls.table, cls.columns, lock=True),
            "update": _update_sql(cls.table, cls.state_columns),
            "insert": _insert_sql(cls.table, cls.columns),
        }

    def __init__(self, connection: sa.Connection) -> None:
        super().__init__()
        self._connection = connection
        self._driver = driver(connection)

    def _insert(self, row: dict[str, object], *, unique: str | None = None, duplicate: Exception | None = None) -> None:
        """Insert `row`; a violation of the `unique` constraint raises `duplicate` (the transaction goes on)."""
        try:
            with self._connection.begin_nested():
                self._driver.execute(self._statements["insert"], row)
        except psycopg.errors.UniqueViolation as exc:
            if duplicate is not None and exc.diag.constraint_name == unique:
                raise duplicate from exc
            raise

    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, A]:
        with self._driver.cursor(row_factory=namedtuple_row) as cursor:
            rows: list[Any] = cursor.execute(self._statements["lock" if lock else "select"], {"ids": ids}).fetchall()
        return {row.id: self._from_row(row) for row in rows}

    def _update_all(self, changes: list[tuple[A, int]]) -> None:
        rows = [
            {"row_id": aggregate.id, "loaded_version": stored, **self._state_of(aggregate)}
            for aggregate, stored in changes
        ]
        with self._driver.cursor() as cursor:
            cursor.executemany(self._statements["update"], rows)
            updated = cursor.rowcount
        if updated != len(rows):
            # Rows are locked when loaded, so this means a writer bypassed the lock: let the bus run it again.
            raise TransientConflict(f"a {self.table} row moved past the version it was loaded at")

    def _state_of(self, aggregate: A) -> dict[str, object]:
        """The values of the state columns for `aggregate`."""
        return _state(aggregate, self.state_columns)

    @abc.abstractmethod
    def _from_row(self, row: Any) -> A: ...


class PostgresProductRepository(_PostgresRepository[Product], AbstractProductRepository):
    table = "products"
    columns = _PRODUCT_COLUMNS
    state_columns = _PRODUCT_STATE

    def _add(self, product: Product) -> None:
        row = {
            "id": product.id,
            "sku": product.sku,
            "created_at": product.created_at,
            **_state(product, _PRODUCT_STATE),
        }
        self._insert(row, unique=SKU_CONSTRAINT, duplicate=DuplicateSku(product.sku))

    def _from_row(self, row: Any) -> Product:
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
    table = "customers"
    columns = _CUSTOMER_COLUMNS
    state_columns = _CUSTOMER_STATE

    def _add(self, customer: Customer) -> None:
        row = {"id": customer.id, "created_at": customer.created_at, **_state(customer, _CUSTOMER_STATE)}
        self._insert(row, unique=EMAIL_CONSTRAINT, duplicate=DuplicateEmail(customer.email))

    def _update_all(self, changes: list[tuple[Customer, int]]) -> None:
        """A changed email another customer has is `DuplicateEmail` (the transaction is then rolled back)."""
        try:
            super()._update_all(changes)
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name != EMAIL_CONSTRAINT:
                raise
            # A command changes one customer; were there several, the first is named.
            raise DuplicateEmail(changes[0][0].email) from exc

    def _from_row(self, row: Any) -> Customer:
        return Customer(id=row.id, version=row.version, name=row.name, email=row.email, created_at=row.created_at)


class PostgresOrderRepository(_PostgresRepository[Order], AbstractOrderRepository):
    table = "orders"
    columns = _ORDER_COLUMNS
    state_columns = _ORDER_STATE

    def _add(self, order: Order) -> None:
        row = {
            "id": order.id,
            "customer_id": order.customer_id,
            "lines": Jsonb([_line_json(line) for line in order.lines]),
            "total": order.total,
            "placed_at": order.placed_at,
            "shipping_address": Jsonb(
                None if order.shipping_address is None else dataclasses.asdict(order.shipping_address)
            ),
            **self._state_of(order),
        }
        # A fresh random id and an existing customer: nothing can collide, so no savepoint is needed.
        self._driver.execute(self._statements["insert"], row)

    def _from_row(self, row: Any) -> Order:
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
            "payments": Jsonb(
                [
                    {"amount": str(p.amount), "method": p.method.value, "reference": p.reference, "version": p.version}
                    for p in order.payments
                ]
            ),
            "refunds": Jsonb(
                [
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
                ]
            ),
            "shipment": Jsonb(None if order.shipment is None else dataclasses.asdict(order.shipment)),
        }


class PostgresIdempotencyKeys(AbstractIdempotencyKeys):
    def __init__(self, connection: sa.Connection) -> None:
        self._driver = driver(connection)

    def claim(self, actor: str, key: str, fingerprint: str) -> StoredOutcome | None:
        # A concurrent transaction holding the same key makes this INSERT wait for it to end: if it committed,
        # the conflict leaves nothing inserted and the SELECT (a new snapshot) reads its result; if it rolled
        # back, the key is ours.
        claim = {"actor": actor, "key": key, "fingerprint": fingerprint, "created_at": datetime.now(UTC)}
        if self._driver.execute(_CLAIM_KEY, claim).fetchone() is not None:
            return None
        with self._driver.cursor(row_factory=namedtuple_row) as cursor:
            row: Any = cursor.execute(_READ_KEY, {"actor": actor, "key": key}).fetchone()
        if row is None:
            raise RuntimeError(f"the idempotency key {key!r} was neither claimed nor found")
        return StoredOutcome(
            row.fingerprint,
            Changed(row.aggregate_id, row.version, OutboxPosition(row.transaction_id, row.position), row.status),
        )

    def complete(self, actor: str, key: str, changed: Changed) -> None:
        self._driver.execute(
            _COMPLETE_KEY,
            {
                "actor": actor,
                "key": key,
                "aggregate_id": changed.aggregate_id,
                "version": changed.version,
                "status": changed.status,
                "transaction_id": changed.position.transaction_id,
                "position": changed.position.position,
            },
        )


def position_of(connection: sa.Connection, aggregate_id: UUID, version: int) -> OutboxPosition:
    """Where the event that took `aggregate_id` to `version` stands in the outbox."""
    row = driver(connection).execute(_POSITION_OF, {"aggregate_id": aggregate_id, "version": version}).fetchone()
    if row is None:
        raise RuntimeError(f"no outbox event took {aggregate_id} to version {version}")
    position, transaction_id = row
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
