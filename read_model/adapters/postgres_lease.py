"""The projector's lease and batch gate: PostgreSQL advisory locks on a connection of their own."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import psycopg

from read_model.adapters._postgres import AutocommitConnection
from read_model.errors import OutboxUnavailable
from read_model.lease import AbstractLease

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
        self._connection = AutocommitConnection(database_url, retry_stale=False)
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
