"""Benchmark: subscriptions on one API process while writes commit.

    scripts/dev.sh bench-subscriptions [--subscriptions 1000] [--rate 100] [--seconds 30]

A `twofold project` and one `twofold serve` on a fresh database and fresh indexes; as many products as
subscriptions, created through the write model and projected. Then `--subscriptions` `productUpdated`
subscriptions, one product each, over connections of 10 (the default limit per connection), all in this
process's event loop. One open-loop writer restocks the products in turn at `--rate` per second. A
delivery's latency runs from the commit of its write to the arrival of the `next` message that shows its
version.

Baseline, in the same run: a poller reading the published position of the products projection every 10 ms
(what the projector allows at best), giving each write's commit-to-published time.
Also: the server's memory per subscription (its resident set after opening them all, less before, idle,
divided by their number), and the ratio of Elasticsearch requests made for subscriptions
(`twofold_live_reads` in /metrics) to deliveries. Figures go to `test-output/bench/subscriptions.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import websockets
from _common import (
    OUTPUT,
    distribution,
    free_port,
    fresh_database,
    percentile,
    start_twofold,
    wait_until_up,
    write_result,
)
from elasticsearch import Elasticsearch

from api import bootstrap
from api.ids import to_global_id
from api.settings import Settings
from read_model.checkpoint import Checkpoint
from write_model import commands
from write_model.outbox import CommandContext

PER_CONNECTION = 10
SUBSCRIPTION = "subscription($ids: [ID!]!) { productUpdated(ids: $ids) { id version } }"
CONTEXT = CommandContext(actor="bench", request_id="bench")


def resident_kib(pid: int) -> int:
    status = open(f"/proc/{pid}/status").read()  # noqa: SIM115
    return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1])  # type: ignore[index]


def scraped(base: str, name: str, labels: str = "") -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    pattern = re.compile(rf"^{re.escape(name)}(?:_total)?{re.escape(labels)} ([0-9.e+]+)$", re.MULTILINE)
    return sum(float(found) for found in pattern.findall(text))


async def subscribe_all(
    base: str, products: list[str], arrived: dict[tuple[str, int], float]
) -> tuple[list[Any], list[asyncio.Task[None]]]:
    connections = []
    url = base.replace("http://", "ws://") + "/graphql"
    for start in range(0, len(products), PER_CONNECTION):
        ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for offset, product in enumerate(products[start : start + PER_CONNECTION]):
            message = {
                "id": str(offset),
                "type": "subscribe",
                "payload": {"query": SUBSCRIPTION, "variables": {"ids": [product]}},
            }
            await ws.send(json.dumps(message))
        connections.append(ws)

    async def listen(ws: Any) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "next":
                product = message["payload"]["data"]["productUpdated"]
                arrived.setdefault((product["id"], product["version"]), time.monotonic())
            elif message["type"] != "pong":
                raise SystemExit(f"unexpected message: {message}")

    return connections, [asyncio.create_task(listen(ws)) for ws in connections]


def write(
    bus: Any,
    products: dict[str, uuid.UUID],
    rate: float,
    seconds: float,
    committed: dict[tuple[str, int], tuple[float, Checkpoint]],
) -> None:
    """Restocks `products` (global id → UUID) in turn at `rate` per second, recording each write's commit."""
    order = list(products)
    started = time.monotonic()
    for number in range(int(rate * seconds)):
        due = started + number / rate
        time.sleep(max(0.0, due - time.monotonic()))
        product = order[number % len(order)]
        result = bus.handle(commands.RestockProduct(product_id=products[product], quantity=1), CONTEXT)
        position = Checkpoint(result.position.transaction_id, result.position.position)
        committed[(product, result.version)] = (time.monotonic(), position)


def products_published(es: Elasticsearch, prefix: str) -> Checkpoint | None:
    """Where the products projection stands, as its projector last published it (`None`: not yet)."""
    doc = es.options(ignore_status=404).get(index=f"{prefix}projection_status", id=f"{prefix}products")
    return Checkpoint(doc["_source"]["transaction_id"], doc["_source"]["position"]) if doc.get("found") else None


