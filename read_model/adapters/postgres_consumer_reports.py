"""The outbox consumers' reports, in PostgreSQL (`outbox_consumer_status`)."""

from __future__ import annotations

from read_model.adapters._postgres import AutocommitConnection
from read_model.checkpoint import Checkpoint
from read_model.consumers import AbstractConsumerReports, ConsumerState

REPORT = """
INSERT INTO outbox_consumer_status
       (name, kind, transaction_id, position, lag_events, lag_seconds, dead_letters, pending, overdue, updated_at)
VALUES (%(name)s, %(kind)s, %(transaction_id)s, %(position)s, %(lag_events)s, %(lag_seconds)s, %(dead_letters)s,
        %(pending)s, %(overdue)s, %(updated_at)s)
ON CONFLICT (name) DO UPDATE
   SET kind = excluded.kind, transaction_id = excluded.transaction_id, position = excluded.position,
       lag_events = excluded.lag_events, lag_seconds = excluded.lag_seconds, dead_letters = excluded.dead_letters,
       pending = excluded.pending, overdue = excluded.overdue, updated_at = excluded.updated_at
"""
REPORTS = "SELECT * FROM outbox_consumer_status WHERE name = ANY(%s) ORDER BY name"


class PostgresConsumerReports(AbstractConsumerReports):
    def __init__(self, database_url: str) -> None:
        self._connection = AutocommitConnection(database_url)

    def report(self, state: ConsumerState) -> None:
        params = {
            "name": state.name,
            "kind": state.kind,
            "transaction_id": state.checkpoint.transaction_id,
            "position": state.checkpoint.position,
            "lag_events": state.lag_events,
            "lag_seconds": state.lag_seconds,
            "dead_letters": state.dead_letters,
            "pending": state.pending,
            "overdue": state.overdue,
            "updated_at": state.updated_at,
        }
        self._connection.run(f"cannot store the report of {state.name}", lambda c: c.execute(REPORT, params))

    def reports(self, names: list[str]) -> list[ConsumerState]:
        rows = self._connection.run(
            "cannot read the outbox consumers' reports", lambda c: c.execute(REPORTS, (names,)).fetchall()
        )
        return [
            ConsumerState(
                name=row["name"],
                kind=row["kind"],
                checkpoint=Checkpoint(row["transaction_id"], row["position"]),
                lag_events=row["lag_events"],
                lag_seconds=row["lag_seconds"],
                dead_letters=row["dead_letters"],
                pending=row["pending"],
                overdue=row["overdue"],
                updated_at=row["updated_at"],
            )
            for row in rows
        ]

    def close(self) -> None:
        self._connection.close()
