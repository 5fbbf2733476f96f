"""The benchmarks' data set: a realistic catalog, customers and orders, the same for the same size and seed.

    .venv/bin/python scripts/bench/dataset.py [--products 100000] [--orders 100000]

The commands are `api.seed.DemoData`'s (brands, materials, categories with their price ranges, orders of 1 to 4
lines moved along their lifecycle), with ids, clock and choices all drawn from one seeded generator. They run
through the real handlers, aggregates and repositories, and land in the outbox like any write, but a
thousand to a transaction: loading is not what is measured, and one transaction per command would take
longer than every benchmark together. Then the projector (all four projections, as `twofold project` runs
them) indexes the whole outbox, and that is measured: events per second at this size.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from _common import fresh_database

from api import bootstrap
from api.seed import DemoData, Seeder
from api.settings import Settings
from read_model.rebuild import Progress
from write_model.adapters.unit_of_work import SqlAlchemyUnitOfWork
from write_model.commands import Command
from write_model.domain import errors
from write_model.outbox import CommandContext
from write_model.results import Outcome

Handler = Callable[[Command, SqlAlchemyUnitOfWork], Outcome]
BATCH = 1000
CONTEXT = CommandContext(actor="bench", request_id="bench-dataset")


class BatchedWriter:
    """Runs commands through the real handlers, `BATCH` to a transaction. A refused command changes nothing
    (the domain checks before it changes), so it is simply left out of its batch."""

    def __init__(self, engine: sa.Engine, handlers: dict[type[Command], Handler]) -> None:
        self._engine = engine
        self._handlers = handlers
        self._uow: SqlAlchemyUnitOfWork | None = None
        self._last: Outcome | None = None
        self._pending = 0

    def __call__(self, command: Command) -> uuid.UUID | None:
        if self._uow is None:
            self._uow = SqlAlchemyUnitOfWork(self._engine, CONTEXT).__enter__()
        try:
            outcome = self._handlers[type(command)](command, self._uow)
        except errors.DomainError:
            return None
        self._last, self._pending = outcome, self._pending + 1
        if self._pending >= BATCH:
            self.flush()
        return outcome.aggregate_id

    def flush(self) -> None:
        if self._uow is not None and self._last is not None:
            self._uow.commit(self._last)
        if self._uow is not None:
            self._uow.__exit__(None, None, None)
        self._uow, self._last, self._pending = None, None, 0


@dataclass(frozen=True)
class Loaded:
    products: int
    customers: int
    orders: int
    events: int
    load_seconds: float
    project_seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.project_seconds

    def summary(self) -> dict[str, float]:
        """What a benchmark's result says of the data set it ran on."""
        return {
            "products": self.products,
            "customers": self.customers,
            "orders": self.orders,
            "events": self.events,
            "load_seconds": round(self.load_seconds, 1),
            "project_seconds": round(self.project_seconds, 1),
            "projected_events_per_second": round(self.events_per_second, 1),
        }


def deterministic(seed: int) -> tuple[Callable[[], datetime], Callable[[], uuid.UUID]]:
    """A clock a second apart per call from 2026-01-01, and ids drawn from one generator."""
    rng = random.Random(seed)
    ticks = iter(range(10**9))
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def clock() -> datetime:
        return start + timedelta(seconds=next(ticks))

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    return clock, new_id


def load(
    url: str,
    prefix: str,
    products: int,
    orders: int,
    *,
    customers: int | None = None,
    seed: int = 7,
    quiet: bool = False,
) -> Loaded:
    """Writes the data set into the database at `url` (a customer for every ten products, unless `customers`
    says how many), then projects it into indexes named `prefix`."""
    settings = Settings(database_url=url, elasticsearch_url=os.environ["ELASTICSEARCH_URL"], index_prefix=prefix)
    engine = bootstrap.create_engine(settings)
    clock, new_id = deterministic(seed)
    writer = BatchedWriter(engine, bootstrap.command_handlers(clock=clock, new_id=new_id))  # type: ignore[arg-type]
    shown: dict[str, float] = {}

    def progress(label: str, figures: Progress) -> None:
        if quiet or (figures.events != figures.total and time.monotonic() - shown.get(label, 0.0) < 10):
            return
        shown[label] = time.monotonic()
        print(f"  {label}: {figures.events:,}/{figures.total:,} ({figures.per_second:,.0f}/s)", flush=True)

    started = time.perf_counter()
    try:
        people = max(1, products // 10) if customers is None else customers
        seeded = Seeder(writer, DemoData(seed)).run(products, people, orders, progress)
        writer.flush()
        with engine.connect() as connection:
            events = connection.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
    finally:
        engine.dispose()
    load_seconds = time.perf_counter() - started

    process = bootstrap.build_projector(settings)
    try:
        started = time.perf_counter()
        process.projector.prepare()
        process.projector.run_until_caught_up()
        project_seconds = time.perf_counter() - started
    finally:
        process.close()
    return Loaded(seeded.products, seeded.customers, seeded.orders, events, load_seconds, project_seconds)


def drop_indexes(prefix: str) -> None:
    from elasticsearch import Elasticsearch

    es = Elasticsearch(os.environ["ELASTICSEARCH_URL"], request_timeout=60)
    names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all"))
    if names:
        es.indices.delete(index=",".join(names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    prefix = f"data{uuid.uuid4().hex[:8]}_"
    with fresh_database() as url:
        try:
            loaded = load(url, prefix, args.products, args.orders)
        finally:
            drop_indexes(prefix)
    print(loaded, f"{loaded.events_per_second:,.0f} events/s projected")


if __name__ == "__main__":
    main()
