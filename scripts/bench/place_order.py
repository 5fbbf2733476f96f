"""Benchmark: `placeOrder` through HTTP against plain psycopg doing the same SQL, same run, same concurrency.

    scripts/dev.sh bench-place-order [--seconds 15] [--concurrency 8] [--rounds 2]

Both sides place orders of 3 random lines (out of 500 products) for random customers on a fresh database
of their own, in a closed loop of `concurrency` workers:

- `http`: `twofold serve` (one uvicorn process, as the README runs it), GraphQL `placeOrder` over
  keep-alive HTTP connections; the projector is not running, and neither side indexes.
- `psycopg`: one transaction per order with the SQL the write model runs: read the customer, lock the
  products in id order, update their stock and version, insert the order row and one outbox row per
  event (a reservation per line and the `OrderPlaced`) with the NOTIFY in its RETURNING, commit.

Rounds alternate (psycopg, http, psycopg, http, ...) so drift hits both. The figures go to
`test-output/bench/place_order.json` and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from _common import (
    OUTPUT,
    KeepAliveClient,
    distribution,
    free_port,
    fresh_database,
    median,
    percentile,
    start_serve,
    wait_until_up,
    write_result,
)

from api import bootstrap
from api.auth import Role, mint_token
from api.ids import to_global_id
from api.settings import Settings
from write_model import commands
from write_model.outbox import OUTBOX_CHANNEL, CommandContext

BENCH_SECRET = "bench-secret-0123456789abcdef-0123456789"  # noqa: S105 (a throwaway server of its own)
ADMIN_TOKEN = mint_token(
    BENCH_SECRET, role=Role.ADMIN, subject="bench", ttl=timedelta(hours=6), now=bootstrap.utc_now()
)
PRODUCTS = 500
CUSTOMERS = 200
LINES = 3
PLACE = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { __typename ... on OrderChanged { orderId version consistencyToken } }
}
"""


@dataclass
class Round:
    side: str
    orders: int
    seconds: float
    failures: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each measured round")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each side, alternating")
    args = parser.parse_args()

    with fresh_database() as url:
        products, customers = seed(url)
        rounds = run_rounds(url, products, customers, args)
    report(rounds, args)


