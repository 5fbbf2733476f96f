"""The loop of an outbox consumer: rounds while this process holds the lease, standby while another does,
and exponential backoff while a service is unavailable.

It knows nothing of what a round does: the projector's rounds fill Elasticsearch, and any other consumer
of the outbox can run the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from read_model.lease import AbstractLease

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0


class LeasedLoop:
    def __init__(
        self,
        lease: AbstractLease,
        *,
        name: str,
        pause_on: tuple[type[Exception], ...],
        standby_poll_seconds: float = 1.0,
    ) -> None:
        self._lease = lease
        self._name = name
        self._pause_on = pause_on
        self._standby_poll_seconds = standby_poll_seconds
        self.active = False  # whether this process holds the lease and runs rounds

    def run_forever(
        self,
        stop: threading.Event,
        *,
        prepare: Callable[[], None],
        run_round: Callable[[], int],
        idle: Callable[[], None],
    ) -> None:
        """Run rounds until `stop` is set, riding out outages.

        Only while this process holds the lease: a standby waits for it, polling every
        `standby_poll_seconds`. Once it holds the lease it calls `prepare` once, then `run_round` until a
        round reads nothing, then `idle` (which returns when there may be more), and again. An exception of
        `pause_on` is retried with exponential backoff (`FIRST_BACKOFF` doubling to `MAX_BACKOFF` seconds);
        a consumer that moves its checkpoint only after its sink acknowledged resumes where it stopped.
        """
        backoff = 0.0
        prepared = False
        try:
            while not stop.is_set():
                try:
                    if not self._lease.acquire():
                        if self.active:
                            logger.warning("%s lost its lease: standing by", self._name)
                        self.active = False
                        stop.wait(self._standby_poll_seconds)
                        continue
                    if not self.active:
                        logger.info("%s holds the lease: running", self._name)
                        self.active = True
                    if not prepared:
                        prepare()
                        prepared = True
                    if self._catch_up(run_round) == 0:
                        idle()
                    backoff = 0.0
                except self._pause_on as exc:
                    backoff = min(MAX_BACKOFF, max(FIRST_BACKOFF, backoff * 2))
                    logger.warning("%s paused %.1f s: %s", self._name, backoff, exc)
                    stop.wait(backoff)
        finally:
            self.active = False
            self._lease.release()

    def _catch_up(self, run_round: Callable[[], int]) -> int:
        """Rounds until one reads nothing, while the lease is this process's; the records read."""
        total = 0
        while self._lease.acquire():
            read = run_round()
            total += read
            if read == 0:
                break
        return total
