"""The outbox and the projection checkpoints, read and written with psycopg."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.errors import OutboxUnavailable
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord

OUTBOX_CHANNEL = "twofold_outbox"
T = TypeVar("T")

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


class _AutocommitConnection:
    """One autocommit connection, opened on first use and again after it was lost.

    `run` turns a lost or refused connection into `OutboxUnavailable` and drops the connection, so the
    projector's next attempt reconnects.
    """

    def __init__(self, database_url: str, *, listen: str | None = None) -> None:
        self._database_url = database_url
        self._listen = listen
        self._connection: psycopg.Connection[dict[str, Any]] | None = None

    def get(self) -> psycopg.Connection[dict[str, Any]]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._database_url, autocommit=True, row_factory=dict_row)
            if self._listen is not None:
                self._connection.execute(f"LISTEN {self._listen}")
        return self._connection

    def run(self, what: str, operation: Callable[[psycopg.Connection[dict[str, Any]]], T]) -> T:
        try:
            return operation(self.get())
        except psycopg.OperationalError as exc:
            self.close()
            raise OutboxUnavailable(f"{what}: {exc}") from exc

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresOutboxReader(AbstractOutboxReader):
    """Reads on its own autocommit connection, which also LISTENs for the writers' NOTIFY."""

    def __init__(self, database_url: str) -> None:
        self._connection = _AutocommitConnection(database_url, listen=OUTBOX_CHANNEL)

    def read_after(self, checkpoint: Checkpoint, limit: int) -> list[OutboxRecord]:
        params = {"transaction_id": checkpoint.transaction_id, "position": checkpoint.position, "limit": limit}
        rows = self._connection.run("cannot read the outbox", lambda c: c.execute(READ_AFTER, params).fetchall())
        return [OutboxRecord(**row) for row in rows]

    def wait_for_new_events(self, timeout: float) -> None:
        def wait(connection: psycopg.Connection[dict[str, Any]]) -> None:
            for _notification in connection.notifies(timeout=timeout, stop_after=1):
                break

        self._connection.run("lost the outbox notifications", wait)

    def close(self) -> None:
        self._connection.close()


class PostgresCheckpointStore(AbstractCheckpointStore):
    def __init__(self, database_url: str) -> None:
        self._connection = _AutocommitConnection(database_url)

    def load(self, name: str) -> Checkpoint:
        row = self._connection.run(
            f"cannot load the checkpoint of {name}",
            lambda c: c.execute(
                "SELECT transaction_id, position FROM projection_checkpoints WHERE name = %s", (name,)
            ).fetchone(),
        )
        return ORIGIN if row is None else Checkpoint(row["transaction_id"], row["position"])

    def save(self, name: str, checkpoint: Checkpoint) -> None:
        self._connection.run(
            f"cannot save the checkpoint of {name}",
            lambda c: c.execute(
                """
                INSERT INTO projection_checkpoints (name, transaction_id, position, updated_at)
                VALUES (%s, %s, %s, now())
                ON CONFLICT (name) DO UPDATE
                   SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
                """,
                (name, checkpoint.transaction_id, checkpoint.position),
            ),
        )

    def close(self) -> None:
        self._connection.close()
