"""Benchmark: a trivial query's latency while another client sends the heaviest request the budget allows,
in a loop, against the same query's latency alone, in the same run.

    scripts/dev.sh bench-fairness [--products 2000] [--rate 50] [--seconds 20] [--rounds 2]

A fresh database holds `--products` products (and as many orders), indexed by the projector. One
`twofold serve` process answers both clients:

- `trivial`: `{ __typename }`, open loop at `--rate` per second (a request's latency runs from its scheduled
  start, so queueing counts);
- `heavy`: one connection, closed loop, sending two aliased product searches with every field, highlights
  and facets, pages as large as fit together in the request's cost budget (docs/security.md), each for
  another word of the catalog.

Each round measures `trivial` alone (`alone`), then with `heavy` running (`loaded`). Goal: the loaded p99
under 50 ms. Figures go to `test-output/bench/fairness.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import time
import uuid
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as EventType
from typing import Any

import httpx
from _common import (
    KeepAliveClient,
    collector_paused,
    distribution,
    free_port,
    fresh_database,
    latency_row,
    side_median,
    start_serve,
    wait_until_up,
    write_result,
)
from dataset import drop_indexes, load
from graphql import parse
from search import WORDS

from api.cost import Paging, operation_cost
from api.schema import build_schema
from api.settings import Settings

TRIVIAL = json.dumps({"query": "{ __typename }"}).encode()
SEARCH = """
  %s: products(query: $%s, first: %d) {
    totalCount
    edges { cursor node { id sku name description brand category tags price stock status createdAt updatedAt }
            highlights { field snippets } }
    facets { brands { value count selected } categories { value count selected } tags { value count selected }
             priceRanges { from to count } }
  }"""
GOAL_MS = 50.0


def heaviest(settings: Settings) -> tuple[str, int, int]:
    """The two-search query with the largest pages whose cost fits the budget: (query, page size, cost)."""
    schema = build_schema(settings)._schema
    paging = Paging(default=settings.default_page_size, maximum=settings.max_page_size)
    for size in range(settings.max_page_size, 0, -1):
        query = "query($a: String, $b: String) {" + SEARCH % ("a", "a", size) + SEARCH % ("b", "b", size) + "\n}"
        cost = operation_cost(schema, parse(query), None, {"a": "x", "b": "y"}, paging)
        if cost is not None and cost <= settings.max_cost:
            return query, size, cost
    raise SystemExit("no two searches fit the budget")


async def trivial_open_loop(port: int, rate: float, seconds: float) -> list[float]:
    latencies: list[float] = []
    clients = [KeepAliveClient(port) for _ in range(16)]

    async def one(index: int) -> None:
        due = started + index / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        client = clients[index % len(clients)]
        async with locks[index % len(clients)]:
            status, answer = await client.post_json("/graphql", TRIVIAL)
        if status != 200 or b'"Query"' not in answer:
            raise SystemExit(f"unexpected answer {status}: {answer[:200]!r}")
        latencies.append(time.perf_counter() - due)

    locks = [asyncio.Lock() for _ in clients]
    try:
        with collector_paused():
            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(int(rate * seconds))))
    finally:
        for client in clients:
            client.close()
    return latencies


def heavy_loop(port: int, query: str, stop: EventType, sent: Queue[float]) -> None:
    """The heavy client, in a process of its own: decoding its large answers must not delay the trivial
    client's clock."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        turn = 0
        while not stop.is_set():
            variables = {"a": WORDS[turn % len(WORDS)], "b": WORDS[(turn + 1) % len(WORDS)]}
            started = time.perf_counter()
            response = client.post("/graphql", json={"query": query, "variables": variables})
            body = response.json()
            if response.status_code != 200 or "errors" in body:
                raise SystemExit(f"the heavy request failed: {response.status_code} {str(body)[:300]}")
            sent.put(time.perf_counter() - started)
            turn += 1


def loaded(port: int, query: str, rate: float, seconds: float) -> tuple[list[float], list[float]]:
    context = multiprocessing.get_context("spawn")
    stop, sent = context.Event(), context.Queue()
    heavy = context.Process(target=heavy_loop, args=(port, query, stop, sent))
    heavy.start()
    try:
        sent.get(timeout=60)  # the heavy client is in its stride before the trivial one starts
        latencies = asyncio.run(trivial_open_loop(port, rate, seconds))
    finally:
        stop.set()
        heavy.join(timeout=60)
    if heavy.exitcode != 0:
        raise SystemExit("the heavy client failed")
    heavy_latencies = []
    while not sent.empty():
        heavy_latencies.append(sent.get())
    return latencies, heavy_latencies


def measure(url: str, prefix: str, *, rate: float, seconds: float, rounds: int) -> dict[str, Any]:
    settings = Settings.from_env({**os.environ, "DATABASE_URL": url, "TWOFOLD_INDEX_PREFIX": prefix})
    query, size, cost = heaviest(settings)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "TWOFOLD_INDEX_PREFIX": prefix, "TWOFOLD_PORT": str(port)}
    server = start_serve(env, "fairness_serve.log")
    rows: list[dict[str, Any]] = []
    pooled: dict[str, list[float]] = {"alone": [], "loaded": [], "heavy": []}
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        loaded(port, query, rate, min(seconds, 3.0))  # warm up: caches, points in time, JIT in ES
        for _ in range(rounds):
            alone = asyncio.run(trivial_open_loop(port, rate, seconds))
            under_load, heavy = loaded(port, query, rate, seconds)
            for side, latencies in (("alone", alone), ("loaded", under_load), ("heavy", heavy)):
                pooled[side] += latencies
                row = latency_row(side, latencies)
                rows.append(row)
                print(f"| {side} | {row['requests']} | {row['p50_ms']} ms | {row['p99_ms']} ms |", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    return {
        "benchmark": "{ __typename } latency while one client loops the heaviest request the budget allows",
        "measured_at": datetime.now(UTC).isoformat(),
        "rate_per_second": rate,
        "seconds_per_round": seconds,
        "budget": settings.max_cost,
        "heavy_request": {"searches": 2, "page_size": size, "cost": cost},
        "heavy_per_second": round(len(pooled["heavy"]) / (rounds * seconds), 2) if rounds else 0.0,
        "rounds": rows,
        "alone_p50_ms": side_median(rows, "alone", "p50_ms"),
        "alone_p99_ms": side_median(rows, "alone", "p99_ms"),
        "loaded_p50_ms": side_median(rows, "loaded", "p50_ms"),
        "loaded_p99_ms": side_median(rows, "loaded", "p99_ms"),
        "heavy_p50_ms": side_median(rows, "heavy", "p50_ms"),
        "distribution_ms": {name: distribution(values) for name, values in pooled.items()},
        "goal": f"loaded p99 < {GOAL_MS:g} ms",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    prefix = f"fair{uuid.uuid4().hex[:8]}_"
    with fresh_database() as url:
        try:
            loaded_set = load(url, prefix, args.products, args.products)
            result = measure(url, prefix, rate=args.rate, seconds=args.seconds, rounds=args.rounds)
        finally:
            drop_indexes(prefix)
    result["products"] = loaded_set.products
    path = write_result("fairness", result)
    print(
        f"\nmedian: trivial alone p99 {result['alone_p99_ms']} ms, while the heaviest request loops"
        f" p99 {result['loaded_p99_ms']} ms (goal < {GOAL_MS:g} ms); heavy request"
        f" {result['heavy_request']['cost']} of {result['budget']}, {result['heavy_per_second']}/s"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
