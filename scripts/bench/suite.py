"""`make bench`: every benchmark in one run, then one report: JSON, markdown and charts.

    .venv/bin/python scripts/bench/suite.py [--smoke]

Runs, one after the other (two cores: nothing else runs beside a benchmark), each against its baseline in
the same run:

1. `place_order.py` — `placeOrder` over HTTP vs plain psycopg with the same SQL;
2. `trivial.py` — `{ __typename }` vs a plain Starlette JSON route, one worker each;
3. `lag.py` — commit-to-searchable lag at 200 writes/s;
4. `projector.py` at 10k and 100k events — the projector vs a plain `streaming_bulk` loader;
5. `search.py` at 10k and 100k products — the benchmarks' data set (`dataset.py`: as many orders as
   products, written through the real handlers and projected by all four projections), then `products`
   search through GraphQL vs the direct Elasticsearch request, open loop at 10/s and at 50/s; at 10k,
   each side's capacity too (the highest rate with p99 under 100 ms, stepping the rate up);
   then `sustained.py`: ten minutes of searches and writes at 80% of that capacity, memory and open
   search contexts sampled;
6. `fairness.py` — `{ __typename }` latency alone vs while another client loops the heaviest request the
   cost budget allows;
7. `round_trips.py` — the PostgreSQL and Elasticsearch round trips of one projector round (a count, not
   a timing);
8. `customer_search.py` at 100k customers — `customers` search through GraphQL vs the direct request;
9. `rename.py` — a name change of a customer with 1,000 orders until the last order shows it, vs a
   customer with one order and vs the same rewrite done directly;
10. `relay.py` — the relay's throughput vs a plain confluent-kafka producer sending the same records, and
   commit-to-consumed latency at 200 writes/s;
11. `subscriptions.py` — 1,000 `productUpdated` subscriptions on one API process while 100 writes/s
   commit: commit-to-delivered latency vs commit-to-published, memory per subscription, Elasticsearch
   requests per delivery.

Before and after each step the suite times a fixed loop of pure Python, and it counts the CPU the
hypervisor stole during the step (`machine.py`): the report's table of how fast the machine was.

The full run writes `docs/benchmarks.json`, `docs/benchmarks.md` and `docs/benchmarks/*.png`. `--smoke`
runs every step with tiny sizes, two at a time (each step's output in `test-output/bench-smoke/NAME.log`),
and writes the same report under `test-output/bench-smoke/`: the test suite runs it, so the benchmarks
cannot rot.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from machine import CpuTimes, reference_loop_ms

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

FULL = {
    "place_order": ["--rounds", "3", "--seconds", "15"],
    "trivial": ["--rounds", "3", "--seconds", "10"],
    "lag": ["--rate", "200", "--seconds", "30"],
    "projector_10k": ["--events", "10000", "--rounds", "2"],
    "projector_100k": ["--events", "100000", "--rounds", "1"],
    "search_10k": [
        "--products",
        "10000",
        "--rate",
        "10",
        "--also-rate",
        "50",
        "--seconds",
        "30",
        "--rounds",
        "2",
        "--capacity-step-seconds",
        "10",
    ],
    # After search_10k, whose capacity it runs at 80% of.
    "sustained": ["--products", "10000", "--seconds", "600"],
    "search_100k": ["--products", "100000", "--rate", "10", "--also-rate", "50", "--seconds", "30", "--rounds", "2"],
    "fairness": ["--products", "2000", "--rate", "50", "--seconds", "20", "--rounds", "2"],
    "round_trips": ["--orders", "3", "--backlog", "2000"],
    "customer_search": ["--customers", "100000", "--rate", "20", "--seconds", "30", "--rounds", "2"],
    "rename": ["--orders", "1000", "--rounds", "5"],
    "relay": ["--events", "100000", "--rounds", "3", "--rate", "200", "--seconds", "20"],
    "subscriptions": ["--subscriptions", "1000", "--rate", "100", "--seconds", "30"],
}
# Longest first (search loads a data set through the real handlers and starts a server; place_order seeds
# 700 commands): run two at a time, the two lanes then end together.
SMOKE = {
    "search_100k": ["--products", "400", "--rate", "10", "--also-rate", "20", "--seconds", "1", "--rounds", "1"],
    "search_10k": [
        "--products",
        "200",
        "--rate",
        "10",
        "--seconds",
        "1",
        "--rounds",
        "1",
        "--capacity-step-seconds",
        "0.3",
    ],
    "sustained": [
        "--products",
        "200",
        "--rate",
        "10",
        "--seconds",
        "3",
        "--sample-seconds",
        "0.5",
        "--warm-up-seconds",
        "0",
        "--linger",
        "1",
    ],
    "fairness": ["--products", "200", "--rate", "20", "--seconds", "2", "--rounds", "1"],
    "place_order": ["--rounds", "1", "--seconds", "1"],
    "lag": ["--rate", "50", "--seconds", "2"],
    "trivial": ["--rounds", "1", "--seconds", "1"],
    "projector_100k": ["--events", "600", "--rounds", "1"],
    "projector_10k": ["--events", "300", "--rounds", "1"],
    "round_trips": ["--orders", "2", "--backlog", "600"],
    "customer_search": ["--customers", "300", "--rate", "10", "--seconds", "1", "--rounds", "1"],
    "rename": ["--orders", "20", "--rounds", "1"],
    "relay": ["--events", "300", "--rounds", "1", "--rate", "20", "--seconds", "1"],
    "subscriptions": ["--subscriptions", "20", "--rate", "20", "--seconds", "1"],
}
SCRIPTS = {name: name.split("_1")[0] for name in FULL}  # projector_10k -> projector.py, search_100k -> search.py


def run_all(steps: dict[str, list[str]], output: Path, *, at_once: int = 1) -> dict[str, Any]:
    """Runs every step; `at_once` of them side by side (only for the smoke run, whose figures mean nothing:
    a measured step has the machine to itself). Side by side, each step's output goes to its own log."""
    env = {**os.environ, "TWOFOLD_BENCH_OUTPUT": str(output)}
    output.mkdir(parents=True, exist_ok=True)

    def run(name: str) -> dict[str, Any]:
        script, args = SCRIPTS[name], steps[name]
        extra = ["--name", name] if script in ("projector", "search") else []
        command = [sys.executable, str(HERE / f"{script}.py"), *args, *extra]
        print(f"\n== {name}: {script}.py {' '.join(args + extra)}", flush=True)
        reference = reference_loop_ms()
        started, cpu = time.monotonic(), CpuTimes.now()
        if at_once == 1:
            subprocess.run(command, cwd=ROOT, env=env, check=True)
        else:
            log = output / f"{name}.log"
            with log.open("wb") as out:
                done = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{name} failed with {done.returncode}:\n{log.read_text()[-3000:]}")
        result: dict[str, Any] = json.loads((output / f"{name}.json").read_text())
        result["wall_seconds"] = round(time.monotonic() - started, 1)
        stolen = CpuTimes.now().stolen_percent_since(cpu)
        result["machine"] = {
            "reference_loop_before_ms": reference,
            "reference_loop_after_ms": reference_loop_ms(),
            "cpu_stolen_percent": stolen,
        }
        return result

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        return dict(zip(steps, pool.map(run, steps), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, report under test-output/bench-smoke/")
    args = parser.parse_args()
    output = ROOT / "test-output" / ("bench-smoke" if args.smoke else "bench")
    output.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # The smoke run only shows that every step still runs: two at a time on two cores.
    results = run_all(SMOKE, output, at_once=2) if args.smoke else run_all(FULL, output)
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "smoke" if args.smoke else "full",
        "machine": {"cpus": os.cpu_count()},
        "total_seconds": round(time.monotonic() - started, 1),
        "results": results,
    }
    from report import write_report  # matplotlib loads only once there is something to draw

    where = output if args.smoke else ROOT / "docs"
    written = write_report(report, json_path=where / "benchmarks.json", markdown_path=where / "benchmarks.md",
                           charts=where / "benchmarks")  # fmt: skip
    print(f"\nreport: {', '.join(str(path.relative_to(ROOT)) for path in written)}")
    print(f"total: {report['total_seconds'] / 60:.1f} min")


if __name__ == "__main__":
    main()
