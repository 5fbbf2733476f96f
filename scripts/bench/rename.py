"""Benchmark: the time from a customer's name change to the last of their orders showing it.

    scripts/dev.sh bench-rename [--orders 1000] [--rounds 3]

A `twofold project` process tails a fresh database into fresh indexes. One customer holds `--orders`
orders, another a single one, all written through the command bus and indexed before anything is timed.
Each round, one side after the other:

- `fan_out`: the customer with `--orders` orders changes their name through the command bus; the time runs
  from the commit to the first search (one every 10 ms) finding every one of their orders by the new name;
- `one_order`: the same for the customer with one order: what any change takes from commit to searchable
  (the NOTIFY, a projector round, the refresh), the floor the fan-out adds to;
- `direct`: the same orders rewritten by hand in a copy of the orders index, as the fan-out does it but
  with nothing else around: pages of 500 found by the customer's id (`search_after`), each page written
  with one bulk request, then one refresh. Elasticsearch's own share of the work.

Figures go to `test-output/bench/rename.json`.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from _common import OUTPUT, fresh_database, median, start_twofold, write_result
from elasticsearch import Elasticsearch, helpers

from api import bootstrap
from api.settings import Settings
from read_model.indexes import ORDERS
from write_model import commands
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="bench", request_id="rename")
PAGE = 500
POLL_SECONDS = 0.01


def place_orders(bus: CommandBus, orders: int) -> tuple[uuid.UUID, uuid.UUID]:
    """A customer with `orders` orders and one with a single order."""

    def register(name: str) -> uuid.UUID:
        email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        return bus.handle(commands.RegisterCustomer(name=name, email=email), CONTEXT).aggregate_id

    many, single = register("Ada"), register("Bob")
    product = bus.handle(
        commands.CreateProduct(
            sku="BENCH-1", name="Mug", brand="B", category="C", price="2.50", initial_stock=orders + 1
        ),
        CONTEXT,
    ).aggregate_id
    line = (commands.OrderLineRequest(product_id=product, quantity=1),)
    for customer in [many] * orders + [single]:
        bus.handle(commands.PlaceOrder(customer_id=customer, lines=line), CONTEXT)
    return many, single


def showing(es: Elasticsearch, index: str, customer: uuid.UUID, name: str) -> int:
    """How many orders of `customer` a search finds by `name`."""
    query = {"bool": {"filter": [{"term": {"customer.id": str(customer)}}, {"match_phrase": {"customer.name": name}}]}}
    return int(es.count(index=index, query=query)["count"])


def until_showing(es: Elasticsearch, index: str, customer: uuid.UUID, name: str, expected: int) -> None:
    deadline = time.monotonic() + 300
    while showing(es, index, customer, name) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"{expected} orders of {customer} never showed {name!r}")
        time.sleep(POLL_SECONDS)


def change_to_showing(
    bus: CommandBus, es: Elasticsearch, index: str, customer: uuid.UUID, name: str, expected: int
) -> float:
    """Seconds from the commit of the change of `customer`'s name to every order showing it."""
    bus.handle(commands.UpdateCustomer(customer_id=customer, name=name), CONTEXT)
    committed = time.monotonic()
    until_showing(es, index, customer, name, expected)
    return time.monotonic() - committed


def pages(es: Elasticsearch, index: str, customer: uuid.UUID) -> Iterator[list[dict[str, Any]]]:
    """The orders of `customer` in `index`, in id order, a page at a time: each page is read once the one
    before it has been dealt with."""
    after = None
    while True:
        hits = es.search(
            index=index,
            query={"term": {"customer.id": str(customer)}},
            sort=[{"id": "asc"}],
            search_after=after,
            size=PAGE,
            track_total_hits=False,
        )["hits"]["hits"]
        yield hits
        if len(hits) < PAGE:
            return
        after = hits[-1]["sort"]