def watch_published(
    es: Elasticsearch, prefix: str, stop: threading.Event, seen: list[tuple[float, Checkpoint]]
) -> None:
    while not stop.is_set():
        position = products_published(es, prefix)
        if position is not None:
            seen.append((time.monotonic(), position))
        stop.wait(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="writes per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    es = Elasticsearch(os.environ["ELASTICSEARCH_URL"], request_timeout=30)
    prefix = f"live{uuid.uuid4().hex[:8]}_"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with fresh_database() as url:
        settings = Settings(database_url=url, elasticsearch_url=os.environ["ELASTICSEARCH_URL"], index_prefix=prefix)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TWOFOLD_INDEX_PREFIX": prefix,
            "TWOFOLD_PORT": str(port),
            "TWOFOLD_WS_MAX_CONNECTIONS": str(args.subscriptions),
        }
        projector = start_twofold("project", env, "subscriptions_project.log")
        server = start_twofold("serve", env, "subscriptions_serve.log")
        engine = bootstrap.create_engine(settings)
        try:
            wait_until_up(f"{base}/readyz", server)
            bus = bootstrap.build_command_bus(engine)
            products: dict[str, uuid.UUID] = {}  # global id → UUID, which commands take
            last = None
            for number in range(args.subscriptions):
                result = bus.handle(
                    commands.CreateProduct(
                        sku=f"LIVE-{number}-{uuid.uuid4().hex[:6]}",
                        name=f"Live {number}",
                        brand="B",
                        category="C",
                        price="1.00",
                        initial_stock=1,
                    ),
                    CONTEXT,
                )
                products[to_global_id("Product", result.aggregate_id)] = result.aggregate_id
                last = result.position
            assert last is not None
            deadline = time.monotonic() + 120
            seeded = Checkpoint(last.transaction_id, last.position)
            while True:  # every product searchable before the measurement
                position = products_published(es, prefix)
                if position is not None and position >= seeded:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("the projector did not catch up with the seed within 120 s")
                time.sleep(0.1)
            result = asyncio.run(measure(args, base, server.pid, bus, products, es, prefix))
        finally:
            for process in (server, projector):
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
            engine.dispose()
            names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all"))
            if names:
                es.indices.delete(index=",".join(names))
    path = write_result("subscriptions", result)
    print(json.dumps({key: value for key, value in result.items() if key != "distribution_ms"}, indent=2))
    print(f"written to {path}")


async def measure(
    args: argparse.Namespace,
    base: str,
    pid: int,
    bus: Any,
    products: dict[str, uuid.UUID],
    es: Elasticsearch,
    prefix: str,
) -> dict[str, Any]:
    arrived: dict[tuple[str, int], float] = {}
    idle_before = resident_kib(pid)
    connections, listeners = await subscribe_all(base, list(products), arrived)
    deadline = time.monotonic() + 60
    while scraped(base, "twofold_ws_subscriptions", '{field="productUpdated"}') < len(products):
        if time.monotonic() > deadline:
            raise SystemExit("the subscriptions did not all start within 60 s")
        await asyncio.sleep(0.1)
    idle_after = resident_kib(pid)
    reads_before = scraped(base, "twofold_live_reads")
    committed: dict[tuple[str, int], tuple[float, Checkpoint]] = {}
    published: list[tuple[float, Checkpoint]] = []
    stop = threading.Event()
    watcher = threading.Thread(target=watch_published, args=(es, prefix, stop, published))
    watcher.start()
    await asyncio.to_thread(write, bus, products, args.rate, args.seconds, committed)
    for _ in range(200):  # up to 10 s for the last deliveries
        if all(key in arrived for key in committed):
            break
        await asyncio.sleep(0.05)
    stop.set()
    watcher.join()
    reads = scraped(base, "twofold_live_reads") - reads_before
    for task in listeners:
        task.cancel()
    for ws in connections:
        await ws.close()
    latencies = [arrived[key] - at for key, (at, _) in committed.items() if key in arrived]
    baseline = []
    for at, position in committed.values():
        shown = next((when for when, stood in published if stood >= position and when >= at), None)
        if shown is not None:
            baseline.append(shown - at)
    deliveries = len([key for key in arrived if key in committed])
    return {
        "benchmark": "subscriptions: commit-to-delivered on one API process",
        "measured_at": datetime.now(UTC).isoformat(),
        "subscriptions": len(products),
        "connections": len(connections),
        "target_rate": args.rate,
        "seconds": args.seconds,
        "writes": len(committed),
        "delivered": deliveries,
        "never_delivered": len(committed) - deliveries,
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 1),
            "p90": round(percentile(latencies, 0.90) * 1000, 1),
            "p99": round(percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies, default=0.0) * 1000, 1),
        },
        "baseline_commit_to_published_ms": {
            "p50": round(percentile(baseline, 0.50) * 1000, 1),
            "p99": round(percentile(baseline, 0.99) * 1000, 1),
        },
        "goal_ms": {"p50": 250, "p99": 750},
        "memory_kib_per_subscription": round((idle_after - idle_before) / len(products), 1),
        "elasticsearch_requests": int(reads),
        "elasticsearch_requests_per_delivery": round(reads / max(deliveries, 1), 3),
        "distribution_ms": distribution(latencies),
    }


if __name__ == "__main__":
    main()
