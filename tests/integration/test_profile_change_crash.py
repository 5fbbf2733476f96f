"""A customer with 1,000 orders changes their name while the projector is killed (`kill -9`) twice in the
middle of rewriting those orders: every order ends with the new name, and every index equals a rebuild."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from elasticsearch import Elasticsearch

from api import bootstrap
from api.settings import Settings
from tests._launcher import launcher
from tests.conftest import cli_env, own_database
from tests.integration._indexes import INDEXES, projected_from_scratch, sources
from write_model import commands
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

ORDERS = 1_000
KILLS = 2
PAGE = 10  # orders per fan-out request: a hundred requests, time enough to land a kill among them
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "profile-change-crash"
CONTEXT = CommandContext(actor="test", request_id="rename")

# A database of its own: the indexes are compared with a rebuild of the whole outbox.
database_url = own_database()


def customer_with_orders(bus: CommandBus, orders: int) -> uuid.UUID:
    customer = bus.handle(
        commands.RegisterCustomer(name="Ada Oldname", email=f"ada-{uuid.uuid4().hex[:8]}@example.com"), CONTEXT
    ).aggregate_id
    bus.handle(
        commands.RegisterCustomer(name="Bob Bystander", email=f"bob-{uuid.uuid4().hex[:8]}@example.com"), CONTEXT
    )
    product = bus.handle(
        commands.CreateProduct(sku="RENAME-1", name="Mug", brand="B", category="C", price="2.50", initial_stock=orders),
        CONTEXT,
    ).aggregate_id
    line = (commands.OrderLineRequest(product_id=product, quantity=1),)
    for _ in range(orders):
        bus.handle(commands.PlaceOrder(customer_id=customer, lines=line), CONTEXT)
    return customer


def renamed(es: Elasticsearch, index: str, customer: uuid.UUID) -> int:
    """How many orders of `customer` carry the changed profile (version 2), made searchable first."""
    es.indices.refresh(index=index)
    query = {"bool": {"filter": [{"term": {"customer.id": str(customer)}}, {"term": {"customer.version": 2}}]}}
    return int(es.count(index=index, query=query)["count"])


def test_a_name_change_reaches_every_order_through_two_kills_mid_fan_out(
    engine: sa.Engine, settings: Settings, es: Elasticsearch, index_prefix: str
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    bus = bootstrap.build_command_bus(engine)
    ada = customer_with_orders(bus, ORDERS)
    first = bootstrap.build_projector(settings)
    try:
        first.projector.prepare()
        first.projector.run_until_caught_up()
    finally:
        first.close()
    orders = f"{index_prefix}orders"
    assert renamed(es, orders, ada) == 0

    bus.handle(commands.UpdateCustomer(customer_id=ada, name="Ada Newname"), CONTEXT)
    env = cli_env(settings, TWOFOLD_PROJECTOR_FAN_OUT_PAGE=str(PAGE), TWOFOLD_PROJECTOR_POLL_INTERVAL="0.1")
    at_kills = []
    for kill in range(KILLS):
        before = renamed(es, orders, ada)
        projector = launcher().start(["project"], env, OUTPUT / f"project-{kill}.log")
        # Killed once it has rewritten a hundred more orders, well before the last of them.
        deadline = time.monotonic() + 60
        while renamed(es, orders, ada) < before + 100:
            assert projector.poll() is None, f"the projector exited; see {OUTPUT}"
            assert time.monotonic() < deadline, "the projector rewrote no orders"
            time.sleep(0.005)
        os.kill(projector.pid, signal.SIGKILL)
        projector.wait()
        at_kills.append(renamed(es, orders, ada))
    assert at_kills[0] < at_kills[1] < ORDERS, f"the kills did not land mid-fan-out: {at_kills} of {ORDERS} renamed"

    survivor = bootstrap.build_projector(settings)
    try:
        survivor.projector.prepare()
        survivor.projector.run_until_caught_up()
    finally:
        survivor.close()
    assert renamed(es, orders, ada) == ORDERS
    found = es.search(index=orders, query={"match": {"customer.name": "Newname"}}, size=0, track_total_hits=True)
    assert found["hits"]["total"]["value"] == ORDERS
    gone = es.search(index=orders, query={"match": {"customer.name": "Oldname"}}, size=0, track_total_hits=True)
    assert gone["hits"]["total"]["value"] == 0

    wrong: dict[str, list[str]] = {}
    with projected_from_scratch(settings, es) as fresh:
        for index in INDEXES:
            survived, rebuilt = sources(es, f"{index_prefix}{index}"), sources(es, f"{fresh}{index}")
            assert len(survived) == len(rebuilt)
            wrong[index] = sorted(
                doc_id for doc_id in survived.keys() | rebuilt.keys() if survived.get(doc_id) != rebuilt.get(doc_id)
            )
    assert all(not ids for ids in wrong.values()), {index: ids[:3] for index, ids in wrong.items() if ids}
