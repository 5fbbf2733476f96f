"""Who may write the projections: one projector process at a time, any number standing by.

The active process holds a lease; a standby polls for it and takes over once the holder is gone. With
PostgreSQL the lease is a session advisory lock, released by the server the moment the holder's
connection ends, so a crashed or killed projector is replaced within a poll interval.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator


class AbstractLease(abc.ABC):
    @abc.abstractmethod
    def acquire(self) -> bool:
        """Take the lease; `False` while another process holds it. Never blocks: a standby calls it again
        after a pause.

        Once taken it answers `True` without asking again: the next `round` finds out whether it is still
        held, before anything of the round is written.
        """

    @abc.abstractmethod
    def release(self) -> None: ...

    @contextlib.contextmanager
    def round(self) -> Iterator[None]:
        """Held while the projector applies a round of batches; a rebuild's switch-over waits for it, and
        holds the next one off (see `read_model/rebuild.py`). Entering it confirms that this process still
        holds the lease, and raises an error of the read model's (`OutboxUnavailable`) when it does not."""
        yield


class SoleWriter(AbstractLease):
    """For a process that knows it is alone (unit tests, one-off tools): the lease is always its own."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None
