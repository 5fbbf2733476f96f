"""Every projection on real services, with writers committing out of order while the projector runs."""

from __future__ import annotations

import random
import threading
import time
from decimal import Decimal
from typing import Any

import psycopg
import sqlalchemy as sa
from elasticsearch import Elasticsearch

from api import bootstrap
from tests.conftest import own_database
from tests.integration._chaos import record
from tests.integration._shop import write_a_shop
from write_model.adapters.unit_of_work import SqlAlchemyUnitOfWork
from write_model.bus import CommandBus

INDEXES = ("products", "customers", "orders", "events")
DELAYED_COMMITS = [0]  # how many commits were held open, for the chaos summary


class DelayedCommitUnitOfWork(SqlAlchemyUnitOfWork):
    """Holds its transaction open for a random moment after writing its outbox rows, so that transactions
    commit in another order than the one their positions were taken in."""

    def _commit_transaction(self) -> None:
        DELAYED_COMMITS[0] += 1
        time.sleep(random.uniform(0, 0.03))
        super()._commit_transaction()


# A database of each test's own: the tests compare every row of it with every indexed document, so
# another test's rows (or its deliberately broken outbox events) must not be there.
database_url = own_database()


def delayed_bus(engine: sa.Engine) -> CommandBus:
    return CommandBus(lambda context: DelayedCommitUnitOfWork(engine, context), bootstrap.command_handlers())


def sources(es: Elasticsearch, prefix: str, index: str) -> dict[str, tuple[int, dict[str, Any]]]:
    es.indices.refresh(index=f"{prefix}{index}")
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    response = es.search(index=f"{prefix}{index}", size=10_000, version=True, query={"match_all": {}})
    for hit in response["hits"]["hits"]:
        found[hit["_id"]] = (hit["_version"], hit["_source"])
    return found


def test_concurrent_writers_committing_out_of_order_lose_nothing(
    engine: sa.Engine, projector: bootstrap.ProjectorProcess, database_url: str, es: Elasticsearch, index_prefix: str
) -> None:
    stop = threading.Event()
    running = threading.Thread(target=projector.projector.run_forever, args=(stop,))
    running.start()
    try:
        write_a_shop(delayed_bus(engine))
    finally:
        stop.set()
        running.join()
    projector.projector.run_until_caught_up()

    with psycopg.connect(database_url) as connection:
        product_versions = dict(connection.execute("SELECT id::text, version FROM products").fetchall())
        order_versions = dict(connection.execute("SELECT id::text, version FROM orders").fetchall())
        stats = {
            customer: (count, total)
            for customer, count, total in connection.execute(
                "SELECT c.id::text, count(o.id) FILTER (WHERE o.status <> 'CANCELLED'),"
                " coalesce(sum(o.paid_amount) FILTER (WHERE o.status <> 'CANCELLED'), 0)"
                " FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id"
            ).fetchall()
        }
        events = connection.execute("SELECT count(*) FROM outbox").fetchone()[0]  # type: ignore[index]

    record(
        "concurrent writers committing out of order under a running projector",
        faults="delayed commit",
        injected=DELAYED_COMMITS[0],
        events_written=events,
        events_lost=events - len(sources(es, index_prefix, "events")),
    )
    indexed_products = sources(es, index_prefix, "products")
    assert {id: source["version"] for id, (_, source) in indexed_products.items()} == product_versions
    indexed_orders = sources(es, index_prefix, "orders")
    assert {id: source["version"] for id, (_, source) in indexed_orders.items()} == order_versions
    indexed_customers = sources(es, index_prefix, "customers")
    assert {
        id: (source["order_count"], Decimal(source["lifetime_value"])) for id, (_, source) in indexed_customers.items()
    } == stats
    assert len(sources(es, index_prefix, "events")) == events


def test_replaying_the_whole_outbox_twice_changes_no_document(
    engine: sa.Engine, projector: bootstrap.ProjectorProcess, database_url: str, es: Elasticsearch, index_prefix: str
) -> None:
    write_a_shop(bootstrap.build_command_bus(engine), writers=3, steps=10)
    projector.projector.run_until_caught_up()
    clean = {index: sources(es, index_prefix, index) for index in INDEXES}
    assert all(clean.values())

    for _ in range(2):
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute("DELETE FROM projection_checkpoints WHERE name LIKE %s", (f"{index_prefix}%",))
        projector.projector.run_until_caught_up()
    # The same sources, and the same Elasticsearch versions: nothing was even rewritten.
    assert {index: sources(es, index_prefix, index) for index in INDEXES} == clean
