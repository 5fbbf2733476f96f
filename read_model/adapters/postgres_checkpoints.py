"""The projections' checkpoints, in PostgreSQL."""

from __future__ import annotations

from read_model.adapters._postgres import AutocommitConnection
from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.outbox import AbstractCheckpointStore


class PostgresCheckpointStore(AbstractCheckpointStore):
    def __init__(self, database_url: str) -> None:
        self._connection = AutocommitConnection(database_url)

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