def seed(url: str) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Products with plenty of stock and customers, created through the write model itself."""
    engine = bootstrap.create_engine(Settings(database_url=url, elasticsearch_url=os.environ["ELASTICSEARCH_URL"]))
    bus = bootstrap.build_command_bus(engine)
    context = CommandContext(actor="bench", request_id="seed")
    products = [
        bus.handle(
            commands.CreateProduct(
                sku=f"BENCH-{i}",
                name=f"Bench product {i}",
                brand="Bench",
                category="Bench",
                price=f"{random.randint(100, 99_999) / 100:.2f}",
                initial_stock=1_000_000,
            ),
            context,
        ).aggregate_id
        for i in range(PRODUCTS)
    ]
    customers = [
        bus.handle(commands.RegisterCustomer(name=f"Buyer {i}", email=f"buyer{i}@bench.example"), context).aggregate_id
        for i in range(CUSTOMERS)
    ]
    engine.dispose()
    return products, customers


def run_rounds(
    url: str, products: list[uuid.UUID], customers: list[uuid.UUID], args: argparse.Namespace
) -> list[Round]:
    port = free_port()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TWOFOLD_PORT": str(port),
        "TWOFOLD_INDEX_PREFIX": "bench_",
        "TWOFOLD_JWT_SECRET": BENCH_SECRET,
    }
    server = start_serve(env, "place_order_serve.log")
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        # Warm both sides (connection pools, parser caches) before measuring.
        run_psycopg(url, products, customers, args.concurrency, 2.0)
        asyncio.run(run_http(port, products, customers, args.concurrency, 2.0))
        rounds: list[Round] = []
        for _ in range(args.rounds):
            rounds.append(run_psycopg(url, products, customers, args.concurrency, args.seconds))
            rounds.append(asyncio.run(run_http(port, products, customers, args.concurrency, args.seconds)))
        return rounds
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def random_lines(products: list[uuid.UUID], rng: random.Random) -> list[tuple[uuid.UUID, int]]:
    return [(product, rng.randint(1, 3)) for product in rng.sample(products, LINES)]


async def run_http(
    port: int, products: list[uuid.UUID], customers: list[uuid.UUID], concurrency: int, seconds: float
) -> Round:
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def worker(seed: int) -> None:
        nonlocal failures
        rng = random.Random(seed)
        # Placing orders for any customer takes an admin: the bench plays the shop's back office.
        client = KeepAliveClient(port, f"Bearer {ADMIN_TOKEN}")
        try:
            while time.perf_counter() < deadline:
                order = {
                    "customerId": to_global_id("Customer", rng.choice(customers)),
                    "lines": [
                        {"productId": to_global_id("Product", p), "quantity": q} for p, q in random_lines(products, rng)
                    ],
                }
                body = json.dumps({"query": PLACE, "variables": {"input": order}}).encode()
                started = time.perf_counter()
                status, answer = await client.post_json("/graphql", body)
                elapsed = time.perf_counter() - started
                if status == 200 and b'"__typename":"OrderChanged"' in answer:
                    latencies.append(elapsed)
                else:
                    failures += 1
        finally:
            client.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return summarize("http", latencies, failures, time.perf_counter() - started)


def run_psycopg(
    url: str, products: list[uuid.UUID], customers: list[uuid.UUID], concurrency: int, seconds: float
) -> Round:
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(seed: int) -> None:
        nonlocal failures
        rng = random.Random(seed)
        with psycopg.connect(url) as connection:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    place_order_sql(connection, rng.choice(customers), random_lines(products, rng))
                except psycopg.errors.SerializationFailure:
                    connection.rollback()
                    with lock:
                        failures += 1
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summarize("psycopg", latencies, failures, time.perf_counter() - started)


def place_order_sql(connection: psycopg.Connection, customer_id: uuid.UUID, lines: list[tuple[uuid.UUID, int]]) -> None:
    """One order, the way the write model writes it, by hand."""
    now = datetime.now(UTC)
    order_id = uuid.uuid4()
    wanted = dict(lines)
    with connection.transaction():
        name, email = connection.execute("SELECT name, email FROM customers WHERE id = %s", (customer_id,)).fetchone()  # type: ignore[misc]
        rows = connection.execute(
            "SELECT id, sku, name, price, stock, version FROM products WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            (list(wanted),),
        ).fetchall()
        events: list[tuple[str, uuid.UUID, int, str, dict[str, object]]] = []
        order_lines = []
        for product_id, sku, product_name, price, stock, version in rows:
            quantity = wanted[product_id]
            if quantity > stock:
                raise RuntimeError("the benchmark ran out of stock")
            connection.execute(
                "UPDATE products SET stock = %s, version = %s, updated_at = %s WHERE id = %s AND version = %s",
                (stock - quantity, version + 1, now, product_id, version),
            )
            events.append(
                (
                    "Product",
                    product_id,
                    version + 1,
                    "ProductStockReserved",
                    {
                        "schema_version": 1,
                        "product_id": str(product_id),
                        "order_id": str(order_id),
                        "quantity": quantity,
                        "stock": stock - quantity,
                    },
                )
            )
            order_lines.append(
                {
                    "product_id": str(product_id),
                    "sku": sku,
                    "name": product_name,
                    "unit_price": str(price),
                    "quantity": quantity,
                    "line_total": str(price * quantity),
                }
            )
        total = sum((Decimal(line["line_total"]) for line in order_lines), Decimal("0.00"))  # type: ignore[arg-type]
        connection.execute(
            "INSERT INTO orders (id, customer_id, lines, total, status, paid_amount, version, placed_at, updated_at)"
            " VALUES (%s, %s, %s, %s, 'PLACED', NULL, 1, %s, %s)",
            (order_id, customer_id, json.dumps(order_lines), total, now, now),
        )
        events.append(
            (
                "Order",
                order_id,
                1,
                "OrderPlaced",
                {
                    "schema_version": 1,
                    "order_id": str(order_id),
                    "customer_id": str(customer_id),
                    "customer_name": name,
                    "customer_email": email,
                    "lines": order_lines,
                    "total": str(total),
                    "placed_at": now.isoformat(),
                },
            )
        )
        metadata = json.dumps({"actor": "bench", "request_id": str(uuid.uuid4()), "causation_id": None})
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload, metadata,"
                " occurred_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " RETURNING position, transaction_id::text, pg_notify(%s, '')",
                [
                    (kind, id, version, type_, json.dumps(payload), metadata, now, OUTBOX_CHANNEL)
                    for kind, id, version, type_, payload in events
                ],
                returning=True,
            )


# Every round's latencies by side, pooled for the report's distribution chart.
POOLED: dict[str, list[float]] = {"psycopg": [], "http": []}


def summarize(side: str, latencies: list[float], failures: int, seconds: float) -> Round:
    POOLED[side] += latencies
    return Round(side, len(latencies), seconds, failures, median(latencies) * 1000, percentile(latencies, 0.99) * 1000)


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    def best(side: str) -> float:
        return statistics.median(r.per_second for r in rounds if r.side == side)

    http, plain = best("http"), best("psycopg")
    result = {
        "benchmark": "placeOrder over HTTP vs plain psycopg, same SQL",
        "measured_at": datetime.now(UTC).isoformat(),
        "concurrency": args.concurrency,
        "seconds_per_round": args.seconds,
        "lines_per_order": LINES,
        "rounds": [{**asdict(r), "per_second": round(r.per_second, 1)} for r in rounds],
        "http_orders_per_second": round(http, 1),
        "psycopg_orders_per_second": round(plain, 1),
        "ratio": round(http / plain, 3),
        "goal": 0.40,
        "distribution_ms": {side: distribution(values) for side, values in POOLED.items()},
        "machine": {"cpus": os.cpu_count()},
    }
    path = write_result("place_order", result)
    print("| side | orders/s | p50 ms | p99 ms | failures |")
    print("| --- | --- | --- | --- | --- |")
    for r in rounds:
        print(f"| {r.side} | {r.per_second:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.failures} |")
    print(f"\nmedian: http {http:.1f}/s, psycopg {plain:.1f}/s, ratio {http / plain:.0%} (goal ≥ 40%)")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
