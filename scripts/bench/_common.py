"""What the benchmarks share: a fresh database of their own, results written where the README says."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx
import orjson

from api.migrate import scratch_database
from api.settings import local_service_urls

# The services the benchmarks run against: DATABASE_URL and ELASTICSEARCH_URL, else the local ones that
# `make setup` starts. Set here, so that every process a benchmark starts uses the same ones.
for _name, _url in local_service_urls(os.environ).items():
    if not os.environ.get(_name, "").strip():
        os.environ[_name] = _url

W = TypeVar("W")
ROOT = Path(__file__).resolve().parents[2]
# TWOFOLD_BENCH_OUTPUT moves the results elsewhere (the smoke run in the test suite uses its own folder).
OUTPUT = Path(os.environ.get("TWOFOLD_BENCH_OUTPUT") or ROOT / "test-output" / "bench")


def fresh_database() -> contextlib.AbstractContextManager[str]:
    """A new database migrated to head on the server DATABASE_URL names, dropped afterwards."""
    return scratch_database(os.environ["DATABASE_URL"], "twofold_bench")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


# The quantiles a latency distribution is kept at, for the report's charts.
QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)


def distribution(seconds: list[float]) -> list[tuple[float, float]]:
    """(quantile, milliseconds) at `QUANTILES`, of latencies given in seconds."""
    return [(quantile, round(percentile(seconds, quantile) * 1000, 3)) for quantile in QUANTILES]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def latency_row(side: str, latencies: list[float]) -> dict[str, Any]:
    """One round of one side: how many requests, and their p50 and p99 in milliseconds."""
    return {
        "side": side,
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


def side_median(rows: list[dict[str, Any]], side: str, key: str) -> float:
    """The median over the rounds of `side` of the figure `key`."""
    return median([float(row[key]) for row in rows if row["side"] == side])


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in the load generator while a timed round runs: one before, one after.

    A round of a few thousand requests holds tens of thousands of objects at once (a task per request,
    started together), and a full collection over them stopped the load generator for 90 to 100 ms, which
    counted as the latency of whichever side happened to be running (2026-12-03)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def alternate(
    rounds: int,
    work_of: Callable[[int], W],
    sides: Mapping[str, Callable[[W], list[float]]],
    *,
    warm_up: W,
) -> dict[str, Any]:
    """Warms every side up with `warm_up`, then runs `rounds` rounds in which each side, in turn, serves the
    round's work (`work_of(round number)`): drift in the machine hits every side alike. Prints each round's
    figures; returns the rows, each side's median p50 and p99 over the rounds (`<side>_p50_ms`, …) and the
    distribution of all its latencies."""
    for run in sides.values():
        run(warm_up)
    rows: list[dict[str, Any]] = []
    pooled: dict[str, list[float]] = {side: [] for side in sides}
    for number in range(rounds):
        work = work_of(number + 1)
        for side, run in sides.items():
            latencies = run(work)
            pooled[side] += latencies
            row = latency_row(side, latencies)
            rows.append(row)
            print(f"| {side} | {row['p50_ms']} ms | {row['p99_ms']} ms |", flush=True)
    medians = {f"{side}_{figure}": side_median(rows, side, figure) for side in sides for figure in ("p50_ms", "p99_ms")}
    return {"rounds": rows, **medians, "distribution_ms": {side: distribution(pooled[side]) for side in sides}}


def write_result(name: str, result: dict[str, Any]) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


class KeepAliveClient:
    """A minimal HTTP/1.1 client on one keep-alive connection: the load generator shares the machine with
    the server, so it must cost as little CPU as possible (httpx costs about as much as the server)."""

    def __init__(self, port: int, authorization: str = "") -> None:
        self._port = port
        self._authorization = f"Authorization: {authorization}\r\n" if authorization else ""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\nContent-Type: application/json\r\n"
            f"{self._authorization}Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self._writer.write(head + body)
        status_and_headers = await self._reader.readuntil(b"\r\n\r\n")
        lines = status_and_headers.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
        return status, await self._reader.readexactly(length)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class JsonPoster:
    """POSTs JSON to any URL over a pool of keep-alive connections (aiohttp), encoding the body and decoding
    the answer with orjson. The searches' two sides, GraphQL and the direct request to Elasticsearch, both
    send with it: the load generator shares the machine's two cores with what it measures, and a side
    whose client costs more loses that CPU. httpx on the GraphQL side cost 1.7 to 1.9 ms of the load
    generator's CPU a search, the Elasticsearch client on the direct side 1.3 to 1.6 ms, aiohttp 0.7 to
    0.95 ms (2026-12-03, 60 to 80 searches/s)."""

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._headers = {"content-type": "application/json", **(headers or {})}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> JsonPoster:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, url: str, body: object) -> Any:
        """The answer to `body` POSTed to `url`, which must come with status 200."""
        assert self._session is not None, "use it as an async context manager"
        async with self._session.post(url, data=orjson.dumps(body), headers=self._headers) as response:
            answer = orjson.loads(await response.read())
            if response.status != 200:
                raise SystemExit(f"{url} answered {response.status}: {str(answer)[:500]}")
            return answer


def start_twofold(command: str, env: Mapping[str, str], log_name: str) -> subprocess.Popen[bytes]:
    """`twofold <command>` (`serve`, `project`) as a process of its own, with `env`; its output in
    `OUTPUT / log_name`."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with (OUTPUT / log_name).open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "api.cli", command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def start_serve(env: Mapping[str, str], log_name: str) -> subprocess.Popen[bytes]:
    return start_twofold("serve", env, log_name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, server: subprocess.Popen[bytes] | None = None, *, post: bytes | None = None) -> None:
    """Waits until `url` answers 200 (to a GET, or to a JSON POST of `post`), failing if `server` exits."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}; see its log under {OUTPUT}")
        try:
            response = (
                httpx.get(url, timeout=1)
                if post is None
                else httpx.post(url, content=post, headers={"content-type": "application/json"}, timeout=1)
            )
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within 30 s; see the logs under {OUTPUT}")
