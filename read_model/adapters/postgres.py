"""The outbox and the projection checkpoints, read and written with psycopg."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.errors import OutboxUnavailable
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord

OUTBOX_CHANNEL = "twofold_outbox"

# Rows of transactions that have all finished (the horizon is the oldest running transaction), after the
# checkpoint, in commit order. Uses the (transaction_id, position) index.
READ_AFTER = """
SELECT transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id,
       aggregate_version, event_type, payload, metadata, occurred_at
  FROM outbox
 WHERE (transaction_id, position) > (%(transaction_id)s::text::xid8, %(position)s)
   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY transaction_id, position
 LIMIT %(limit)s
"""


class PostgresOutboxReader(AbstractOutboxReader):
    """Reads on its own autocommit connection, which also LISTENs for the writers' NOTIFY."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._connection: psycopg.Connection[dict[str, Any]] | None = None

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._database_url, autocommit=True, row_factory=dict_row)
            self._connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
        return self._connection

    def read_after(self, checkpoint: Checkpoint, limit: int) -> list[OutboxRecord]:
        rows = (
            self._connect()
            .execute(
                READ_AFTER,
                {
                    "transaction_id": checkpoint.transaction_id,
                    "position": checkpoint.position,
                    "limit": limit,
                },
            )
            .fetchall()
        )
        return [OutboxRecord(**row) for row in rows]

    def wait_for_new_events(self, timeout: float) -> None:
        for _notification in self._connect().notifies(timeout=timeout, stop_after=1):
            break

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


class PostgresCheckpointStore(AbstractCheckpointStore):
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._connection: psycopg.Connection[dict[str, Any]] | None = None

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._database_url, autocommit=True, row_factory=dict_row)
        return self._connection

    def load(self, name: str) -> Checkpoint:
        try:
            row = (
                self._connect()
                .execute("SELECT transaction_id, position FROM projection_checkpoints WHERE name = %s", (name,))
                .fetchone()
            )
        except psycopg.OperationalError as exc:
            self.close()
            raise OutboxUnavailable(f"cannot load the checkpoint of {name}: {exc}") from exc
        return ORIGIN if row is None else Checkpoint(row["transaction_id"], row["position"])

    def save(self, name: str, checkpoint: Checkpoint) -> None:
        try:
            self._execute_save(name, checkpoint)
        except psycopg.OperationalError as exc:
            self.close()
            raise OutboxUnavailable(f"cannot save the checkpoint of {name}: {exc}") from exc

    def _execute_save(self, name: str, checkpoint: Checkpoint) -> None:
        self._connect().execute(
            """
            INSERT INTO projection_checkpoints (name, transaction_id, position, updated_at)
            VALUES (%s, %s, %s, now())
            ON CONFLICT (name) DO UPDATE
               SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
            """,
            (name, checkpoint.transaction_id, checkpoint.position),
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
