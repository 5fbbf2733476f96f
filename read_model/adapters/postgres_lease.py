"""The projector's lease and batch gate: PostgreSQL advisory locks on a connection of their own."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

from read_model.adapters._postgres import AutocommitConnection
from read_model.errors import OutboxUnavailable
from read_model.lease import AbstractLease

TRY_LEASE = "SELECT pg_try_advisory_lock(%s) AS taken"
RELEASE = "SELECT pg_advisory_unlock(%s)"
GATE_SHARED = "SELECT pg_advisory_lock_shared(%s)"
UNGATE_SHARED = "SELECT pg_advisory_unlock_shared(%s)"
GATE = "SELECT pg_advisory_lock(%s)"
UNGATE = "SELECT pg_advisory_unlock(%s)"
HELD = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid::bigint = %(high)s AND objid::bigint = %(low)s AND objsubid = 1) AS held"
)


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
        if self._held:
            return True  # the next round's gate, on the lock's own connection, confirms it
        row = self._run("cannot take the projector lease", TRY_LEASE, self._key)
        self._held = bool(row and row["taken"])
        return self._held

    @contextlib.contextmanager
    def round(self) -> Iterator[None]:
        # Shared: the projector's rounds never wait for each other, only for a rebuild's switch-over. Taken on
        # the lease's connection, so it succeeds only while that connection, and the lease with it, lives.
        self._run("cannot open the batch gate", GATE_SHARED, self._gate_key)
        try:
            yield
        finally:
            with contextlib.suppress(OutboxUnavailable):  # a lost connection released it already
                self._run("cannot close the batch gate", UNGATE_SHARED, self._gate_key)

    @contextlib.contextmanager
    def switch_over(self) -> Iterator[None]:
        """Exclusive: waits for the projector's round in progress, and holds the next ones off until done."""
        self._run("cannot close the batch gate", GATE, self._gate_key)
        try:
            yield
        finally:
            with contextlib.suppress(OutboxUnavailable):
                self._run("cannot reopen the batch gate", UNGATE, self._gate_key)

    def held_by_anyone(self) -> bool:
        """Whether some process holds the lease now (for `twofold status`)."""
        unsigned = self._key & 0xFFFFFFFFFFFFFFFF
        row = self._run("cannot read the locks", HELD, {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF})
        return bool(row and row["held"])

    def release(self) -> None:
        # Unlocked before the connection closes: the server would release it too, but only once the
        # connection's backend has exited, a moment in which a standby still finds the lease held.
        if self._held:
            with contextlib.suppress(OutboxUnavailable):
                self._run("cannot release the projector lease", RELEASE, self._key)
        self._held = False
        self._connection.close()

    def _run(self, what: str, statement: str, params: int | dict[str, int]) -> dict[str, Any] | None:
        """One statement on the lock's connection. When that connection is lost, so is the lease."""
        args = params if isinstance(params, dict) else (params,)
        try:
            return self._connection.run(what, lambda c: c.execute(statement, args).fetchone())
        except OutboxUnavailable:
            self._held = False
            raise
