"""Running an outbox consumer (projector, saga, relay) until SIGTERM or Ctrl-C asks it to stop."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from api._heap import freeze_what_was_built

logger = logging.getLogger("twofold")


def run_until_signalled(name: str, run_forever: Callable[[threading.Event], None]) -> None:
    """`run_forever(stop)`, with `stop` set by SIGTERM or SIGINT: the loop ends its round and returns. What
    the process built before is frozen out of the garbage collector's full collections (api/_heap.py)."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("%s stopping (signal %d)", name, signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    freeze_what_was_built()
    run_forever(stop)
