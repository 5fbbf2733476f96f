"""The saga and the relay, like the projector: one process holds the lease and works, a standby waits, and
takes over within seconds of the active one's `kill -9`."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from api import bootstrap
from api.settings import Settings
from tests._launcher import launcher
from tests.conftest import cli_env

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "failover"


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"{what}: not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.parametrize("command", ["saga", "relay"])
def test_a_standby_takes_over_when_the_active_process_is_killed(
    command: str, settings: Settings, kafka_bootstrap_servers: str
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = cli_env(settings, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap_servers, TWOFOLD_PAYMENT_TIMEOUT="7d")
    process: bootstrap.SagaProcess | bootstrap.RelayProcess
    if command == "saga":
        process = bootstrap.build_saga(settings)
        consumer, lease = process.saga, process.lease
    else:
        process = bootstrap.build_relay(settings)
        consumer, lease = process.relay, process.lease
    active = launcher().start([command], env, OUTPUT / f"{command}-active.log")
    stop = threading.Event()
    standby = threading.Thread(target=consumer.run_forever, args=(stop,))
    try:
        wait_for(lease.held_by_anyone, 30, f"the first {command} taking the lease")
        standby.start()
        time.sleep(1.5)  # more than a standby's poll: it asked, and was refused
        assert not consumer.active, f"two {command} processes held the lease at once"

        active.send_signal(signal.SIGKILL)
        active.wait(timeout=30)
        took = wait_for(lambda: consumer.active, 10, f"the standby {command} taking over")
        print(f"the standby {command} took over {took:.2f} s after the kill")
    finally:
        if active.poll() is None:
            active.kill()
            active.wait(timeout=30)
        stop.set()
        standby.join(timeout=30)
        process.close()
