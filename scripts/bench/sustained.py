"""Benchmark: a sustained mixed load, to see memory stay flat and search contexts close.

    scripts/dev.sh bench-sustained [--products 10000] [--rate 40] [--seconds 600] [--linger 65]

On the benchmarks' data set (`dataset.py`) one `twofold serve` and one `twofold project` take, open loop at
`--rate` requests a second (80% of the search capacity that `make bench` measured, by default), for
`--seconds`:

- 80%: `products` searches as the search benchmark sends them; one in ten also selects `pageInfo`, so it
  opens a point in time that the server must bound and Elasticsearch must expire;
- 20%: `restockProduct` mutations, which the projector indexes as it goes.

Every `--sample-seconds` it records the API process's resident memory, Elasticsearch's heap, its
caches and segments, and the node's open search contexts; Elasticsearch's heap is also read every second,
and each minute's least reading is that minute's floor. Once the load stops it waits `--linger` seconds (a
point in time's keep-alive is 30 seconds, and the local node frees expired ones every 5) and counts the
open search contexts again.

Memory is called flat when, after a minute of warm-up, the mean of the second half is within 10% of the
first half's: of the API's resident memory samples, and of what Elasticsearch's heap holds. The heap's
samples cannot say what it holds: it saws between young collections by more than it holds (from 80 to
420 MiB within a minute at 16 requests a second), and even the least reading of each minute climbed from
55 to 134 MiB in one run of 2026-12-03: garbage that young collections promote and only a mixed
collection reclaims. So after the warm-up, every `--gc-seconds` and once the load stops, the local node
collects in full and counts what is left (`scripts/services.sh gc elasticsearch`: `jcmd
GC.class_histogram`): what the node holds. The samples' means and the minutes' floors are reported too.
Figures go to `test-output/bench/sustained.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from _common import OUTPUT, ROOT, free_port, fresh_database, percentile, start_twofold, wait_until_up, write_result
from dataset import drop_indexes, load
from elasticsearch import Elasticsearch
from search import QUERY, WORDS

from api import bootstrap
from api.auth import Role, mint_token
from api.ids import to_global_id
from api.seed import BRANDS

SECRET = "sustained-bench-secret-0123456789abcdef"  # noqa: S105 (a throwaway server of its own)
PAGED = QUERY.replace("totalCount", "totalCount pageInfo { hasNextPage endCursor }")
RESTOCK = "mutation($i: RestockProductInput!) { restockProduct(input: $i) { __typename } }"
FLAT = 1.10  # the second half's mean memory over the first half's, at most


def resident_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def elasticsearch_figures(es: Elasticsearch) -> dict[str, int]:
    """The heap used, the caches' sizes, the segments and the open search contexts, summed over the nodes."""
    stats = es.nodes.stats(metric="jvm,indices", index_metric="search,query_cache,request_cache,fielddata,segments")
    nodes = list(stats["nodes"].values())
    return {
        "es_heap_bytes": sum(node["jvm"]["mem"]["heap_used_in_bytes"] for node in nodes),
        "es_query_cache_bytes": sum(node["indices"]["query_cache"]["memory_size_in_bytes"] for node in nodes),
        "es_request_cache_bytes": sum(node["indices"]["request_cache"]["memory_size_in_bytes"] for node in nodes),
        "es_fielddata_bytes": sum(node["indices"]["fielddata"]["memory_size_in_bytes"] for node in nodes),
        "es_segments": sum(node["indices"]["segments"]["count"] for node in nodes),
        "open_contexts": sum(node["indices"]["search"]["open_contexts"] for node in nodes),
    }


def heap_bytes(es: Elasticsearch) -> int:
    stats = es.nodes.stats(metric="jvm")
    return sum(node["jvm"]["mem"]["heap_used_in_bytes"] for node in stats["nodes"].values())


