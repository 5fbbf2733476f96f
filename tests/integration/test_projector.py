"""The projector on real PostgreSQL and Elasticsearch."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch
from psycopg.types.json import Jsonb

from api import bootstrap
from api.settings import Settings
from read_model.adapters.elasticsearch_progress import ElasticsearchPublishedProgress
from read_model.adapters.postgres_outbox import PostgresOutboxReader
from read_model.checkpoint import Checkpoint
from read_model.consistency import ConsistencyWaiter
from read_model.errors import ConsistencyTimeout
from read_model.indexes import IndexNames
from tests.factories import product_created
from write_model.bus import CommandBus
from write_model.commands import CreateProduct
from write_model.events import encode_payload
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="corr")


def insert_created_event(connection: psycopg.Connection[Any], sku: str) -> uuid.UUID:
    """Records a ProductCreated event the way a writer does, in the connection's current transaction."""
    event = product_created(sku)
    product_id = event.product_id
    connection.execute(
        "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload, metadata,"
        " occurred_at) VALUES ('Product', %s, 1, 'ProductCreated', %s, '{}', now())",
        (product_id, Jsonb(encode_payload(event))),
    )
    return product_id


def indexed(es: Elasticsearch, prefix: str, product_id: uuid.UUID) -> bool:
    return bool(es.exists(index=f"{prefix}products", id=str(product_id)))


def all_sources(es: Elasticsearch, prefix: str) -> dict[str, tuple[int, dict[str, Any]]]:
    response = es.search(index=f"{prefix}products", size=1000, version=True, query={"match_all": {}})
    return {hit["_id"]: (hit["_version"], hit["_source"]) for hit in response["hits"]["hits"]}


def test_an_event_committed_late_by_a_held_transaction_is_not_skipped(
    projector: bootstrap.ProjectorProcess, database_url: str, es: Elasticsearch, index_prefix: str
) -> None:
    projector.projector.run_until_caught_up()
    with psycopg.connect(database_url) as held, psycopg.connect(database_url, autocommit=True) as other:
        early = insert_created_event(held, "EARLY")  # takes the earlier position and transaction id; stays open
        late = insert_created_event(other, "LATE")  # commits at once, after the held one began
        projector.projector.run_until_caught_up()
        assert not indexed(es, index_prefix, late), "the projector passed a transaction that is still open"
        assert not indexed(es, index_prefix, early)
        held.commit()
    projector.projector.run_until_caught_up()
    assert indexed(es, index_prefix, early)
    assert indexed(es, index_prefix, late)


def test_products_are_indexed_and_a_full_replay_changes_nothing(
    projector: bootstrap.ProjectorProcess,
    bus: CommandBus,
    database_url: str,
    es: Elasticsearch,
    index_prefix: str,
) -> None:
    created = [
        bus.handle(
            CreateProduct(
                sku=f"R-{uuid.uuid4().hex[:8]}", name=f"Lamp {i}", brand="Lux", category="Home", price=f"{i}.99"
            ),
            CONTEXT,
        )
        for i in range(5)
    ]
    projector.projector.run_until_caught_up()
    first_pass = all_sources(es, index_prefix)
    for changed in created:
        version, source = first_pass[str(changed.aggregate_id)]
        assert version == 1
        assert source["version"] == 1
    assert first_pass[str(created[3].aggregate_id)][1]["price"] == "3.99"
    assert first_pass[str(created[3].aggregate_id)][1]["price_cents"] == 399

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM projection_checkpoints WHERE name = %s", (f"{index_prefix}products",))
    projector.projector.run_until_caught_up()
    projector.projector.run_until_caught_up()
    assert all_sources(es, index_prefix) == first_pass


def test_reading_your_writes_waits_for_the_projector_and_times_out_when_it_does_not_come(
    projector: bootstrap.ProjectorProcess, bus: CommandBus, settings: Settings
) -> None:
    changed = bus.handle(
        CreateProduct(sku=f"W-{uuid.uuid4().hex[:8]}", name="W", brand="B", category="C", price="1"), CONTEXT
    )
    target = Checkpoint(changed.position.transaction_id, changed.position.position)

    async def wait(limit_seconds: float) -> None:
        async with AsyncElasticsearch(settings.elasticsearch_url) as client:
            progress = ElasticsearchPublishedProgress(client, IndexNames(settings.index_prefix))
            await ConsistencyWaiter(progress, limit_seconds).wait("products", target)

    with pytest.raises(ConsistencyTimeout):
        asyncio.run(wait(0.3))
    projector.projector.run_until_caught_up()
    asyncio.run(wait(0.3))


def test_a_batch_is_bounded_by_bytes_as_well_as_by_count(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        start = connection.execute(
            "SELECT transaction_id::text::bigint, position FROM outbox ORDER BY transaction_id DESC, position DESC"
            " LIMIT 1"
        ).fetchone()
        for index in range(6):
            event = product_created(f"BIG-{uuid.uuid4().hex[:8]}")
            payload = {**encode_payload(event), "description": f"{index}" + uuid.uuid4().hex * 300}  # ~10 KB
            connection.execute(
                "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload, metadata,"
                " occurred_at) VALUES ('Product', %s, 1, 'ProductCreated', %s, '{}', now())",
                (event.product_id, Jsonb(payload)),
            )
    after = Checkpoint(*start) if start else Checkpoint(0, 0)
    small = PostgresOutboxReader(database_url, max_batch_bytes=25_000)
    tiny = PostgresOutboxReader(database_url, max_batch_bytes=1)
    try:
        assert len(small.read_after(after, 100)) == 3  # the third starts below the bound and ends above it
        assert len(tiny.read_after(after, 100)) == 1  # never less than one, however large
        assert len(small.read_after(after, 2)) == 2
    finally:
        small.close()
        tiny.close()
