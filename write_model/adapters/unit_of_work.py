"""The SQLAlchemy unit of work: one PostgreSQL transaction holding the aggregates' rows and their outbox rows."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from uuid import UUID

import orjson
import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.exc import DBAPIError

from write_model.adapters.repositories import (
    PostgresCustomerRepository,
    PostgresIdempotencyKeys,
    PostgresOrderRepository,
    PostgresProductRepository,
    driver,
    position_of,
)
from write_model.domain.errors import StoreUnavailable, TransientConflict
from write_model.events import Event, event_type, payload_json
from write_model.outbox import OUTBOX_CHANNEL, CommandContext, OutboxPosition
from write_model.unit_of_work import AbstractUnitOfWork

# serialization_failure, deadlock_detected: the transaction may succeed when run again.
TRANSIENT_SQLSTATES = {"40001", "40P01"}
# Two writers recorded the same aggregate version: one of them read a stale aggregate. Run it again.
AGGREGATE_VERSION_CONSTRAINT = "outbox_aggregate_version_key"


@functools.lru_cache(maxsize=64)
def _insert_events(count: int) -> str:
    """The INSERT of `count` outbox rows in one statement, in the order given (positions follow it).

    Payload and metadata arrive as JSON text, encoded once here, and PostgreSQL parses them into jsonb. The
    NOTIFY that wakes the outbox's tailers rides along in RETURNING, sparing a round trip: PostgreSQL
    delivers it at commit, once however many rows signal it (identical notifications of a transaction are
    folded)."""
    statement = sql.SQL(
        "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload, metadata,"
        " occurred_at) VALUES {rows} RETURNING position, transaction_id::text, pg_notify(%s, '')"
    )
    row = sql.SQL("(%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)")
    return statement.format(rows=sql.SQL(", ").join([row] * count)).as_string()


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    def __init__(self, engine: sa.Engine, context: CommandContext) -> None:
        self._engine = engine
        self.context = context
        self._connection: sa.Connection | None = None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        try:
            self._connection = self._engine.connect()
        except DBAPIError as exc:
            raise StoreUnavailable(f"cannot connect to the database: {type(exc.orig).__name__}") from exc
        self._connection.begin()
        self.products = PostgresProductRepository(self._connection)
        self.customers = PostgresCustomerRepository(self._connection)
        self.orders = PostgresOrderRepository(self._connection)
        self.idempotency_keys = PostgresIdempotencyKeys(self._connection)
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        # The repositories' statements run on the driver's connection, past SQLAlchemy: when one of them lost
        # the connection, SQLAlchemy is told, so that the pool drops it rather than roll back on it.
        lost = isinstance(exc, psycopg.Error) and self._driver_lost()
        if lost and self._connection is not None:
            self._connection.invalidate()
        try:
            self.rollback()
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        # Any statement of the transaction, the commit included, may be chosen as a deadlock victim or fail
        # serialization: translated here, at the edge, so the bus can run the command again.
        failure = exc.orig if isinstance(exc, DBAPIError) else exc
        if isinstance(failure, psycopg.Error) and failure.sqlstate in TRANSIENT_SQLSTATES:
            raise TransientConflict(f"database conflict {failure.sqlstate}") from exc
        if lost or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
            raise StoreUnavailable(f"lost the database connection: {type(failure).__name__}") from exc

    def _driver_lost(self) -> bool:
        if self._connection is None or self._connection.invalidated:
            return False
        connection = driver(self._connection)
        return connection.broken or connection.closed

    def _write_events(self, events: list[tuple[Event, int]]) -> OutboxPosition:
        connection = self._require_connection()
        occurred_at = datetime.now(UTC)
        metadata = orjson.dumps(
            {
                "actor": self.context.actor,
                "request_id": self.context.request_id,
                "causation_id": self.context.causation_id,
                "idempotency_key": self.context.idempotency_key,
            }
        ).decode()
        parameters: list[object] = []
        for event, version in events:
            parameters += (
                event.AGGREGATE,
                event.aggregate_id,
                version,
                event_type(event),
                payload_json(event),
                metadata,
                occurred_at,
            )
        parameters.append(OUTBOX_CHANNEL)
        try:
            positions = driver(connection).execute(_insert_events(len(events)), parameters).fetchall()
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == AGGREGATE_VERSION_CONSTRAINT:
                raise TransientConflict("an aggregate version was recorded concurrently") from exc
            raise
        last_position, transaction_id, _ = max(positions, key=lambda row: row[0])
        return OutboxPosition(int(transaction_id), last_position)

    def _position_of(self, aggregate_id: UUID, version: int) -> OutboxPosition:
        return position_of(self._require_connection(), aggregate_id, version)

    def _commit_transaction(self) -> None:
        self._require_connection().commit()

    def rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()

    def _require_connection(self) -> sa.Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._connection
