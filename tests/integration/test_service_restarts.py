"""Real restarts of Elasticsearch and PostgreSQL under a running projector and a writer (`make chaos`).

Deselected from the test command (marker `chaos`): a restart takes the shared services away from every
other test for half a minute. `make chaos` runs these with the crash-recovery test.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from elasticsearch import Elasticsearch

from api import bootstrap
from api.settings import Settings
from tests._launcher import launcher
from tests.conftest import cli_env
from tests.integration._chaos import record, restart_service
from write_model import commands
from write_model.outbox import CommandContext

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "service-restarts"

pytestmark = pytest.mark.chaos


@pytest.mark.parametrize("service", ["elasticsearch", "postgresql"])
def test_a_service_restart_under_load_loses_nothing_and_the_lag_recovers(
    service: str, engine: sa.Engine, settings: Settings, es: Elasticsearch, index_prefix: str
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = cli_env(settings)
    projector = launcher().start(["project"], env, OUTPUT / f"project-{service}.log")
    bus = bootstrap.build_command_bus(engine)
    committed: list[str] = []
    stop = threading.Event()

    def write() -> None:
        context = CommandContext(actor="chaos", request_id=service)
        while not stop.wait(0.02):
            sku = f"CH-{uuid.uuid4().hex[:10]}"
            try:
                bus.handle(commands.CreateProduct(sku=sku, name="C", brand="B", category="C", price="1"), context)
            except Exception:  # noqa: S112 - the database is restarting: this write did not happen
                continue
            committed.append(sku)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(2)
        restart_service(service, OUTPUT / f"{service}-restart.log")
        time.sleep(2)
    finally:
        stop.set()
        writer.join()
    try:
        deadline = time.monotonic() + 90
        while True:
            es.indices.refresh(index=f"{index_prefix}products")
            found = es.count(index=f"{index_prefix}products", query={"terms": {"sku": committed}})["count"]
            if found == len(committed) or time.monotonic() > deadline:
                break
            assert projector.poll() is None, f"the projector exited; see {OUTPUT}"
            time.sleep(0.5)
        record(
            f"{service} restarted under a writer and a running projector",
            faults=f"{service} restart",
            injected=1,
            events_written=len(committed),
            events_lost=len(committed) - found,
        )
        assert found == len(committed), f"{len(committed) - found} of {len(committed)} writes never indexed"
        status = subprocess.run(
            [sys.executable, "-m", "api.cli", "status"], env=env, capture_output=True, text=True, check=True
        ).stdout
        products = next(line.split() for line in status.splitlines() if line.startswith("products"))
        assert products[2] == "0", status  # no lag left
    finally:
        projector.terminate()
        projector.wait(timeout=30)
    assert len(committed) > 100
