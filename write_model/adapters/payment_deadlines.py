"""The expiry saga's state in PostgreSQL: `payment_deadlines`, and its checkpoint in `projection_checkpoints`
(the table every outbox consumer keeps its place in), written in one transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from uuid import UUID

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from write_model.domain.errors import StoreUnavailable
from write_model.expiry import AbstractPaymentDeadlines, DeadlineChanges, DeadlineSummary
from write_model.outbox import OutboxPosition

_POSITION = sa.text("SELECT transaction_id, position FROM projection_checkpoints WHERE name = :name")
_SAVE_POSITION = sa.text(
    """
    INSERT INTO projection_checkpoints (name, transaction_id, position, updated_at)
    VALUES (:name, :transaction_id, :position, now())
    ON CONFLICT (name) DO UPDATE
       SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
    """
)
_OPEN = sa.text(
    """
    INSERT INTO payment_deadlines (saga, order_id, placed_at)
    SELECT :saga, order_id, placed_at
      FROM unnest(CAST(:order_ids AS uuid[]), CAST(:placed_ats AS timestamptz[])) AS o (order_id, placed_at)
    ON CONFLICT (saga, order_id) DO NOTHING
    """
)
_CLOSE = sa.text("DELETE FROM payment_deadlines WHERE saga = :saga AND order_id = ANY(CAST(:order_ids AS uuid[]))")
_DUE = sa.text(
    """
    SELECT order_id FROM payment_deadlines
     WHERE saga = :saga AND parked_at IS NULL AND placed_at < :placed_before
     ORDER BY placed_at, order_id
     LIMIT :limit
    """
)
_FAIL = sa.text(
    """
    UPDATE payment_deadlines
       SET attempts = attempts + 1, last_error = :error,
           parked_at = CASE WHEN attempts + 1 >= :max_attempts THEN :now ELSE NULL END
     WHERE saga = :saga AND order_id = :order_id
    RETURNING parked_at IS NOT NULL AS parked
    """
)
_RETRY = sa.text(
    "UPDATE payment_deadlines SET attempts = 0, parked_at = NULL WHERE saga = :saga AND parked_at IS NOT NULL"
)
_SUMMARY = sa.text(
    """
    SELECT count(*) FILTER (WHERE parked_at IS NULL) AS pending,
           count(*) FILTER (WHERE parked_at IS NULL AND placed_at < :placed_before) AS overdue,
           count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
           min(placed_at) FILTER (WHERE parked_at IS NULL) AS oldest
      FROM payment_deadlines WHERE saga = :saga
    """
)
# Long enough for any string the domain produces; an error message is a hint, not a record.
MAX_ERROR = 2000


class PostgresPaymentDeadlines(AbstractPaymentDeadlines):
    """The deadlines of the saga named `saga`; its checkpoint is the `projection_checkpoints` row of that name."""

    def __init__(self, engine: sa.Engine, saga: str) -> None:
        self._engine = engine
        self._saga = saga

    def position(self) -> OutboxPosition:
        with self._connection() as connection:
            row = connection.execute(_POSITION, {"name": self._saga}).one_or_none()
        return OutboxPosition(0, 0) if row is None else OutboxPosition(row.transaction_id, row.position)

    def advance(self, changes: DeadlineChanges, to: OutboxPosition) -> None:
        with self._connection() as connection, connection.begin():
            if changes.closed:
                connection.execute(_CLOSE, {"saga": self._saga, "order_ids": list(changes.closed)})
            if changes.opened:
                connection.execute(
                    _OPEN,
                    {
                        "saga": self._saga,
                        "order_ids": list(changes.opened),
                        "placed_ats": list(changes.opened.values()),
                    },
                )
            connection.execute(
                _SAVE_POSITION, {"name": self._saga, "transaction_id": to.transaction_id, "position": to.position}
            )

    def due(self, placed_before: datetime, limit: int) -> list[UUID]:
        with self._connection() as connection:
            rows = connection.execute(_DUE, {"saga": self._saga, "placed_before": placed_before, "limit": limit})
            return [row.order_id for row in rows]

    def settle(self, order_ids: Iterable[UUID]) -> None:
        settled = list(order_ids)
        if settled:
            with self._connection() as connection, connection.begin():
                connection.execute(_CLOSE, {"saga": self._saga, "order_ids": settled})

    def fail(self, order_id: UUID, error: str, *, max_attempts: int, now: datetime) -> bool:
        with self._connection() as connection, connection.begin():
            row = connection.execute(
                _FAIL,
                {
                    "saga": self._saga,
                    "order_id": order_id,
                    "error": error[:MAX_ERROR],
                    "max_attempts": max_attempts,
                    "now": now,
                },
            ).one_or_none()
        return bool(row is not None and row.parked)

    def retry_parked(self) -> int:
        with self._connection() as connection, connection.begin():
            return connection.execute(_RETRY, {"saga": self._saga}).rowcount

    def summary(self, placed_before: datetime) -> DeadlineSummary:
        with self._connection() as connection:
            row = connection.execute(_SUMMARY, {"saga": self._saga, "placed_before": placed_before}).one()
        return DeadlineSummary(pending=row.pending, overdue=row.overdue, parked=row.parked, oldest_placed_at=row.oldest)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        """A pooled connection; a database that cannot be reached is `StoreUnavailable`, which the saga's loop
        waits out."""
        try:
            with self._engine.connect() as connection:
                yield connection
        except DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError):
                raise StoreUnavailable(f"the saga's state is unreachable: {type(exc.orig).__name__}") from exc
            raise
