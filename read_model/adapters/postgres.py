"""The outbox and the projection checkpoints, read and written with psycopg."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from read_model.checkpoint import LAG_COUNT_LIMIT, ORIGIN, Checkpoint
from read_model.dead_letters import AbstractDeadLetters, DeadLetter, LetterStatus
from read_model.errors import OutboxUnavailable
from read_model.lease import AbstractLease
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord

OUTBOX_CHANNEL = "twofold_outbox"
T = TypeVar("T")

# Rows of transactions that have all finished (the horizon is the oldest running transaction), after the
# checkpoint, in commit order. Uses the (transaction_id, position) index.
# Rows of transactions that have all finished (the horizon is the oldest running transaction), after the
# checkpoint, in commit order, at most `limit` of them and, beyond the first, no more than `max_bytes` of
# payload and metadata together (as JSON text, the size they have on the wire and in memory, not the
# compressed size on disk). Uses the (transaction_id, position) index. The inner ORDER BY names the table's
# columns: the select list's `transaction_id` is the bigint cast, and ordering by it sorted the whole backlog
# (and ran the window over all of it) for every batch, so catching up took time quadratic in the backlog.
READ_AFTER = """
SELECT transaction_id, position, aggregate_type, aggregate_id, aggregate_version, event_type, payload, metadata,
       occurred_at
  FROM (SELECT transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id,
               aggregate_version, event_type, payload, metadata, occurred_at,
               sum(octet_length(payload::text) + octet_length(metadata::text))
                   OVER (ORDER BY transaction_id, position) AS running_bytes,
               octet_length(payload::text) + octet_length(metadata::text) AS bytes
          FROM outbox
         WHERE (transaction_id, position) > (%(transaction_id)s::text::xid8, %(position)s)
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY outbox.transaction_id, outbox.position
         LIMIT %(limit)s) AS batch
 WHERE running_bytes - bytes < %(max_bytes)s
 ORDER BY transaction_id, position
"""

BACKLOG = """
SELECT count(*) AS events, coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8 AS seconds
  FROM (SELECT occurred_at FROM outbox
         WHERE (transaction_id, position) > (%(transaction_id)s::text::xid8, %(position)s)
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY transaction_id, position
         LIMIT %(limit)s) AS behind
"""

READ_AT = """
SELECT transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id,
       aggregate_version, event_type, payload, metadata, occurred_at
  FROM outbox
 WHERE position = ANY(%(positions)s)
 ORDER BY transaction_id, position
