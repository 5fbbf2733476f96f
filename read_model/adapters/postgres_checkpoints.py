"""The outbox consumers' checkpoints, in PostgreSQL."""

from __future__ import annotations

from read_model.adapters._postgres import AutocommitConnection
from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.outbox import AbstractCheckpointStore

LOAD = "SELECT name, transaction_id, position FROM projection_checkpoints WHERE name = ANY(%s)"

# One statement for all of them: they are stored together or not at all.
SAVE = """
INSERT INTO projection_checkpoints (name, transaction_id, position, updated_at)
SELECT name, transaction_id, position, now()
  FROM unnest(%(names)s::text[], %(transaction_ids)s::bigint[], %(positions)s::bigint[])
       AS saved (name, transaction_id, position)
ON CONFLICT (name) DO UPDATE
   SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
"""


class PostgresCheckpointStore(AbstractCheckpointStore):
    def __init__(self, database_url: str) -> None:
        self._connection = AutocommitConnection(database_url)

    def load_many(self, names: list[str]) -> dict[str, Checkpoint]:
        rows = self._connection.run(
            f"cannot load the checkpoints of {', '.join(names)}", lambda c: c.execute(LOAD, (names,)).fetchall()
        )
        stored = {row["name"]: Checkpoint(row["transaction_id"], row["position"]) for row in rows}
        return {name: stored.get(name, ORIGIN) for name in names}

    def save_many(self, checkpoints: dict[str, Checkpoint]) -> None:
        if not checkpoints:
            return
        params = {
            "names": list(checkpoints),
            "transaction_ids": [checkpoint.transaction_id for checkpoint in checkpoints.values()],
            "positions": [checkpoint.position for checkpoint in checkpoints.values()],
        }
        self._connection.run(
            f"cannot save the checkpoints of {', '.join(checkpoints)}", lambda c: c.execute(SAVE, params)
        )

    def close(self) -> None:
        self._connection.close()