def live_heap_bytes() -> int:
    """The bytes the local node's heap holds after a full collection."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "services.sh"), "gc", "elasticsearch"], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1])


def floors(readings: list[tuple[float, int]], window: float) -> list[dict[str, Any]]:
    """The least reading of each whole `window` of seconds, at the second the window starts."""
    by_window: dict[int, list[int]] = {}
    for second, value in readings:
        by_window.setdefault(int(second // window), []).append(value)
    last = max(by_window, default=-1)
    return [
        {"second": index * window, "es_heap_floor_bytes": min(values)}
        for index, values in sorted(by_window.items())
        if index < last  # the last window is cut short by the end of the load
    ]


async def load_loop(port: int, rate: float, seconds: float, products: list[str], token: str) -> dict[str, Any]:
    rng = random.Random(19)
    latencies: dict[str, list[float]] = {"search": [], "paged_search": [], "restock": []}
    failures: list[str] = []
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as client:
        started = time.perf_counter()

        async def one(index: int) -> None:
            due = started + index / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            draw = rng.random()
            if draw < 0.2:
                kind, body = (
                    "restock",
                    {"query": RESTOCK, "variables": {"i": {"id": rng.choice(products), "quantity": 1}}},
                )
                headers = {"authorization": f"Bearer {token}"}
            else:
                kind = "paged_search" if draw < 0.28 else "search"
                variables = {"q": rng.choice(WORDS), "filter": {"brands": [rng.choice(BRANDS)]}}
                body, headers = {"query": PAGED if kind == "paged_search" else QUERY, "variables": variables}, {}
            try:
                response = await client.post("/graphql", json=body, headers=headers)
                answer = response.json()
                if response.status_code != 200 or "errors" in answer:
                    failures.append(f"{kind}: {response.status_code} {json.dumps(answer)[:200]}")
            except httpx.HTTPError as exc:
                failures.append(f"{kind}: {type(exc).__name__}")
            latencies[kind].append(time.perf_counter() - due)

        await asyncio.gather(*(one(index) for index in range(int(rate * seconds))))
    return {
        "requests": {kind: len(values) for kind, values in latencies.items()},
        "failures": len(failures),
        "first_failures": failures[:5],
        "p50_ms": {kind: round(percentile(values, 0.5) * 1000, 2) for kind, values in latencies.items()},
        "p99_ms": {kind: round(percentile(values, 0.99) * 1000, 2) for kind, values in latencies.items()},
    }


def growth(samples: list[dict[str, Any]], key: str, warm_up: float) -> float:
    """The mean of `key` over the second half of the samples after `warm_up` seconds, over the first
    half's."""
    values = [float(row[key]) for row in samples if row["second"] >= warm_up] or [float(row[key]) for row in samples]
    half = max(1, len(values) // 2)
    first, second = values[:half], values[half:] or values[:half]
    return (sum(second) / len(second)) / (sum(first) / len(first))


def slope_mib_per_minute(samples: list[dict[str, Any]], key: str, warm_up: float) -> float:
    steady = [row for row in samples if row["second"] >= warm_up]
    if len(steady) < 2:
        return 0.0
    fitted = statistics.linear_regression([row["second"] for row in steady], [row[key] for row in steady])
    return round(fitted.slope * 60 / 2**20, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=0.0, help="requests a second (default: 80%% of capacity)")
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--warm-up-seconds", type=float, default=60.0, help="samples left out of the comparison")
    parser.add_argument("--gc-seconds", type=float, default=90.0, help="seconds between full collections")
    parser.add_argument("--linger", type=float, default=65.0, help="seconds after the load to count contexts")
    args = parser.parse_args()
    rate = args.rate or capacity_rate()
    es = Elasticsearch(os.environ["ELASTICSEARCH_URL"], request_timeout=30)
    prefix = f"sustained{uuid.uuid4().hex[:8]}_"
    token = mint_token(SECRET, role=Role.ADMIN, subject="bench", ttl=timedelta(hours=6), now=bootstrap.utc_now())
    with fresh_database() as url:
        try:
            loaded = load(url, prefix, args.products, args.products)
            with psycopg.connect(url) as connection:
                rows = connection.execute("SELECT id FROM products ORDER BY id LIMIT 500").fetchall()
            ids = [to_global_id("Product", row[0]) for row in rows]
            port = free_port()
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "TWOFOLD_INDEX_PREFIX": prefix,
                "TWOFOLD_PORT": str(port),
                "TWOFOLD_JWT_SECRET": SECRET,
            }
            projector = start_twofold("project", env, "sustained_project.log")
            server = start_twofold("serve", env, "sustained_serve.log")
            samples: list[dict[str, Any]] = []
            stop = threading.Event()
            try:
                wait_until_up(f"http://127.0.0.1:{port}/readyz", server)
                contexts_before = elasticsearch_figures(es)["open_contexts"]
                started = time.monotonic()

                def sample() -> None:
                    next_sample = args.sample_seconds
                    while not stop.wait(1.0):
                        second = round(time.monotonic() - started, 1)
                        if second < next_sample:
                            heap_readings.append((second, heap_bytes(es)))
                            continue
                        next_sample += args.sample_seconds
                        figures = elasticsearch_figures(es)
                        heap_readings.append((second, figures["es_heap_bytes"]))
                        samples.append({"second": second, "api_rss_bytes": resident_bytes(server.pid), **figures})

                def collect() -> None:
                    while not stop.wait(args.gc_seconds if live_heap else args.warm_up_seconds):
                        second = round(time.monotonic() - started, 1)
                        live_heap.append({"second": second, "es_live_heap_bytes": live_heap_bytes()})

                heap_readings: list[tuple[float, int]] = []
                live_heap: list[dict[str, Any]] = []
                sampler = threading.Thread(target=sample, daemon=True)
                collector = threading.Thread(target=collect, daemon=True)
                sampler.start()
                collector.start()
                figures = asyncio.run(load_loop(port, rate, args.seconds, ids, token))
                stop.set()
                sampler.join()
                collector.join()
                second = round(time.monotonic() - started, 1)
                live_heap.append({"second": second, "es_live_heap_bytes": live_heap_bytes()})
                time.sleep(args.linger)
                contexts_after = elasticsearch_figures(es)["open_contexts"]
                api_rss_end = resident_bytes(server.pid)
            finally:
                for process in (server, projector):
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)
        finally:
            drop_indexes(prefix)
    api_growth = growth(samples, "api_rss_bytes", args.warm_up_seconds)
    heap_growth = growth(samples, "es_heap_bytes", args.warm_up_seconds)
    heap_floors = floors(heap_readings, 60.0)
    # A run shorter than two minutes has no whole minute after another to compare.
    floor_growth = growth(heap_floors, "es_heap_floor_bytes", args.warm_up_seconds) if len(heap_floors) > 1 else None
    live_growth = growth(live_heap, "es_live_heap_bytes", args.warm_up_seconds)
    result = {
        "benchmark": "a sustained mix of searches and writes: memory and search contexts",
        "measured_at": datetime.now(UTC).isoformat(),
        "products": loaded.products,
        "rate_per_second": rate,
        "seconds": args.seconds,
        **figures,
        "samples": samples,
        "es_heap_floors": heap_floors,
        "es_live_heap": live_heap,
        "api_rss_growth": round(api_growth, 3),
        "es_heap_growth": round(heap_growth, 3),
        "es_heap_floor_growth": None if floor_growth is None else round(floor_growth, 3),
        "es_live_heap_growth": round(live_growth, 3),
        "es_live_heap_mib": [round(row["es_live_heap_bytes"] / 2**20, 1) for row in live_heap],
        "api_rss_slope_mib_per_minute": slope_mib_per_minute(samples, "api_rss_bytes", args.warm_up_seconds),
        "es_heap_slope_mib_per_minute": slope_mib_per_minute(samples, "es_heap_bytes", args.warm_up_seconds),
        "es_heap_floor_slope_mib_per_minute": slope_mib_per_minute(
            heap_floors, "es_heap_floor_bytes", args.warm_up_seconds
        ),
        "es_caches_end_mib": {
            key.removeprefix("es_").removesuffix("_bytes"): round(samples[-1][key] / 2**20, 1)
            for key in ("es_query_cache_bytes", "es_request_cache_bytes", "es_fielddata_bytes")
        }
        if samples
        else {},
        "api_rss_end_mib": round(api_rss_end / 2**20, 1),
        "open_contexts_before": contexts_before,
        "open_contexts_peak": max((row["open_contexts"] for row in samples), default=0),
        "open_contexts_after_linger": contexts_after,
        "linger_seconds": args.linger,
        "memory_flat": api_growth <= FLAT and live_growth <= FLAT,
        "contexts_closed": contexts_after <= contexts_before,
    }
    path = write_result("sustained", result)
    print(
        f"\n{figures['requests']} at {rate:g}/s for {args.seconds:g} s, {figures['failures']} failures;"
        f" API memory {api_growth:.2f} times its first half's, Elasticsearch's heap after a full collection"
        f" {live_growth:.2f} times (flat: at most {FLAT}; the heap's samples {heap_growth:.2f} times, its"
        f" minutes' floors {'not measured' if floor_growth is None else f'{floor_growth:.2f} times'});"
        f" open search contexts {contexts_before} before, peak {result['open_contexts_peak']},"
        f" {contexts_after} after {args.linger:g} s"
    )
    print(f"written to {path}")


def capacity_rate() -> float:
    """80% of the GraphQL search capacity the last `make bench` measured, else 40/s."""
    path = OUTPUT / "search_10k.json"
    if path.exists():
        measured = json.loads(path.read_text()).get("capacity", {}).get("graphql_per_second")
        if measured:
            return round(0.8 * float(measured), 1)
    return 40.0


if __name__ == "__main__":
    main()
