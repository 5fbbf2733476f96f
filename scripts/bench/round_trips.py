"""Benchmark: how many round trips to PostgreSQL and Elasticsearch one projector round makes.

    scripts/dev.sh bench-round-trips [--orders 3] [--backlog 2000]

A round applies at most one batch to each of the four projections. The counts are of the real requests:
every statement psycopg sends and every HTTP request the Elasticsearch client sends (a retry counts
again), on the path `twofold project` takes (ask for the lease, run a round, until a round reads nothing),
against a fresh database and fresh indexes. Three cases:

- `steady`: a customer places `--orders` orders (every projection has events to apply), then the
  projector catches up: one round that applies them, one that finds nothing;
- `idle`: nothing new: the round that finds nothing, as the projector makes one after each wake-up;
- `backlog`: `--backlog` products created before the projector starts, read in full batches of 500.

Figures go to `test-output/bench/round_trips.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import elastic_transport
import psycopg
import sqlalchemy as sa
from _common import fresh_database, write_result

from api import bootstrap
from api.settings import Settings
from read_model.checkpoint import ORIGIN
from write_model import commands
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="bench", request_id="round-trips")


class Counter:
    def __init__(self) -> None:
        self.postgres = 0
        self.elasticsearch = 0


@contextlib.contextmanager
def counting() -> Iterator[Counter]:
    """Counts the statements psycopg executes and the HTTP requests Elasticsearch's transport sends."""
    counter = Counter()
    execute, perform = psycopg.Cursor.execute, elastic_transport.Transport.perform_request

    def counted_execute(self: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
        counter.postgres += 1
        return execute(self, *args, **kwargs)

    def counted_perform(self: elastic_transport.Transport, *args: Any, **kwargs: Any) -> Any:
        counter.elasticsearch += 1
        return perform(self, *args, **kwargs)

    psycopg.Cursor.execute = counted_execute  # type: ignore[assignment,method-assign]
    elastic_transport.Transport.perform_request = counted_perform  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        elastic_transport.Transport.perform_request = perform  # type: ignore[method-assign]


def rounds(process: bootstrap.ProjectorProcess) -> list[dict[str, int]]:
    """The loop's catch-up path, a round at a time: what each round read, and cost."""
    measured = []
    while True:
        with counting() as counter:
            assert process.lease.acquire(), "another projector holds the lease"
            # Each projection reports the records of the batch it read; they read the same batch when they stand
            # together, so the round's batch is the largest.
            read = max(result.records for result in process.projector.run_once())
        measured.append({"records": read, "postgres": counter.postgres, "elasticsearch": counter.elasticsearch})
        if read == 0:
            return measured


def place_orders(bus: CommandBus, orders: int) -> None:
    product = bus.handle(
        commands.CreateProduct(
            sku=f"RT-{uuid.uuid4().hex[:8]}",
            name="Round trip mug",
            brand="B",
            category="C",
            price="4.50",
            initial_stock=1000,
        ),
        CONTEXT,
    ).aggregate_id
    customer = bus.handle(
        commands.RegisterCustomer(name="Ada", email=f"ada-{uuid.uuid4().hex[:8]}@example.com"), CONTEXT
    ).aggregate_id
    for _ in range(orders):
        line = commands.OrderLineRequest(product_id=product, quantity=1)
        bus.handle(commands.PlaceOrder(customer_id=customer, lines=(line,)), CONTEXT)


def create_products(bus: CommandBus, count: int) -> None:
    for i in range(count):
        bus.handle(
            commands.CreateProduct(
                sku=f"RB-{i}-{uuid.uuid4().hex[:6]}",
                name=f"Backlog lamp {i}",
                brand="B",
                category="C",
                price="9.99",
                initial_stock=1,
            ),
            CONTEXT,
        )


def readable(process: bootstrap.ProjectorProcess, engine: sa.Engine, seconds: float = 120.0) -> None:
    """Waits until every event written is below the transaction horizon, which is the whole cluster's: a
    transaction open anywhere on it (another benchmark's bulk load, in the smoke run) holds the projector's
    reads back, and a round would then count what reading nothing costs."""
    with engine.connect() as connection:
        written = connection.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
    deadline = time.monotonic() + seconds
    while process.reader.backlog(ORIGIN)[0] < written:
        if time.monotonic() > deadline:
            raise SystemExit(f"the events written were not readable within {seconds:g} s: a transaction is held open")
        time.sleep(0.05)


def case(url: str, write: Callable[[CommandBus], None], *, catch_up_first: bool) -> list[dict[str, int]]:
    prefix = f"rt{uuid.uuid4().hex[:8]}_"
    settings = Settings(database_url=url, elasticsearch_url=os.environ["ELASTICSEARCH_URL"], index_prefix=prefix)
    engine = bootstrap.create_engine(settings)
    process = bootstrap.build_projector(settings)
    try:
        bus = bootstrap.build_command_bus(engine)
        process.projector.prepare()
        if catch_up_first:
            place_orders(bus, 1)
            readable(process, engine)
            rounds(process)
        write(bus)
        readable(process, engine)
        return rounds(process)
    finally:
        names = list(process.client.indices.get(index=f"{prefix}*", expand_wildcards="all"))
        if names:
            process.client.indices.delete(index=",".join(names))
        process.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=3, help="orders placed in the steady case")
    parser.add_argument("--backlog", type=int, default=2000, help="products waiting in the backlog case")
    parser.add_argument("--name", default="round_trips", help="result file name under test-output/bench/")
    args = parser.parse_args()
    with fresh_database() as url:
        steady = case(url, lambda bus: place_orders(bus, args.orders), catch_up_first=True)
    with fresh_database() as url:
        backlog = case(url, lambda bus: create_products(bus, args.backlog), catch_up_first=False)
    cases = {"steady": steady[:-1], "idle": steady[-1:], "backlog": backlog[:-1]}
    print("| case | rounds | records per round | PostgreSQL per round | Elasticsearch per round |")
    print("| --- | --- | --- | --- | --- |")
    summary = {}
    for name, measured in cases.items():
        n = len(measured)
        row = {
            "rounds": n,
            "records_per_round": round(sum(r["records"] for r in measured) / n, 1),
            "postgres_per_round": round(sum(r["postgres"] for r in measured) / n, 1),
            "elasticsearch_per_round": round(sum(r["elasticsearch"] for r in measured) / n, 1),
        }
        summary[name] = {**row, "measured": measured}
        print(
            f"| {name} | {n} | {row['records_per_round']} | {row['postgres_per_round']} |"
            f" {row['elasticsearch_per_round']} |"
        )
    path = write_result(
        args.name,
        {
            "benchmark": "round trips of one projector round, four projections",
            "measured_at": datetime.now(UTC).isoformat(),
            "cases": summary,
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
