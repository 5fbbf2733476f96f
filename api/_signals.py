"""Running an outbox consumer (projector, saga, relay) until SIGTERM or Ctrl-C asks it to stop."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger("twofold")


def run_until_signalled(name: str, run_forever: Callable[[threading.Event], None]) -> None:
    """`run_forever(stop)`, with `stop` set by SIGTERM or SIGINT: the loop ends its round and returns."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("%s stopping (signal %d)", name, signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    run_forever(stop)
