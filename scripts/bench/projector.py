"""Benchmark: the projector's throughput against a plain `streaming_bulk` loader, same documents, same run.

    scripts/dev.sh bench-projector [--events 20000] [--rounds 2]

Both start from the same outbox (`--events` ProductCreated events in a fresh database) and end with every
product document indexed and searchable in a fresh index:

- `loader`: one query over the outbox in commit order, each document built by the products projection,
  `helpers.streaming_bulk` in chunks of 500, one refresh at the end;
- `projector`: the products projection run by the projector from position zero, in batches of 500: read
  below the transaction horizon, fetch the current documents, fold, bulk with external versions, refresh,
  store the checkpoint, publish the status.

Rounds alternate so that drift hits both. Figures go to `test-output/bench/projector.json`.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from _common import fresh_database, median, write_result
from elasticsearch import Elasticsearch, helpers
from psycopg.rows import dict_row

from api import bootstrap
from api._heap import freeze_what_was_built
from api.settings import Settings
from read_model.indexes import PRODUCTS
from read_model.outbox import OutboxRecord
from read_model.projections.products import ProductProjection
from write_model.events import ProductCreated, encode_payload


def seed(url: str, events: int) -> None:
    """`events` products created, written to the outbox directly (COPY): the write model is not measured."""
    now = datetime.now(UTC)
    with (
        psycopg.connect(url) as connection,
        connection.cursor() as cursor,
        cursor.copy(
            "COPY outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload, metadata, occurred_at)"
            " FROM STDIN"
        ) as copy,
    ):
        for i in range(events):
            event = ProductCreated(
                product_id=uuid.uuid4(),
                sku=f"BENCH-{i}",
                name=f"Bench product {i} {('lamp', 'mug', 'kettle', 'chair')[i % 4]}",
                description="A product the benchmark made. " * 4,
                brand=f"Brand {i % 50}",
                category=f"Category {i % 20}",
                tags=(f"tag{i % 7}", f"tag{i % 11}"),
                price=Decimal(i % 10_000) / 100,
                stock=i % 100,
                status="ACTIVE",
                created_at=now,
            )
            payload = psycopg.types.json.Jsonb(encode_payload(event))
            copy.write_row(("Product", event.product_id, 1, "ProductCreated", payload, "{}", now))


def run_loader(url: str, es: Elasticsearch, index: str) -> float:
    started = time.perf_counter()
    es.indices.create(index=index, settings=PRODUCTS.settings, mappings=PRODUCTS.mappings)
    projection = ProductProjection()

    def actions():  # type: ignore[no-untyped-def]
        with psycopg.connect(url, row_factory=dict_row) as connection, connection.cursor(name="outbox") as cursor:
            cursor.execute(
                "SELECT transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id,"
                " aggregate_version, event_type, payload, metadata, occurred_at FROM outbox"
                " ORDER BY transaction_id, position"
            )
            for row in cursor:
                document = projection.apply(None, OutboxRecord(**row))
                yield {"_index": index, "_id": str(row["aggregate_id"]), "_source": document}

    for ok, item in helpers.streaming_bulk(es, actions(), chunk_size=500, raise_on_error=True):
        assert ok, item
    es.indices.refresh(index=index)
    return time.perf_counter() - started


def run_projector(url: str, prefix: str) -> float:
    settings = Settings(
        database_url=url,
        elasticsearch_url=os.environ["ELASTICSEARCH_URL"],
        index_prefix=prefix,
        projector_batch_size=500,
    )
    process = bootstrap.build_projector(settings, [ProductProjection()])
    try:
        started = time.perf_counter()
        process.projector.prepare()
        process.projector.run_until_caught_up()
        return time.perf_counter() - started
    finally:
        process.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--name", default="projector", help="result file name under test-output/bench/")
    args = parser.parse_args()
    es = Elasticsearch(os.environ["ELASTICSEARCH_URL"], request_timeout=60)
    rounds: list[dict[str, object]] = []
    prefixes: list[str] = []
    with fresh_database() as url:
        seed(url, args.events)
        freeze_what_was_built()  # as `twofold project` runs (api/_heap.py), for both sides
        try:
            for _ in range(args.rounds):
                prefix = f"bench{uuid.uuid4().hex[:8]}_"
                prefixes.append(prefix)
                loader = run_loader(url, es, f"{prefix}loader")
                projector = run_projector(url, prefix)
                for side, seconds in (("loader", loader), ("projector", projector)):
                    count = es.count(index=f"{prefix}{'loader' if side == 'loader' else 'products'}")["count"]
                    assert count == args.events, f"{side} indexed {count} of {args.events}"
                    rounds.append(
                        {"side": side, "seconds": round(seconds, 3), "per_second": round(args.events / seconds, 1)}
                    )
                    print(f"| {side} | {args.events / seconds:,.0f} events/s | {seconds:.2f} s |")
        finally:
            for prefix in prefixes:
                names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all"))
                if names:
                    es.indices.delete(index=",".join(names))
    loader_rate = median([r["per_second"] for r in rounds if r["side"] == "loader"])  # type: ignore[misc]
    projector_rate = median([r["per_second"] for r in rounds if r["side"] == "projector"])  # type: ignore[misc]
    path = write_result(
        args.name,
        {
            "benchmark": "projector vs plain streaming_bulk loader, same ProductCreated documents",
            "measured_at": datetime.now(UTC).isoformat(),
            "events": args.events,
            "rounds": rounds,
            "loader_events_per_second": loader_rate,
            "projector_events_per_second": projector_rate,
            "ratio": round(projector_rate / loader_rate, 3),
            "goal": 0.60,
        },
    )
    ratio = projector_rate / loader_rate
    print(f"\nmedian: projector {projector_rate:,.0f}/s, loader {loader_rate:,.0f}/s, ratio {ratio:.0%} (goal ≥ 60%)")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
