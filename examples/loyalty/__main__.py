"""`python -m examples.loyalty run` consumes Twofold's order events; `python -m examples.loyalty points` prints
every customer's points.

Settings: LOYALTY_DATABASE_URL (its own database, not Twofold's), KAFKA_BOOTSTRAP_SERVERS, and
TWOFOLD_KAFKA_TOPIC_PREFIX (default `twofold.`: it reads `<prefix>order`).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from examples.loyalty.service import LoyaltyService


def main(argv: list[str]) -> int:
    if argv[:1] not in (["run"], ["points"]):
        print("usage: python -m examples.loyalty run|points", file=sys.stderr)
        return 2
    try:
        database_url = os.environ["LOYALTY_DATABASE_URL"]
    except KeyError:
        print("loyalty: set LOYALTY_DATABASE_URL to a database of its own", file=sys.stderr)
        return 2
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092")
    topic = f"{os.environ.get('TWOFOLD_KAFKA_TOPIC_PREFIX', 'twofold.')}order"
    service = LoyaltyService(database_url, servers, topic)
    try:
        if argv[0] == "points":
            service.migrate()
            for customer, points in service.points().items():
                print(f"{customer}  {points:>8}")
            return 0
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        service.run(stop)
        return 0
    finally:
        service.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
