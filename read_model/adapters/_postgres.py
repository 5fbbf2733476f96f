"""What the PostgreSQL adapters of the read model share: one autocommit connection that comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads

from read_model.errors import OutboxUnavailable

T = TypeVar("T")


class AutocommitConnection:
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
            # The outbox's payloads are read by the thousand: orjson decodes them in a fraction of the time.
            set_json_loads(orjson.loads, self._connection)
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
