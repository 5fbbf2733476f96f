"""The dead letters, in PostgreSQL: events a projection could not apply, parked with their error."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from read_model.adapters._postgres import AutocommitConnection
from read_model.checkpoint import Checkpoint
from read_model.dead_letters import OPEN, AbstractDeadLetters, DeadLetter, LetterStatus, OpenLetters
from read_model.outbox import OutboxRecord

# Each status is named once, in `LetterStatus`; the statements take them as parameters.
_OPEN = [status.value for status in OPEN]


class PostgresDeadLetters(AbstractDeadLetters):
    def __init__(self, database_url: str) -> None:
        self._connection = AutocommitConnection(database_url)

    def park(self, projection: str, record: OutboxRecord, error: str, attempts: int) -> None:
        self._run(
            f"cannot park an event of {projection}",
            """
            INSERT INTO dead_letters (projection, transaction_id, position, aggregate_type, aggregate_id, event_type,
                                      error, attempts, status, parked_at, updated_at)
            VALUES (%(projection)s, %(transaction_id)s, %(position)s, %(aggregate_type)s, %(aggregate_id)s,
                    %(event_type)s, %(error)s, %(attempts)s, %(parked)s, now(), now())
            ON CONFLICT (projection, transaction_id, position) DO UPDATE
               SET error = excluded.error, attempts = dead_letters.attempts + excluded.attempts,
                   status = %(parked)s, updated_at = now()
            """,
            {
                "projection": projection,
                "transaction_id": record.transaction_id,
                "position": record.position,
                "aggregate_type": record.aggregate_type,
                "aggregate_id": record.aggregate_id,
                "event_type": record.event_type,
                "error": error,
                "attempts": attempts,
                "parked": LetterStatus.PARKED.value,
            },
        )

    def summary(self, projections: list[str]) -> dict[str, OpenLetters]:
        rows = self._run(
            f"cannot read the dead letters of {', '.join(projections)}",
            """
            SELECT projection, aggregate_id, bool_or(status = %(retry)s) AS due, count(*) AS letters
              FROM dead_letters
             WHERE projection = ANY(%(projections)s) AND status = ANY(%(open)s)
             GROUP BY projection, aggregate_id
            """,
            {"projections": projections, "open": _OPEN, "retry": LetterStatus.RETRY.value},
        )
        summary = {}
        for projection in projections:
            mine = [row for row in rows if row["projection"] == projection]
            summary[projection] = OpenLetters(
                blocked=frozenset(row["aggregate_id"] for row in mine),
                due=frozenset(row["aggregate_id"] for row in mine if row["due"]),
                count=sum(int(row["letters"]) for row in mine),
            )
        return summary

    def open_letters(self, projection: str, aggregate_ids: set[UUID]) -> list[DeadLetter]:
        return self._letters(
            f"cannot read the dead letters of {projection}",
            """
            SELECT * FROM dead_letters
             WHERE projection = %(projection)s AND aggregate_id = ANY(%(ids)s) AND status = ANY(%(open)s)
             ORDER BY transaction_id, position
            """,
            {"projection": projection, "ids": sorted(aggregate_ids), "open": _OPEN},
        )

    def resolve(self, letter_ids: list[int]) -> None:
        self._run(
            "cannot resolve dead letters",
            "UPDATE dead_letters SET status = %s, updated_at = now() WHERE id = ANY(%s)",
            (LetterStatus.RESOLVED.value, letter_ids),
        )

    def letters(self, *, projection: str | None = None, include_closed: bool = False) -> list[DeadLetter]:
        return self._letters(
            "cannot read dead letters",
            """
            SELECT * FROM dead_letters
             WHERE (%(projection)s::text IS NULL OR projection = %(projection)s)
               AND (%(closed)s OR status = ANY(%(open)s))
             ORDER BY transaction_id, position
            """,
            {"projection": projection, "closed": include_closed, "open": _OPEN},
        )

    def retry(self, letter_ids: list[int] | None) -> int:
        rows = self._run(
            "cannot mark dead letters for a retry",
            """
            UPDATE dead_letters SET status = %(retry)s, updated_at = now()
             WHERE status = ANY(%(open)s)
               AND (projection, aggregate_id) IN (
                   SELECT projection, aggregate_id FROM dead_letters
                    WHERE status = ANY(%(open)s) AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s)))
            RETURNING id
            """,
            {"ids": letter_ids, "open": _OPEN, "retry": LetterStatus.RETRY.value},
        )
        return len(rows)

    def skip(self, letter_ids: list[int] | None) -> int:
        rows = self._run(
            "cannot skip dead letters",
            """
            UPDATE dead_letters SET status = %(skipped)s, updated_at = now()
             WHERE status = ANY(%(open)s) AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s))
            RETURNING id
            """,
            {"ids": letter_ids, "open": _OPEN, "skipped": LetterStatus.SKIPPED.value},
        )
        return len(rows)

    def close(self) -> None:
        self._connection.close()

    def _letters(self, what: str, sql: str, params: dict[str, Any]) -> list[DeadLetter]:
        return [
            DeadLetter(
                id=row["id"],
                projection=row["projection"],
                checkpoint=Checkpoint(row["transaction_id"], row["position"]),
                aggregate_type=row["aggregate_type"],
                aggregate_id=row["aggregate_id"],
                event_type=row["event_type"],
                error=row["error"],
                attempts=row["attempts"],
                status=LetterStatus(row["status"]),
                parked_at=row["parked_at"],
                updated_at=row["updated_at"],
            )
            for row in self._run(what, sql, params)
        ]

    def _run(self, what: str, sql: str, params: tuple[Any, ...] | dict[str, Any]) -> list[dict[str, Any]]:
        def execute(connection: psycopg.Connection[dict[str, Any]]) -> list[dict[str, Any]]:
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description is not None else []

        return self._connection.run(what, execute)
