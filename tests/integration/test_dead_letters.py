"""Poison events on real PostgreSQL and Elasticsearch: parked, the rest flowing, retried or skipped."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from elasticsearch import Elasticsearch
from psycopg.types.json import Jsonb

from api import bootstrap
from api.settings import Settings
from read_model.outbox import OutboxRecord
from read_model.poison import PoisonSuspected
from read_model.projections import Document
from read_model.projections.products import ProductProjection
from tests._launcher import launcher
from tests.conftest import cli_env, own_database
from tests.integration._chaos import record
from tests.integration._waiting import until
from write_model import commands
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="dead-letters")


# A database of each test's own: a poison event in the outbox would stop every other test's projector.
database_url = own_database()


def create(bus: CommandBus, sku: str) -> uuid.UUID:
    command = commands.CreateProduct(sku=f"{sku}-{uuid.uuid4().hex[:8]}", name=sku, brand="B", category="C", price="1")
    return bus.handle(command, CONTEXT).aggregate_id


def document(es: Elasticsearch, prefix: str, product: uuid.UUID) -> dict[str, Any] | None:
    found = es.options(ignore_status=404).get(index=f"{prefix}products", id=str(product))
    return found["_source"] if found.get("found") else None


def test_a_poison_event_is_parked_while_the_others_flow_then_retried_once_fixed(
    projector: bootstrap.ProjectorProcess,
    settings: Settings,
    bus: CommandBus,
    es: Elasticsearch,
    index_prefix: str,
    database_url: str,
) -> None:
    broken = {"yes"}
    poisoned = create(bus, "POISONED")

    class NotYet(ProductProjection):
        """Refuses the poisoned product's restocks until the test "deploys the fix"."""

        def _apply(self, current: Document | None, record: OutboxRecord) -> Document:
            if record.aggregate_id == poisoned and record.event_type == "ProductRestocked" and broken:
                raise RuntimeError("the fix is not deployed yet")
            return super()._apply(current, record)

    running = bootstrap.build_projector(
        dataclasses.replace(settings, projector_poll_seconds=0.1, projector_max_attempts=3), [NotYet()]
    )
    stop = threading.Event()
    thread = threading.Thread(target=running.projector.run_forever, args=(stop,))
    thread.start()
    try:
        bus.handle(commands.RestockProduct(product_id=poisoned, quantity=5), CONTEXT)
        bus.handle(commands.RestockProduct(product_id=poisoned, quantity=1), CONTEXT)
        healthy = create(bus, "HEALTHY")
        started = time.monotonic()
        until(lambda: document(es, index_prefix, healthy) is not None)
        letters = projector.dead_letters.letters(projection=f"{index_prefix}products")
        assert [(letter.event_type, letter.attempts) for letter in letters] == [
            ("ProductRestocked", 3),
            ("ProductRestocked", 0),
        ]
        assert time.monotonic() - started < 10, "parked within one retry cycle (0.5 s + 1 s of backoff)"
        assert document(es, index_prefix, poisoned)["stock"] == 0  # type: ignore[index]

        broken.clear()
        assert projector.dead_letters.retry([letters[1].id]) == 2
        until(lambda: document(es, index_prefix, poisoned)["stock"] == 6)  # type: ignore[index]
        until(lambda: projector.dead_letters.count_open(f"{index_prefix}products") == 0)
        bus.handle(commands.RestockProduct(product_id=poisoned, quantity=1), CONTEXT)
        until(lambda: document(es, index_prefix, poisoned)["stock"] == 7)  # type: ignore[index]
    finally:
        stop.set()
        thread.join()
        running.close()
    with psycopg.connect(database_url) as connection:
        written = connection.execute("SELECT count(*) FROM outbox").fetchone()[0]  # type: ignore[index]
    record(
        "a poison event parked, the others flowing, then retried once fixed",
        faults="poison event",
        injected=1,
        events_written=written,
        events_lost=projector.dead_letters.count_open(f"{index_prefix}products"),
    )


def test_the_dead_letters_command_lists_skips_and_retries(
    projector: bootstrap.ProjectorProcess, bus: CommandBus, database_url: str, settings: Settings
) -> None:
    product = create(bus, "UNKNOWN")
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload, metadata,"
            " occurred_at) VALUES ('Product', %s, 2, 'ProductTeleported', %s, '{}', now())",
            (product, Jsonb({"schema_version": 1})),
        )
    for _ in range(2):
        with pytest.raises(PoisonSuspected, match="ProductTeleported"):
            projector.projector.run_until_caught_up()
    projector.projector.run_until_caught_up()  # the third failure parks it

    env = cli_env(settings)

    def twofold(*args: str) -> str:
        done = launcher().run(["dead-letters", *args], env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = twofold("list", "--projection", "products")
    assert "ProductTeleported of Product" in listed
    assert "UnknownEvent" in listed
    letter_id = next(line.split()[0] for line in listed.splitlines() if "ProductTeleported" in line)
    assert twofold("skip", letter_id) == "1 dead letters skipped\n"
    assert twofold("list", "--projection", "products").endswith("0 dead letters\n")
    assert "SKIPPED" in twofold("list", "--all", "--projection", "products")
    assert twofold("retry", "--all").startswith("0 dead letters marked")
