"""The SQLAlchemy unit of work: one PostgreSQL transaction holding the aggregates' rows and their outbox rows."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from write_model.adapters.repositories import PostgresProductRepository
from write_model.adapters.tables import OUTBOX_CHANNEL, outbox
from write_model.domain.errors import TransientConflict
from write_model.events import Event, encode_payload, event_type
from write_model.outbox import CommandContext, OutboxPosition
from write_model.unit_of_work import AbstractUnitOfWork

# serialization_failure, deadlock_detected: the transaction may succeed when run again.
TRANSIENT_SQLSTATES = {"40001", "40P01"}


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    def __init__(self, engine: sa.Engine, context: CommandContext) -> None:
        self._engine = engine
        self._context = context
        self._connection: sa.Connection | None = None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self._connection = self._engine.connect()
        self._connection.begin()
        self.products = PostgresProductRepository(self._connection)
        return self

    def __exit__(self, *args: object) -> None:
        try:
            self.rollback()
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _commit(self, events: list[tuple[Event, int]]) -> OutboxPosition:
        connection = self._require_connection()
        occurred_at = datetime.now(UTC)
        metadata = {
            "actor": self._context.actor,
            "correlation_id": self._context.correlation_id,
            "causation_id": self._context.causation_id,
            "idempotency_key": self._context.idempotency_key,
        }
        rows = [
            {
                "aggregate_type": event.AGGREGATE,
                "aggregate_id": event.aggregate_id,
                "aggregate_version": version,
                "event_type": event_type(event),
                "payload": encode_payload(event),
                "metadata": metadata,
                "occurred_at": occurred_at,
            }
            for event, version in events
        ]
        try:
            positions = connection.execute(
                outbox.insert().returning(outbox.c.position, sa.cast(outbox.c.transaction_id, sa.Text)),
                rows,
            ).all()
            # Delivered at commit, to wake the projector; folded with any other in this transaction.
            connection.execute(sa.select(sa.func.pg_notify(OUTBOX_CHANNEL, "")))
            connection.commit()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
                raise TransientConflict(f"database conflict {exc.orig.sqlstate}") from exc  # type: ignore[union-attr]
            raise
        last_position, transaction_id = max(positions, key=lambda row: row[0])
        return OutboxPosition(int(transaction_id), last_position)

    def rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()

    def _require_connection(self) -> sa.Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._connection
