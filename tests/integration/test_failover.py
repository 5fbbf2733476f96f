"""Several projector processes: one projects, the others stand by and take over when it dies."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from elasticsearch import Elasticsearch

from api import bootstrap
from api.settings import Settings
from tests._launcher import launcher
from tests.conftest import cli_env
from write_model import commands
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="failover")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "failover"


def create(bus: CommandBus) -> uuid.UUID:
    command = commands.CreateProduct(sku=f"F-{uuid.uuid4().hex[:10]}", name="F", brand="B", category="C", price="1")
    return bus.handle(command, CONTEXT).aggregate_id


def wait_for(condition: Callable[[], object], seconds: float) -> float:
    """Seconds until `condition()` held; fails after `seconds`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_standby_takes_over_within_ten_seconds_of_the_active_projectors_death(
    settings: Settings, bus: CommandBus, es: Elasticsearch, index_prefix: str
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = cli_env(settings, TWOFOLD_PROJECTOR_POLL_INTERVAL="0.2")
    active = launcher().start(["project"], env, OUTPUT / "active.log")
    standby = bootstrap.build_projector(settings)
    tried = threading.Event()
    acquire = standby.lease.acquire

    def acquire_and_say_so() -> bool:
        held = acquire()
        tried.set()
        return held

    standby.lease.acquire = acquire_and_say_so  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=standby.projector.run_forever, args=(stop,))
    try:
        first = create(bus)
        wait_for(lambda: es.exists(index=f"{index_prefix}products", id=str(first)), 30)
        thread.start()
        assert tried.wait(30), "the standby never asked for the lease"
        assert not standby.projector.active, "two projectors held the lease at once"

        os.kill(active.pid, signal.SIGKILL)
        active.wait()
        second = create(bus)
        took = wait_for(lambda: es.exists(index=f"{index_prefix}products", id=str(second)), 10)
        assert standby.projector.active
        print(f"standby indexed a write made after the kill within {took:.2f} s")
    finally:
        if active.poll() is None:
            active.kill()
            active.wait()
        stop.set()
        thread.join()
        standby.close()
