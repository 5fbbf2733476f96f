"""Benchmark: commit-to-searchable lag at a fixed write rate.

    scripts/dev.sh bench-lag [--rate 200] [--seconds 30]

A `twofold project` process tails a fresh database into fresh indexes (refresh_interval 1 s, the
default); once one warm-up write is searchable, one open-loop writer creates products through the write
model at `--rate` per second on a fixed schedule. A poller searches (a search, not a GET, so only what is
searchable counts) every 20 ms for the SKUs written and not yet found. A product's lag runs from the
moment its transaction committed to the first search that found it. Figures go to `test-output/bench/lag.json`.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
import uuid
from datetime import UTC, datetime

from _common import OUTPUT, distribution, fresh_database, percentile, start_twofold, write_result
from elasticsearch import Elasticsearch

from api import bootstrap
from api.settings import Settings
from write_model import commands
from write_model.outbox import CommandContext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="writes per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    es = Elasticsearch(os.environ["ELASTICSEARCH_URL"], request_timeout=30)
    prefix = f"lag{uuid.uuid4().hex[:8]}_"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with fresh_database() as url:
        settings = Settings(database_url=url, elasticsearch_url=os.environ["ELASTICSEARCH_URL"], index_prefix=prefix)
        env = {**os.environ, "DATABASE_URL": url, "TWOFOLD_INDEX_PREFIX": prefix}
        projector = start_twofold("project", env, "lag_project.log")
        engine = bootstrap.create_engine(settings)
        try:
            # Measure the running projector, not its start: wait until it has made its indexes.
            deadline = time.monotonic() + 60
            while not es.indices.exists_alias(name=f"{prefix}products"):
                if projector.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the projector did not start; see {OUTPUT / 'lag_project.log'}")
                time.sleep(0.1)
            bus = bootstrap.build_command_bus(engine)
            warm_up(bus, es, prefix)
            committed, found, late = measure(bus, es, prefix, args)
        finally:
            projector.send_signal(signal.SIGTERM)
            projector.wait(timeout=30)
            engine.dispose()
            names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all"))
            if names:
                es.indices.delete(index=",".join(names))
    lags = [found[sku] - committed[sku] for sku in committed if sku in found]
    missing = len(committed) - len(lags)
    result = {
        "benchmark": "commit-to-searchable lag, checked by search",
        "measured_at": datetime.now(UTC).isoformat(),
        "target_rate": args.rate,
        "seconds": args.seconds,
        "writes": len(committed),
        "writes_started_late_ms_p99": round(percentile(late, 0.99) * 1000, 1),
        "never_found": missing,
        "lag_ms": {
            "p50": round(percentile(lags, 0.50) * 1000, 1),
            "p90": round(percentile(lags, 0.90) * 1000, 1),
            "p99": round(percentile(lags, 0.99) * 1000, 1),
            "max": round(max(lags, default=0.0) * 1000, 1),
        },
        "goal_ms": {"p50": 700, "p99": 1500},
        "distribution_ms": distribution(lags),
    }
    path = write_result("lag", result)
    lag: dict[str, float] = result["lag_ms"]  # type: ignore[assignment]
    print(
        f"{len(committed)} writes at {args.rate:g}/s: lag p50 {lag['p50']} ms, p90 {lag['p90']} ms,"
        f" p99 {lag['p99']} ms, max {lag['max']} ms; never found: {missing} (goals p50 ≤ 700 ms, p99 ≤ 1500 ms)"
    )
    print(f"written to {path}")


def warm_up(bus: object, es: Elasticsearch, prefix: str) -> None:
    """One write through the whole path before the timed ones: the projector's first rounds into a new index
    (its first bulk, its first refresh) took about a second, and measuring them timed the start, not the
    steady state at the rate."""
    sku = f"WARM-{uuid.uuid4().hex[:8]}"
    command = commands.CreateProduct(sku=sku, name="Warm", brand="B", category="C", price="1.00")
    bus.handle(command, CommandContext(actor="bench", request_id="warm"))  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while not es.search(index=f"{prefix}products", query={"term": {"sku": sku}}, size=1)["hits"]["hits"]:
        if time.monotonic() > deadline:
            raise SystemExit("the warm-up write never became searchable")
        time.sleep(0.05)


def measure(
    bus: object, es: Elasticsearch, prefix: str, args: argparse.Namespace
) -> tuple[dict[str, float], dict[str, float], list[float]]:
    committed: dict[str, float] = {}
    found: dict[str, float] = {}
    late: list[float] = []
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()

    def write() -> None:
        context = CommandContext(actor="bench", request_id="lag")
        started = time.monotonic()
        count = int(args.rate * args.seconds)
        for i in range(count):
            due = started + i / args.rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            else:
                late.append(now - due)
            sku = f"LAG-{i}-{uuid.uuid4().hex[:6]}"
            command = commands.CreateProduct(sku=sku, name=f"Lag {i}", brand="B", category="C", price="1.00")
            bus.handle(command, context)  # type: ignore[attr-defined]
            with lock:
                committed[sku] = time.monotonic()
        writing.clear()

    def poll() -> None:
        deadline = None
        while True:
            with lock:
                pending = [sku for sku in committed if sku not in found]
            if not writing.is_set():
                deadline = deadline or time.monotonic() + 10
                if not pending or time.monotonic() > deadline:
                    return
            for start in range(0, len(pending), 1000):
                chunk = pending[start : start + 1000]
                try:
                    hits = es.search(
                        index=f"{prefix}products", size=len(chunk), query={"terms": {"sku": chunk}}, source=["sku"]
                    )["hits"]["hits"]
                except Exception:  # noqa: S112 - the index may not exist yet at the very start
                    continue
                now = time.monotonic()
                for hit in hits:
                    found.setdefault(hit["_source"]["sku"], now)
            time.sleep(0.02)

    threads = [threading.Thread(target=write), threading.Thread(target=poll)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return committed, found, late


if __name__ == "__main__":
    main()
