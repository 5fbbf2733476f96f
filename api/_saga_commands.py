"""The other outbox consumers' commands: `twofold saga [--retry-parked]` and `twofold relay`, and their
lines of `twofold status` (see api/cli.py)."""

from __future__ import annotations

from api._signals import run_until_signalled
from api.settings import Settings


def run(settings: Settings) -> int:
    from api.bootstrap import build_saga

    process = build_saga(settings)
    try:
        run_until_signalled("saga", process.saga.run_forever)
    finally:
        process.close()
    return 0


def retry_parked(settings: Settings) -> int:
    from api.bootstrap import build_saga

    process = build_saga(settings)
    try:
        count = process.saga.retry_parked()
        print(f"{count} parked deadlines are due again (the running saga fires them)")
        return 0
    finally:
        process.close()


def status_lines(settings: Settings) -> list[str]:
    """The saga's lines of `twofold status`: position, lag, deadlines, and whether a process runs it."""
    from api.bootstrap import build_saga

    process = build_saga(settings)
    try:
        state = process.saga.measure()
        running = process.lease.held_by_anyone()
    finally:
        process.close()
    position = f"{state.checkpoint.transaction_id}:{state.checkpoint.position}"
    return [
        f"{'saga':<16} {'position':<20} {'lag events':>10} {'lag s':>9} {'pending':>8} {'overdue':>8} {'parked':>7}",
        f"{state.name.removeprefix(settings.index_prefix):<16} {position:<20} {state.lag_events:>10}"
        f" {state.lag_seconds:>9.1f} {state.pending:>8} {state.overdue:>8} {state.dead_letters:>7}",
        "saga: running (a process holds the lease)" if running else "saga: NOT RUNNING",
    ]


def relay(settings: Settings) -> int:
    from api.bootstrap import build_relay

    process = build_relay(settings)
    try:
        run_until_signalled("relay", process.relay.run_forever)
    finally:
        process.close()
    return 0


def relay_status_lines(settings: Settings) -> list[str]:
    """The relay's lines of `twofold status`: position, lag, dead letters, and whether a process runs it."""
    from api.bootstrap import build_relay

    if settings.kafka_bootstrap_servers is None:
        return ["relay: KAFKA_BOOTSTRAP_SERVERS is not set"]
    process = build_relay(settings)
    try:
        state = process.relay.measure()
        running = process.lease.held_by_anyone()
    finally:
        process.close()
    position = f"{state.checkpoint.transaction_id}:{state.checkpoint.position}"
    return [
        f"{'relay':<16} {'position':<20} {'lag events':>10} {'lag s':>9} {'dead letters':>12}",
        f"{state.name.removeprefix(settings.index_prefix):<16} {position:<20} {state.lag_events:>10}"
        f" {state.lag_seconds:>9.1f} {state.dead_letters:>12}",
        "relay: running (a process holds the lease)" if running else "relay: NOT RUNNING",
    ]
