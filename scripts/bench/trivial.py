"""Benchmark: a trivial GraphQL query's throughput against a plain Starlette JSON route with the same answer.

    .venv/bin/python scripts/bench/trivial.py [--seconds 10] [--rounds 3] [--concurrency 8]

- `graphql`: `{ __typename }` posted to `twofold serve`: the whole request path (request id, token check,
  limits, parse and validate caches, execution, error policy, metrics, the request's log line);
- `plain`: `scripts/bench/plain_app.py`, a Starlette route that parses the JSON body and returns
  `{"data": {"__typename": "Query"}, "extensions": {"cost": ...}}`, the same bytes;
- `graphql_2_workers`: `twofold serve --workers 2`, to measure what a second worker buys on two cores
  that the load generator shares.

One uvicorn worker each but the last (httptools, uvloop, no access log), one at a time, closed loop: `--concurrency`
keep-alive connections send as fast as answers come. Rounds alternate. Figures go to
`test-output/bench/trivial.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from _common import OUTPUT, ROOT, KeepAliveClient, distribution, free_port, median, wait_until_up, write_result

BODY = json.dumps({"query": "{ __typename }"}).encode()
ANSWER = b'{"data":{"__typename":"Query"},"extensions":{"cost":{"requested":0,"budget":2000,"remaining":2000}}}'


async def closed_loop(port: int, concurrency: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        client = KeepAliveClient(port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status, answer = await client.post_json("/graphql", BODY)
                if status != 200 or answer.replace(b" ", b"") != ANSWER:
                    raise SystemExit(f"unexpected answer {status}: {answer[:200]!r}")
                latencies.append(time.perf_counter() - started)
        finally:
            client.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def start(side: str, port: int, log_name: str) -> subprocess.Popen[bytes]:
    if side.startswith("graphql"):
        workers = ["--workers", "2"] if side == "graphql_2_workers" else []
        command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *workers]
    else:
        command = [sys.executable, "-m", "uvicorn", "plain_app:app", "--app-dir", str(ROOT / "scripts" / "bench"),
                   "--port", str(port), "--no-access-log", "--log-level", "warning"]  # fmt: skip
    with (OUTPUT / log_name).open("wb") as log:
        return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)


def run(*, seconds: float, rounds: int, concurrency: int) -> dict[str, Any]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    pooled: dict[str, list[float]] = {"plain": [], "graphql": [], "graphql_2_workers": []}
    servers = {side: (free_port(), side) for side in pooled}
    processes = {side: start(side, port, f"trivial_{side}.log") for side, (port, _) in servers.items()}
    try:
        for side, (port, _) in servers.items():
            wait_until_up(f"http://127.0.0.1:{port}/graphql", processes[side], post=BODY)
            asyncio.run(closed_loop(port, concurrency, 1.0))  # warm up
        for _ in range(rounds):
            for side, (port, _) in servers.items():
                latencies = asyncio.run(closed_loop(port, concurrency, seconds))
                pooled[side] += latencies
                rows.append(
                    {"side": side, "requests": len(latencies), "per_second": round(len(latencies) / seconds, 1)}
                )
                print(f"| {side} | {len(latencies) / seconds:,.0f} requests/s |", flush=True)
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    plain = median([row["per_second"] for row in rows if row["side"] == "plain"])
    graphql = median([row["per_second"] for row in rows if row["side"] == "graphql"])
    two = median([row["per_second"] for row in rows if row["side"] == "graphql_2_workers"])
    return {
        "benchmark": "trivial GraphQL query ({ __typename }) vs a plain Starlette JSON route, one worker each",
        "measured_at": datetime.now(UTC).isoformat(),
        "concurrency": concurrency,
        "seconds_per_round": seconds,
        "rounds": rows,
        "plain_per_second": plain,
        "graphql_per_second": graphql,
        "ratio": round(graphql / plain, 3),
        "graphql_2_workers_per_second": two,
        "scaling_2_workers": round(two / graphql, 3),
        "distribution_ms": {side: distribution(values) for side, values in pooled.items()},
        "goal": 0.35,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    result = run(seconds=args.seconds, rounds=args.rounds, concurrency=args.concurrency)
    path = write_result("trivial", result)
    print(
        f"\nmedian: graphql {result['graphql_per_second']:,.0f}/s, plain {result['plain_per_second']:,.0f}/s,"
        f" ratio {result['ratio']:.0%} (goal ≥ 35%); 2 workers {result['graphql_2_workers_per_second']:,.0f}/s,"
        f" {result['scaling_2_workers']:.2f} times one"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
