"""Which pooled connections may run a command: those the server has not closed, told without a round trip.

SQLAlchemy's `pool_pre_ping` sends a statement each time a connection leaves the pool and waits for the
answer: a round trip per command, with the thread's wait and both sides' system calls (docs/benchmarks.md).
An idle connection has nothing to read, though; when the server ends one (a restart, a terminated backend,
an idle timeout) it sends the reason and closes the socket, which then polls readable. So at checkout a
connection whose socket has anything to read, or that psycopg already knows is broken, is discarded, and the
pool connects afresh in its place.

What neither check sees is a peer gone silently (a partition, a host lost without closing its sockets): a
ping would wait on it as long as a statement does. A connection that dies after the check makes its command
fail with `StoreUnavailable`, as one that died after a ping did.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import DisconnectionError

_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def discard_closed_connections(engine: sa.Engine) -> None:
    """Check each connection `engine`'s pool hands out (instead of `pool_pre_ping`)."""
    sa.event.listen(engine, "checkout", _check_open)


def _check_open(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if not isinstance(dbapi_connection, psycopg.Connection):
        raise TypeError(f"the write model runs on psycopg, not {type(dbapi_connection).__name__}")
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    poll = select.poll()
    poll.register(dbapi_connection.fileno(), _READABLE)
    if poll.poll(0):
        raise DisconnectionError("the server wrote to or closed an idle connection")