"""


class _AutocommitConnection:
    """One autocommit connection, opened on first use and again after it was lost.

    `run` reconnects once when the connection went stale, and turns a refused connection into
    `OutboxUnavailable`, so the projector pauses and tries again.
    """

    def __init__(self, database_url: str, *, listen: str | None = None, retry_stale: bool = True) -> None:
        self._database_url = database_url
        self._listen = listen
        self._retry_stale = retry_stale
        self._connection: psycopg.Connection[dict[str, Any]] | None = None

    def get(self) -> psycopg.Connection[dict[str, Any]]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._database_url, autocommit=True, row_factory=dict_row)
            if self._listen is not None:
                self._connection.execute(f"LISTEN {self._listen}")
        return self._connection

    def run(self, what: str, operation: Callable[[psycopg.Connection[dict[str, Any]]], T]) -> T:
        """`operation` on the connection. A connection that went stale (the server restarted, the network
        dropped it) is replaced and the operation tried once more on the new one; only a failure on a fresh
        connection is `OutboxUnavailable`. Every operation run here is safe to repeat."""
        fresh = self._connection is None or self._connection.closed
        try:
            return operation(self.get())
        except psycopg.OperationalError as exc:
            self.close()
            if fresh or not self._retry_stale:
                raise OutboxUnavailable(f"{what}: {exc}") from exc
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
    """Reads on its own autocommit connection, which also LISTENs for the writers' NOTIFY. A batch holds at
    most `max_batch_bytes` of events (but always one), so memory stays bounded however large they are."""

    def __init__(self, database_url: str, *, max_batch_bytes: int = 8 * 1024 * 1024) -> None:
        self._connection = _AutocommitConnection(database_url, listen=OUTBOX_CHANNEL)
        self._max_batch_bytes = max_batch_bytes

    def read_after(self, checkpoint: Checkpoint, limit: int) -> list[OutboxRecord]:
        params = {
            "transaction_id": checkpoint.transaction_id,
            "position": checkpoint.position,
            "limit": limit,
            "max_bytes": self._max_batch_bytes,
        }
        rows = self._connection.run("cannot read the outbox", lambda c: c.execute(READ_AFTER, params).fetchall())
        return [OutboxRecord(**row) for row in rows]

    def backlog(self, checkpoint: Checkpoint) -> tuple[int, float]:
        params = {
            "transaction_id": checkpoint.transaction_id,
            "position": checkpoint.position,
            "limit": LAG_COUNT_LIMIT,
        }
        row = self._connection.run("cannot measure the backlog", lambda c: c.execute(BACKLOG, params).fetchone())
        return (0, 0.0) if row is None else (int(row["events"]), max(0.0, float(row["seconds"])))

    def read_at(self, checkpoints: list[Checkpoint]) -> list[OutboxRecord]:
        params = {"positions": [checkpoint.position for checkpoint in checkpoints]}
        rows = self._connection.run("cannot read the outbox", lambda c: c.execute(READ_AT, params).fetchall())
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


class PostgresDeadLetters(AbstractDeadLetters):
    def __init__(self, database_url: str) -> None:
        self._connection = _AutocommitConnection(database_url)

    def park(self, projection: str, record: OutboxRecord, error: str, attempts: int) -> None:
        self._run(
            f"cannot park an event of {projection}",
            """
            INSERT INTO dead_letters (projection, transaction_id, position, aggregate_type, aggregate_id, event_type,
                                      error, attempts, status, parked_at, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'PARKED', now(), now())
            ON CONFLICT (projection, transaction_id, position) DO UPDATE
               SET error = excluded.error, attempts = dead_letters.attempts + excluded.attempts,
                   status = 'PARKED', updated_at = now()
            """,
            (
                projection,
                record.transaction_id,
                record.position,
                record.aggregate_type,
                record.aggregate_id,
                record.event_type,
                error,
                attempts,
            ),
        )

    def blocked(self, projection: str) -> set[UUID]:
        rows = self._run(
            f"cannot read the dead letters of {projection}",
            "SELECT DISTINCT aggregate_id FROM dead_letters WHERE projection = %s AND status IN ('PARKED', 'RETRY')",
            (projection,),
        )
        return {row["aggregate_id"] for row in rows}

    def open_letters(self, projection: str, aggregate_ids: set[UUID]) -> list[DeadLetter]:
        return self._letters(
            f"cannot read the dead letters of {projection}",
            """
            SELECT * FROM dead_letters
             WHERE projection = %(projection)s AND aggregate_id = ANY(%(ids)s) AND status IN ('PARKED', 'RETRY')
             ORDER BY transaction_id, position
            """,
            {"projection": projection, "ids": sorted(aggregate_ids)},
        )

    def due(self, projection: str) -> set[UUID]:
        rows = self._run(
            f"cannot read the dead letters of {projection}",
            "SELECT DISTINCT aggregate_id FROM dead_letters WHERE projection = %s AND status = 'RETRY'",
            (projection,),
        )
        return {row["aggregate_id"] for row in rows}

    def resolve(self, letter_ids: list[int]) -> None:
        self._run(
            "cannot resolve dead letters",
            "UPDATE dead_letters SET status = 'RESOLVED', updated_at = now() WHERE id = ANY(%s)",
            (letter_ids,),
        )

    def count_open(self, projection: str) -> int:
        rows = self._run(
            f"cannot count the dead letters of {projection}",
            "SELECT count(*) AS open FROM dead_letters WHERE projection = %s AND status IN ('PARKED', 'RETRY')",
            (projection,),
        )
        return int(rows[0]["open"])

    def letters(self, *, projection: str | None = None, include_closed: bool = False) -> list[DeadLetter]:
        return self._letters(
            "cannot read dead letters",
            """
            SELECT * FROM dead_letters
             WHERE (%(projection)s::text IS NULL OR projection = %(projection)s)
               AND (%(closed)s OR status IN ('PARKED', 'RETRY'))
             ORDER BY transaction_id, position
            """,
            {"projection": projection, "closed": include_closed},
        )

    def retry(self, letter_ids: list[int] | None) -> int:
        rows = self._run(
            "cannot mark dead letters for a retry",
            """
            UPDATE dead_letters SET status = 'RETRY', updated_at = now()
             WHERE status IN ('PARKED', 'RETRY')
               AND (projection, aggregate_id) IN (
                   SELECT projection, aggregate_id FROM dead_letters
                    WHERE status IN ('PARKED', 'RETRY') AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s)))
            RETURNING id
            """,
            {"ids": letter_ids},
        )
        return len(rows)

    def skip(self, letter_ids: list[int] | None) -> int:
        rows = self._run(
            "cannot skip dead letters",
            """
            UPDATE dead_letters SET status = 'SKIPPED', updated_at = now()
             WHERE status IN ('PARKED', 'RETRY') AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s))
            RETURNING id
            """,
            {"ids": letter_ids},
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


GATE_SHARED = "SELECT pg_advisory_lock_shared(%s)"
UNGATE_SHARED = "SELECT pg_advisory_unlock_shared(%s)"
GATE = "SELECT pg_advisory_lock(%s)"
UNGATE = "SELECT pg_advisory_unlock(%s)"


def _lock_key(name: str) -> int:
    """Advisory locks are named by a 64-bit integer: a stable one derived from `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresLease(AbstractLease):
    """A session advisory lock named after the projector group (its checkpoint prefix), on its own
    connection: the lock lives exactly as long as that connection."""

    def __init__(self, database_url: str, group: str) -> None:
        # No silent reconnect: the lock lives and dies with its connection, so a new connection must take it anew.
        self._connection = _AutocommitConnection(database_url, retry_stale=False)
        self._key = _lock_key(f"twofold-projector:{group}")
        self._gate_key = _lock_key(f"twofold-projector-batches:{group}")
        self._held = False

    def acquire(self) -> bool:
        def take(connection: psycopg.Connection[dict[str, Any]]) -> bool:
            if self._held:
                connection.execute("SELECT 1")  # still connected, so still holding it
                return True
            row = connection.execute("SELECT pg_try_advisory_lock(%s) AS taken", (self._key,)).fetchone()
            return bool(row and row["taken"])

        try:
            self._held = self._connection.run("cannot take the projector lease", take)
        except OutboxUnavailable:
            self._held = False  # the connection, and the lock with it, is gone
            raise
        return self._held

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        # Shared: the projector's rounds never wait for each other, only for a rebuild's switch-over.
        self._connection.run("cannot open the batch gate", lambda c: c.execute(GATE_SHARED, (self._gate_key,)))
        try:
            yield
        finally:
            with contextlib.suppress(OutboxUnavailable):  # a lost connection released it already
                self._connection.run(
                    "cannot close the batch gate", lambda c: c.execute(UNGATE_SHARED, (self._gate_key,))
                )

    @contextlib.contextmanager
    def switch_over(self) -> Iterator[None]:
        """Exclusive: waits for the projector's round in progress, and holds the next ones off until done."""
        self._connection.run("cannot close the batch gate", lambda c: c.execute(GATE, (self._gate_key,)))
        try:
            yield
        finally:
            with contextlib.suppress(OutboxUnavailable):
                self._connection.run("cannot reopen the batch gate", lambda c: c.execute(UNGATE, (self._gate_key,)))

    def held_by_anyone(self) -> bool:
        """Whether some process holds the lease now (for `twofold status`)."""
        unsigned = self._key & 0xFFFFFFFFFFFFFFFF
        params = {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF}
        row = self._connection.run(
            "cannot read the locks",
            lambda c: c.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid::bigint = %(high)s AND objid::bigint = %(low)s AND objsubid = 1) AS held",
                params,
            ).fetchone(),
        )
        return bool(row and row["held"])

    def release(self) -> None:
        self._held = False
        self._connection.close()