def rewrite_directly(es: Elasticsearch, index: str, customer: uuid.UUID, name: str) -> float:
    """Seconds to page through `customer`'s orders in `index`, write each page with the new name, then
    refresh: the fan-out's Elasticsearch work, by hand."""
    started = time.monotonic()
    for page in pages(es, index, customer):
        renamed = [{**hit["_source"], "customer": {**hit["_source"]["customer"], "name": name}} for hit in page]
        helpers.bulk(es, ({"_index": index, "_id": doc["id"], "_source": doc} for doc in renamed))
    es.indices.refresh(index=index)
    return time.monotonic() - started


def copy_orders(es: Elasticsearch, alias: str, copy: str, customer: uuid.UUID) -> None:
    """The orders of `customer` copied into a fresh index `copy` of the orders' definition (not timed)."""
    es.indices.create(index=copy, settings=ORDERS.settings, mappings=ORDERS.mappings)
    for page in pages(es, alias, customer):
        helpers.bulk(es, ({"_index": copy, "_id": hit["_id"], "_source": hit["_source"]} for hit in page))
    es.indices.refresh(index=copy)


def measure(url: str, prefix: str, args: argparse.Namespace) -> dict[str, Any]:
    es = Elasticsearch(os.environ["ELASTICSEARCH_URL"], request_timeout=60)
    settings = Settings(database_url=url, elasticsearch_url=os.environ["ELASTICSEARCH_URL"], index_prefix=prefix)
    engine = bootstrap.create_engine(settings)
    bus = bootstrap.build_command_bus(engine)
    alias, copy = f"{prefix}orders", f"{prefix}direct_orders"
    loading = time.monotonic()
    many, single = place_orders(bus, args.orders)
    load_seconds = time.monotonic() - loading
    env = {**os.environ, "DATABASE_URL": url, "TWOFOLD_INDEX_PREFIX": prefix}
    projector = start_twofold("project", env, "rename_project.log")
    try:
        deadline = time.monotonic() + 300
        while not es.indices.exists_alias(name=alias) or showing(es, alias, many, "Ada") < args.orders:
            if projector.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the projector did not index the orders; see {OUTPUT / 'rename_project.log'}")
            time.sleep(0.1)
        copy_orders(es, alias, copy, many)
        sides: dict[str, Callable[[str], float]] = {
            "fan_out": lambda name: change_to_showing(bus, es, alias, many, name, args.orders),
            "one_order": lambda name: change_to_showing(bus, es, alias, single, name, 1),
            "direct": lambda name: rewrite_directly(es, copy, many, name),
        }
        rows = []
        for number in range(args.rounds + 1):  # the first round warms every side up, and is not counted
            for side, run in sides.items():
                seconds = run(f"Renamed{side.replace('_', '')}{number}x")
                print(f"| {'warm-up' if number == 0 else number} | {side} | {seconds * 1000:,.0f} ms |", flush=True)
                if number > 0:
                    rows.append({"round": number, "side": side, "ms": round(seconds * 1000, 1)})
    finally:
        projector.send_signal(signal.SIGTERM)
        projector.wait(timeout=30)
        engine.dispose()
        names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all"))
        if names:
            es.indices.delete(index=",".join(names))
    medians = {f"{side}_ms": median([row["ms"] for row in rows if row["side"] == side]) for side in sides}
    return {
        "benchmark": "a customer's name change: commit to the last of their orders showing it",
        "measured_at": datetime.now(UTC).isoformat(),
        "orders": args.orders,
        "fan_out_page": PAGE,
        "load_seconds": round(load_seconds, 1),
        "rounds": rows,
        **medians,
        "fan_out_over_one_order_ms": round(medians["fan_out_ms"] - medians["one_order_ms"], 1),
        "fan_out_over_direct": round(medians["fan_out_ms"] / medians["direct_ms"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders of the customer whose name changes")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with fresh_database() as url:
        result = measure(url, f"rename{uuid.uuid4().hex[:8]}_", args)
    path = write_result("rename", result)
    print(
        f"\nmedian over {args.rounds} rounds: {result['orders']:,} orders show the new name"
        f" {result['fan_out_ms']:,.0f} ms after the commit; one order {result['one_order_ms']:,.0f} ms;"
        f" the same rewrite by hand {result['direct_ms']:,.0f} ms"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
