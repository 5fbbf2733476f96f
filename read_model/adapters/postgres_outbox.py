"""The outbox, read in commit order with psycopg, woken by the writers' NOTIFY."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from read_model.adapters._postgres import AutocommitConnection
from read_model.checkpoint import LAG_COUNT_LIMIT, Checkpoint
from read_model.outbox import AbstractOutboxReader, OutboxRecord
from write_model.outbox import OUTBOX_CHANNEL

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

# Uses the (aggregate_id, aggregate_version) unique index.
READ_VERSIONS = """
SELECT transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id,
       aggregate_version, event_type, payload, metadata, occurred_at
  FROM outbox
 WHERE aggregate_id = %(aggregate_id)s AND aggregate_version BETWEEN %(first)s AND %(last)s
 ORDER BY aggregate_version
"""

# Uses the (aggregate_id, aggregate_version) unique index, newest version first.
READ_NEWEST = """
SELECT DISTINCT ON (aggregate_id)
       transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id, aggregate_version,
       event_type, payload, metadata, occurred_at
  FROM outbox
 WHERE aggregate_id = ANY(%(aggregate_ids)s) AND event_type = ANY(%(event_types)s)
 ORDER BY aggregate_id, aggregate_version DESC
"""

# The versions of these aggregates below the given ones that commit order puts after `after`: one query,
# through the (aggregate_id, aggregate_version) unique index.
READ_OVERTAKEN = """
SELECT o.transaction_id::text::bigint AS transaction_id, o.position, o.aggregate_type, o.aggregate_id,
       o.aggregate_version, o.event_type, o.payload, o.metadata, o.occurred_at
  FROM unnest(%(aggregate_ids)s::uuid[], %(below)s::integer[]) AS wanted (aggregate_id, below)
  JOIN outbox o ON o.aggregate_id = wanted.aggregate_id AND o.aggregate_version < wanted.below
 WHERE (o.transaction_id::text::bigint, o.position) > (%(transaction_id)s, %(position)s)
 ORDER BY o.aggregate_id, o.aggregate_version
"""


class PostgresOutboxReader(AbstractOutboxReader):
    """Reads on its own autocommit connection, which also LISTENs for the writers' NOTIFY. A batch holds at
    most `max_batch_bytes` of events (but always one), so memory stays bounded however large they are."""

    def __init__(self, database_url: str, *, max_batch_bytes: int = 8 * 1024 * 1024) -> None:
        self._connection = AutocommitConnection(database_url, listen=OUTBOX_CHANNEL)
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

    def read_versions(self, aggregate_id: UUID, first: int, last: int) -> list[OutboxRecord]:
        params = {"aggregate_id": aggregate_id, "first": first, "last": last}
        rows = self._connection.run(
            f"cannot read the events of {aggregate_id}", lambda c: c.execute(READ_VERSIONS, params).fetchall()
        )
        return [OutboxRecord(**row) for row in rows]

    def read_newest(self, aggregate_ids: list[UUID], event_types: frozenset[str]) -> list[OutboxRecord]:
        params = {"aggregate_ids": aggregate_ids, "event_types": sorted(event_types)}
        rows = self._connection.run(
            "cannot read the newest events", lambda c: c.execute(READ_NEWEST, params).fetchall()
        )
        return [OutboxRecord(**row) for row in rows]

    def read_overtaken(self, after: Checkpoint, below: dict[UUID, int]) -> list[OutboxRecord]:
        if not below:
            return []
        params = {
            "aggregate_ids": list(below),
            "below": list(below.values()),
            "transaction_id": after.transaction_id,
            "position": after.position,
        }
        rows = self._connection.run(
            "cannot read the overtaken events", lambda c: c.execute(READ_OVERTAKEN, params).fetchall()
        )
        return [OutboxRecord(**row) for row in rows]

    def wait_for_new_events(self, timeout: float) -> None:
        def wait(connection: psycopg.Connection[dict[str, Any]]) -> None:
            for _notification in connection.notifies(timeout=timeout, stop_after=1):
                break

        self._connection.run("lost the outbox notifications", wait)

    def close(self) -> None:
        self._connection.close()
